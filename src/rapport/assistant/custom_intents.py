"""The workspace's own intents: a few example messages each, and an answer (in the customer's
language where it has one) or an order task to start.

Saving one embeds its examples and tells their languages first, before the unit of work's
first statement. After the shipped model has labelled a customer message, the message is
compared with the enabled intents' examples (nlp/examples.py; examples in another language
than most of an intent's are a group of their own): when it is similar enough to one intent,
that intent becomes the message's, the day's count of that intent goes up, and the assistant
gives its answer or starts its task. A workspace's intents are read at
most every SETTINGS_SECONDS per process (core.recent); the match itself costs no model run
(the shared embedder remembers the message the labels just embedded)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.assistant.dialogue import ACTING_INTENTS, TASK_OF_INTENT, CustomAnswer
from rapport.assistant.errors import CustomIntentNotFound, IntentNameTaken, TooManyIntents
from rapport.assistant.labels import clean, intents_of, models
from rapport.assistant.models import CustomIntent
from rapport.assistant.repository import CustomIntentDayRepository, CustomIntentRepository
from rapport.assistant.schemas import DEFAULT_CONFIDENCE as BUILT_IN_CONFIDENCE
from rapport.assistant.schemas import (
    CustomIntentCheck,
    CustomIntentDayCount,
    CustomIntentList,
    CustomIntentMatches,
    CustomIntentMatchReport,
    CustomIntentRead,
    CustomIntentReport,
    CustomIntentWrite,
)
from rapport.assistant.suggestions import VectorCache
from rapport.core.clock import utcnow
from rapport.core.db import unit_of_work
from rapport.core.recent import SETTINGS_SECONDS, Recent
from rapport.identity.audit import Actor, audit
from rapport.knowledge.embedding import embed, embedder, from_bytes, to_bytes
from rapport.nlp.examples import ExampleIndex, LabelReport, leave_one_out
from rapport.nlp.ports import Vectors
from rapport.support.assistant_desk import MessageLabels

logger = logging.getLogger(__name__)
MAX_INTENTS = 100
# How sure the language detector must be of an example's language for it to count.
SURE_LANGUAGE = 0.9
MATCH_DAYS = 30  # the console's window of match counts; the API takes 1-MAX_MATCH_DAYS
MAX_MATCH_DAYS = 366


@dataclass(frozen=True)
class WorkspaceIntents:
    """A workspace's enabled custom intents as matching sees them."""

    model: str
    index: ExampleIndex
    answers: dict[str, CustomAnswer]
    floors: dict[str, float]
    examples: dict[str, tuple[str, ...]]  # cleaned, as embedded
    translations: dict[str, dict[str, str]]  # by intent: language -> answer

    def answer(self, name: str, language: str) -> CustomAnswer:
        """Return an intent's answer in the message's language when it has one."""
        answer = self.answers[name]
        translated = self.translations[name].get(language)
        return answer if translated is None else dataclasses.replace(answer, text=translated)


@dataclass(frozen=True)
class _Check:
    """How the examples fare against each other, and against the shipped intents."""

    rows: list[LabelReport]
    built_in: dict[str, dict[str, int]]  # by custom intent: shipped intent -> examples


@dataclass(frozen=True)
class _Stored:
    name: str
    answer: CustomAnswer
    translations: dict[str, str]
    min_similarity: float
    examples: tuple[str, ...]
    embedding: bytes | None
    model: str | None
    languages: list[str] | None


# Every customer message reads its workspace's intents: kept a few seconds (core.recent);
# None when the workspace has none on.
_recent: Recent[str, WorkspaceIntents | None] = Recent(SETTINGS_SECONDS)


# Vectors of examples stored under another model than this process's (saved while MiniLM
# was missing, or before a new one), by workspace, model and text.
_reembedded = VectorCache(max_items=10_000)
# The last check per workspace, with the intents it was made from: a check is computed at
# most once per read of the intents (every SETTINGS_SECONDS), however often it is asked for.
_checks: OrderedDict[str, tuple[WorkspaceIntents, _Check]] = OrderedDict()
MAX_CHECKS = 1_000


