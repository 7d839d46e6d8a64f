"""Agent assist: replies suggested for the customer's last message in a conversation, from
what agents of the workspace answered to similar questions, its canned responses (filled
for the conversation), its best knowledge article and the facts of a product it names.

The work runs in steps so no transaction waits on the model: one unit of work reads (the
conversation as the caller may see it, past answers, canned responses), the vectors are
computed with no connection held, a short unit asks the product fact sheets with the
question's vector, and a last unit searches the articles (the query is embedded before its
first statement) and fills the chosen canned response."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rapport.assistant.suggestion_schemas import SuggestedReplies, SuggestedReply, SuggestionKind
from rapport.core.db import Database
from rapport.core.ratelimit import RateLimiter
from rapport.knowledge.embedding import embed
from rapport.knowledge.products import product_sheets
from rapport.knowledge.search import refresh_stale
from rapport.knowledge.service import search as search_articles
from rapport.nlp.pii import mask_pii
from rapport.nlp.ports import Vectors
from rapport.support.answered import AnsweredQuestion, reply_history
from rapport.support.canned import canned_responses
from rapport.support.schemas import Acting
from rapport.support.service import conversations

MAX_SUGGESTIONS = 3
MAX_QUESTION_CHARS = 1_000
# Cosine (MiniLM) an earlier question must reach to lend its answer, and a canned response
# (title and text) to be offered; an article's combined search score (0..1).
PAST_MIN = 0.55
CANNED_MIN = 0.3
ARTICLE_MIN = 0.2
# A product fact's score (knowledge/product_search.py): the assistant's own bar for answering
# with one, since a fact of the wrong product misleads more than a loosely related article.
FACT_MIN = 0.5
PAST_SUGGESTIONS = 2
# Canned responses compared a request (the caller's first by shortcut).
MAX_CANNED = 200
_GREETING_NAME = re.compile(
    r"^(\s*(?i:hi|hello|hey|dear|hallo|bonjour|hola|ciao|ol\u00e1|ola)(?:\s+again)?),?\s+"
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Herr|Frau|Mme|Sr|Sra)\.?\s+)?"
    r"[A-Z\u00c0-\u00de][\w'\u2019-]*(?:[ \t]+[A-Z\u00c0-\u00de][\w'\u2019-]*)?"
)
_LONG_NUMBER = re.compile(r"#?\b\d{4,}\b")
# Another customer's links (a query, a fragment or a digit in the path: order pages, tokens)
# and references mixing letters and digits (tracking codes, order and voucher codes).
_LINK = re.compile(r"\bhttps?://([^\s/?#]+)([^\s]*[^\s.,;:!?)\]])?")
_REFERENCE = re.compile(r"\b(?=\w*\d)(?=\w*[^\W\d_])\w{5,}\b")


@dataclass(frozen=True)
class _Canned:
    id: str
    title: str
    text: str


class VectorCache:
    """Vectors of texts embedded before, per workspace (least recently used forgotten)."""

    def __init__(self, max_items: int = 5_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[str, str, str], Vectors] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(workspace_id: str, model: str, text: str) -> tuple[str, str, str]:
        """Return a text's key (its hash: the cache keeps no text)."""
        return workspace_id, model, hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: tuple[str, str, str]) -> Vectors | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, str], vector: Vectors) -> None:
        with self._lock:
            self._items[key] = vector
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


cache = VectorCache()
# Texts one workspace may have embedded: a first request (300 earlier questions and up to 200
# canned responses) at once, then 10 a second; past that, suggestions use what is cached.
EMBED_RATE = 10.0
EMBED_BURST = 1_000
EMBED_CHUNK = 32
embed_budget = RateLimiter(EMBED_RATE, EMBED_BURST)


class ReplySuggester:
    async def suggest(
        self,
        database: Database,
        workspace_id: str,
        conversation_id: str,
        acting: Acting,
        *,
        link_base: str = "",
    ) -> SuggestedReplies:
        """Suggest up to three replies to the customer's last message of a conversation the
        caller may see (not found otherwise, as the conversation itself)."""
        async with database.session() as session:
            seen = await conversations.get(session, workspace_id, conversation_id, acting)
            asked = await reply_history.last_question(session, workspace_id, seen.id)
            if asked is None or not asked.body.strip():
                return SuggestedReplies(conversation_id=conversation_id, message_id=None, items=[])
            answered = await reply_history.answered(
                session, workspace_id, acting, exclude_conversation_id=conversation_id
            )
            usable = await canned_responses.list(session, workspace_id, acting)
            # A bounded number of texts to embed a request, however many canned responses an
            # agent writes (each one is a model run the first time it is seen).
            canned = [_Canned(c.id, c.title, c.body) for c in usable[:MAX_CANNED]]
        message_id, question = asked.id, asked.body[:MAX_QUESTION_CHARS]
        found = await _by_similarity(workspace_id, question, answered, canned)
        language = seen.detected_language if seen.detected_language != "und" else None
        await refresh_stale()  # sheets met with another model's vectors, before the unit
        async with database.session() as session:
            embedded = (found.question, found.model)
            facts = await product_sheets.answer(
                session, workspace_id, question, locale=language, embedded=embedded
            )
        async with database.session() as session:
            hits = await search_articles(session, workspace_id, question, limit=1)
            items = list(found.past)
            if found.canned is not None:
                chosen, score = found.canned
                conversation = await conversations.get(
                    session, workspace_id, conversation_id, acting
                )
                usable_one = await canned_responses.get(session, workspace_id, chosen.id, acting)
                text = await canned_responses.fill_for(session, usable_one, conversation, acting)
                items.append(
                    _reply(SuggestionKind.canned_response, chosen.title, text, score, chosen.id)
                )
        for hit in hits:
            if hit.score >= ARTICLE_MIN:
                link = link_base.rstrip("/") + hit.url
                text = f"{hit.snippet}\n\n{hit.title}: {link}"
                items.append(
                    _reply(SuggestionKind.article, hit.title, text, hit.score, hit.article_id, link)
                )
        for fact in facts:
            if fact.score >= FACT_MIN:
                text = f"{fact.title}: {fact.snippet}" + (f"\n\n{fact.url}" if fact.url else "")
                kind = SuggestionKind.product_fact
                items.append(
                    _reply(kind, fact.title, text, fact.score, fact.product_key, fact.url or None)
                )
        items.sort(key=lambda item: -item.score)
        return SuggestedReplies(
            conversation_id=conversation_id, message_id=message_id, items=items[:MAX_SUGGESTIONS]
        )