class CustomIntentService:
    async def listed(self, session: AsyncSession, workspace_id: str) -> CustomIntentList:
        """Return the workspace's custom intents, by name."""
        rows = await CustomIntentRepository(session, workspace_id).listed()
        return CustomIntentList(items=[CustomIntentRead.model_validate(row) for row in rows])

    async def get(
        self, session: AsyncSession, workspace_id: str, intent_id: str
    ) -> CustomIntentRead:
        """Return one custom intent."""
        found = await CustomIntentRepository(session, workspace_id).get(intent_id)
        if found is None:
            raise CustomIntentNotFound("No such custom intent in this workspace.")
        return CustomIntentRead.model_validate(found)

    async def create(
        self, session: AsyncSession, workspace_id: str, body: CustomIntentWrite, actor: Actor
    ) -> CustomIntentRead:
        """Add a custom intent (its examples embedded before the write; audited)."""
        vectors, model, languages = await _embedding(body.examples)
        repository = CustomIntentRepository(session, workspace_id)
        await repository.lock()
        if await repository.counted() >= MAX_INTENTS:
            raise TooManyIntents(f"A workspace has at most {MAX_INTENTS} custom intents.")
        await _name_free(repository, body.name, None)
        intent = await repository.add(
            CustomIntent(
                name=body.name, examples=list(body.examples), answer=body.answer,
                translations=dict(body.translations),
                enabled=body.enabled, hand_off=body.hand_off, task=body.task,
                min_similarity=body.min_similarity, embedding=vectors, embedding_model=model,
                example_languages=languages,
            )
        )  # fmt: skip
        await self._changed(session, workspace_id, "assistant.intent_created", intent, actor)
        return CustomIntentRead.model_validate(intent)

    async def replace(
        self,
        session: AsyncSession,
        workspace_id: str,
        intent_id: str,
        body: CustomIntentWrite,
        actor: Actor,
    ) -> CustomIntentRead:
        """Replace a custom intent's name, examples, answer, task and switches (audited)."""
        vectors, model, languages = await _embedding(body.examples)
        repository = CustomIntentRepository(session, workspace_id)
        await repository.lock()
        intent = await repository.get(intent_id)
        if intent is None:
            raise CustomIntentNotFound("No such custom intent in this workspace.")
        await _name_free(repository, body.name, intent.id)
        intent.name, intent.examples, intent.answer = body.name, list(body.examples), body.answer
        intent.translations = dict(body.translations)
        intent.enabled, intent.hand_off, intent.task = body.enabled, body.hand_off, body.task
        intent.min_similarity = body.min_similarity
        intent.embedding, intent.embedding_model = vectors, model
        intent.example_languages = languages
        intent.updated_at = utcnow()
        await self._changed(session, workspace_id, "assistant.intent_changed", intent, actor)
        return CustomIntentRead.model_validate(intent)

    async def delete(
        self, session: AsyncSession, workspace_id: str, intent_id: str, actor: Actor
    ) -> None:
        """Delete a custom intent (audited); messages keep the intent they were given."""
        repository = CustomIntentRepository(session, workspace_id)
        await repository.lock()
        intent = await repository.get(intent_id)
        if intent is None:
            raise CustomIntentNotFound("No such custom intent in this workspace.")
        await self._changed(session, workspace_id, "assistant.intent_deleted", intent, actor)
        await repository.delete(intent)

    async def report(self, engine: AsyncEngine, workspace_id: str) -> CustomIntentReport:
        """Tell, per enabled intent, how many of its examples the other examples find (each
        left out in turn), which other intents they are mistaken for, and which read as a
        shipped intent the assistant acts on."""
        intents = await current(engine, workspace_id)
        if intents is None:
            return CustomIntentReport(items=[])
        check = await _checked(workspace_id, intents)
        checks = [
            CustomIntentCheck(
                name=row.label, examples=row.examples, min_similarity=intents.floors[row.label],
                matched=row.matched, unmatched=row.unmatched, confused_with=row.confused_with,
                built_in=check.built_in.get(row.label, {}),
            )
            for row in check.rows
        ]  # fmt: skip
        return CustomIntentReport(items=checks)

    async def matches(
        self, session: AsyncSession, workspace_id: str, days: int = MATCH_DAYS
    ) -> CustomIntentMatchReport:
        """Count, per custom intent and day, the customer messages that took it over the
        last `days` days (UTC, today included)."""
        last = utcnow().date()
        first = last - timedelta(days=days - 1)
        window = [first + timedelta(days=offset) for offset in range(days)]
        intents = await CustomIntentRepository(session, workspace_id).listed()
        counted: dict[tuple[str, date], int] = {
            (intent_id, day): matches
            for intent_id, day, matches in await CustomIntentDayRepository(
                session, workspace_id
            ).since(first)
        }
        items = []
        for intent in intents:
            series = [
                CustomIntentDayCount(day=day, matches=counted.get((intent.id, day), 0))
                for day in window
            ]
            total = sum(point.matches for point in series)
            items.append(
                CustomIntentMatches(intent_id=intent.id, name=intent.name, total=total, days=series)
            )
        return CustomIntentMatchReport(first_day=first, last_day=last, items=items)

    async def relabel(
        self, engine: AsyncEngine, workspace_id: str, text: str, labels: MessageLabels
    ) -> tuple[MessageLabels, CustomAnswer | None]:
        """Give a customer message the workspace's own intent when it is similar enough to
        one; return the labels and that intent's answer. Never raises: a failure
        leaves the shipped model's labels (no unit of work is held while it embeds)."""
        cleaned = clean(text)
        if not any(character.isalnum() for character in cleaned):
            return labels, None
        try:
            intents = await current(engine, workspace_id)
            if intents is None:
                return labels, None
            vectors, model = await embed([cleaned])
            found = model == intents.model
            match = intents.index.match(vectors[0], floors=intents.floors) if found else None
        except Exception as error:  # the shipped model's labels beat no turn at all
            logger.warning("custom intents not matched", extra={"error": type(error).__name__})
            return labels, None
        if match is None:
            return labels, None
        confidence = round(match.similarity, 4)
        matched = dataclasses.replace(labels, intent=match.label, intent_confidence=confidence)
        return matched, intents.answer(match.label, labels.language)

    async def _changed(
        self,
        session: AsyncSession,
        workspace_id: str,
        action: str,
        intent: CustomIntent,
        actor: Actor,
    ) -> None:
        _recent.forget_on_commit(session, workspace_id)
        await audit.record(
            session, action, actor, workspace_id=workspace_id, target_type="custom_intent",
            target_id=intent.id,
            details={"name": intent.name, "examples": len(intent.examples), "task": intent.task},
        )  # fmt: skip


async def current(engine: AsyncEngine, workspace_id: str) -> WorkspaceIntents | None:
    """Return the workspace's enabled intents as read within the last SETTINGS_SECONDS (a
    unit of work of their own, closed before any example is embedded)."""

    async def read() -> WorkspaceIntents | None:
        async with unit_of_work(engine) as session:
            rows = await CustomIntentRepository(session, workspace_id).listed(enabled_only=True)
            stored = [_stored(row) for row in rows]
        return await _indexed(workspace_id, stored) if stored else None

    return await _recent.load(workspace_id, read)


async def _checked(workspace_id: str, intents: WorkspaceIntents) -> _Check:
    kept = _checks.get(workspace_id)
    if kept is not None and kept[0] is intents:
        return kept[1]
    # A second or two of CPU at the largest (5,000 examples): not on the event loop.
    check = await asyncio.to_thread(_check, intents)
    _checks[workspace_id] = (intents, check)
    _checks.move_to_end(workspace_id)
    while len(_checks) > MAX_CHECKS:
        _checks.popitem(last=False)
    return check


def _check(intents: WorkspaceIntents) -> _Check:
    rows = leave_one_out(intents.index, floors=intents.floors)
    return _Check(rows, {name: _built_in(intents, name) for name in intents.examples})


def _built_in(intents: WorkspaceIntents, name: str) -> dict[str, int]:
    """Count the intent's examples the shipped model reads, as confidently as the assistant's
    default needs, as one of the intents it acts on (an order task, asking for a person, a
    complaint), by that intent; those of the intent's own task are fine."""
    texts = intents.examples[name]
    vectors = intents.index.vectors_of(name)
    own = intents.answers[name].task
    found = Counter(
        prediction.label
        for prediction in intents_of(texts, vectors, intents.model)
        if not prediction.out_of_scope
        and prediction.confidence >= BUILT_IN_CONFIDENCE
        and prediction.label in ACTING_INTENTS
        and (own is None or TASK_OF_INTENT.get(prediction.label) != own)
    )
    return dict(sorted(found.items()))