@dataclass(frozen=True)
class _Found:
    past: list[SuggestedReply]
    canned: tuple[_Canned, float] | None
    question: Vectors  # the question's vector, and the model that made it
    model: str


async def _by_similarity(
    workspace_id: str,
    question: str,
    answered: Sequence[AnsweredQuestion],
    canned: Sequence[_Canned],
) -> _Found:
    """Rank earlier questions and canned responses by cosine to the question (no unit held)."""
    texts = [question, *(a.question[:MAX_QUESTION_CHARS] for a in answered)]
    texts += [f"{c.title}. {c.text}"[:MAX_QUESTION_CHARS] for c in canned]
    vectors, model = await _vectors(workspace_id, texts)
    query, rest = vectors[0], vectors[1:]
    past_scores = rest[: len(answered)] @ query if answered else np.zeros(0)
    canned_scores = rest[len(answered) :] @ query if canned else np.zeros(0)
    past: list[SuggestedReply] = []
    seen: set[str] = set()
    for position in np.argsort(-past_scores, kind="stable"):
        score = float(past_scores[position])
        if score < PAST_MIN or len(past) == PAST_SUGGESTIONS:
            break
        source = answered[int(position)]
        text = _impersonal(source.answer)
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        title = source.question[:80] + ("…" if len(source.question) > 80 else "")
        past.append(
            _reply(SuggestionKind.past_reply, _impersonal(title), text, score, source.answer_id)
        )
    best = None
    if canned:
        position = int(np.argmax(canned_scores))
        if float(canned_scores[position]) >= CANNED_MIN:
            best = (canned[position], float(canned_scores[position]))
    return _Found(past, best, query, model)


async def _vectors(workspace_id: str, texts: Sequence[str]) -> tuple[Vectors, str]:
    """Return unit vectors of the texts and the model's name, embedding only those not seen
    before and only as many as the workspace's budget allows (the others are zero: not
    suggested this time)."""
    probe, model = await embed([texts[0]])
    keys = [cache.key(workspace_id, model, text) for text in texts]
    found = [cache.get(key) for key in keys]
    found[0] = probe[0]
    missing = _budgeted(workspace_id, [i for i, vector in enumerate(found) if vector is None])
    if missing:
        computed, _ = await embed([texts[i] for i in missing])
        for i, vector in zip(missing, computed, strict=True):
            found[i] = vector
            cache.put(keys[i], vector)
    zero = np.zeros_like(np.asarray(probe[0], dtype=np.float32))
    stacked = np.stack([zero if v is None else np.asarray(v, dtype=np.float32) for v in found])
    norms = np.linalg.norm(stacked, axis=1, keepdims=True)
    return (stacked / np.where(norms == 0, 1, norms)).astype(np.float32), model


def _budgeted(workspace_id: str, missing: list[int]) -> list[int]:
    """Return the first of the missing texts the workspace may have embedded now, a chunk at
    a time from its token bucket: one tenant writing new texts all the time (or thrashing
    the shared cache) costs the process at most EMBED_RATE model runs a second."""
    granted = 0
    while granted < len(missing):
        step = min(EMBED_CHUNK, len(missing) - granted)
        if embed_budget.take(workspace_id, step):
            break
        granted += step
    return missing[:granted]


def _impersonal(text: str) -> str:
    """Take another customer's details out of an earlier reply: emails, phone and card
    numbers, links with a query or a number in them, references mixing letters and digits
    (tracking and order codes), long numbers (orders) and the name after a greeting."""
    # Links first: masked inside, someone's order page would look like a plain page.
    masked = _LINK.sub(_public_link, text)
    masked = mask_pii(masked, emails=True, phones=True)
    masked = _REFERENCE.sub("[reference]", masked)
    masked = _LONG_NUMBER.sub("[number]", masked)
    return _GREETING_NAME.sub(r"\1", masked).strip()


def _public_link(match: re.Match[str]) -> str:
    """Keep a plain page's link (a shop's returns page); a query, a fragment or a digit after
    the host makes it someone's own (an order page, a tracking or sign-in token)."""
    rest = match.group(2) or ""
    return "[link]" if re.search(r"[?#\d]", rest) else match.group()


def _reply(
    kind: SuggestionKind,
    title: str,
    text: str,
    score: float,
    source_id: str,
    url: str | None = None,
) -> SuggestedReply:
    return SuggestedReply(
        kind=kind, title=title, text=text, score=round(max(0.0, min(1.0, score)), 4),
        source_id=source_id, url=url,
    )  # fmt: skip


suggester = ReplySuggester()