async def _indexed(workspace_id: str, stored: Sequence[_Stored]) -> WorkspaceIntents:
    model = (await asyncio.to_thread(embedder)).name
    labels: list[str] = []
    groups: list[str] = []
    blocks: list[Vectors] = []
    for item in stored:
        if item.embedding is not None and item.model == model:
            vectors = from_bytes(item.embedding).reshape(len(item.examples), -1)
        else:
            vectors = await _vectors_under(workspace_id, model, item.examples)
        labels.extend([item.name] * len(item.examples))
        languages = item.languages or []
        known = len(languages) == len(item.examples)
        groups.extend(language_groups(languages if known else [""] * len(item.examples)))
        blocks.append(vectors)
    answers = {item.name: item.answer for item in stored}
    translations = {item.name: dict(item.translations) for item in stored}
    floors = {item.name: item.min_similarity for item in stored}
    examples = {item.name: tuple(clean(example) for example in item.examples) for item in stored}
    index = ExampleIndex(labels, np.vstack(blocks), groups)
    return WorkspaceIntents(model, index, answers, floors, examples, translations)


async def _vectors_under(workspace_id: str, model: str, examples: Sequence[str]) -> Vectors:
    """Return the examples' vectors under this process's model, embedding those not seen."""
    texts = [clean(example) for example in examples]
    keys = [_reembedded.key(workspace_id, model, text) for text in texts]
    found = [_reembedded.get(key) for key in keys]
    missing = [position for position, vector in enumerate(found) if vector is None]
    if missing:
        computed, _ = await embed([texts[position] for position in missing])
        for position, vector in zip(missing, computed, strict=True):
            found[position] = vector
            _reembedded.put(keys[position], vector)
    return np.stack([vector for vector in found if vector is not None])


def _stored(row: CustomIntent) -> _Stored:
    return _Stored(
        row.name, CustomAnswer(row.answer, row.hand_off, row.task, row.id), row.translations or {},
        row.min_similarity, tuple(row.examples),
        row.embedding, row.embedding_model, row.example_languages,
    )  # fmt: skip


async def _embedding(examples: Sequence[str]) -> tuple[bytes, str, list[str]]:
    """Embed the examples as messages are (cleaned), and tell each one's language where the
    detector is sure of it, before any statement of the unit."""
    texts = [clean(example) for example in examples]
    vectors, model = await embed(texts)
    return to_bytes(vectors), model, await asyncio.to_thread(_languages, texts)


def _languages(texts: Sequence[str]) -> list[str]:
    detector = models().language
    found = (detector.detect(text) for text in texts)
    return [item.language if item.confidence >= SURE_LANGUAGE else "" for item in found]


def language_groups(languages: Sequence[str]) -> list[str]:
    """Group an intent's examples: those surely in another language than most of the sure
    ones form a group per language; the rest (that language, and examples too short to
    tell) one group ("")."""
    sure = Counter(language for language in languages if language)
    main = sure.most_common(1)[0][0] if sure else ""
    return [language if language and language != main else "" for language in languages]


async def _name_free(repository: CustomIntentRepository, name: str, intent_id: str | None) -> None:
    found = await repository.named(name)
    if found is not None and found.id != intent_id:
        raise IntentNameTaken(f"Another custom intent is already named {name}.")


custom_intents = CustomIntentService()
