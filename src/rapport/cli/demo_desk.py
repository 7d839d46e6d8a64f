"""Plausible support conversations for the demo history, written as the desk records them:
the conversation, its first messages, its metric events (support/metrics.py) and the survey
answers that followed. Plain rows, made from a seeded random generator (no database)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapport.core.crypto import keyring
from rapport.core.ids import new_id
from rapport.support.enums import AuthorType, Channel, ConversationStatus, MetricKind, Priority
from rapport.support.messages import body_aad

CHANNELS = (Channel.chat, Channel.email, Channel.sms, Channel.api)
CHANNEL_WEIGHTS = (45, 30, 10, 15)
# What customers write about, each in several voices (calm, upset, pleased; some in French,
# German or Spanish), so the history's labels show what live ones do. The topic is drawn from
# the conversation's generator, the wording from one of its own (the rest of the history stays
# what it was).
TOPICS = (
    (
        "Where is my parcel?",
        "Hi, could you tell me when order 4512 will arrive?",
        "It's been two weeks and my order still hasn't arrived. This is ridiculous.",
        "Tracking hasn't moved in five days, I'm getting worried.",
        "Où en est ma commande ? Je l'attends depuis lundi.",
        "Wo ist mein Paket? Die Sendungsverfolgung zeigt nichts an.",
    ),
    (
        "Can I change the delivery address?",
        "I moved last week, please send my order to my new address.",
        "I typed the wrong street, can you fix the shipping address before it ships?",
        "¿Puedo cambiar la dirección de envío de mi pedido?",
    ),
    (
        "I'd like to return a pair of shoes.",
        "The jacket is too small, how do I send it back for a refund?",
        "The mug arrived broken. Awful packaging, I want my money back.",
        "Love the dress but it doesn't fit, can I exchange it for a bigger size?",
        "Je voudrais retourner ces chaussures, elles sont trop petites.",
    ),
    (
        "My discount code does not work.",
        "The code from your newsletter says it has expired, but it's valid until Sunday.",
        "Your checkout keeps rejecting my voucher. Very frustrating.",
    ),
    (
        "Was I charged twice?",
        "I see two payments for the same order on my card statement.",
        "You took my money twice and nobody answers my emails. Unacceptable!",
        "Thanks for the quick delivery! Just one thing: can I get an invoice for my company?",
        "Great shop, I'd love to know if you accept PayPal.",
    ),
)
# When the assistant hands a conversation of each topic off: the intent its message has and
# the reasons, likeliest first (it can track orders and change addresses, but knows nothing
# of discount codes and has no answer for payment questions).
HANDOFFS = (
    ("track_order", ("asked_for_human", "negative_sentiment", "not_verified")),
    ("change_shipping_address", ("asked_for_human", "action_failed", "not_verified")),
    ("get_refund", ("negative_sentiment", "asked_for_human", "complaint")),
    ("out_of_scope", ("low_confidence", "out_of_scope")),
    ("payment_issue", ("no_answer", "negative_sentiment", "asked_for_human")),
)
CSAT_FAST, CSAT_SLOW = (2, 3, 8, 30, 57), (8, 10, 14, 33, 35)
NPS_FAST = (2, 1, 1, 2, 2, 3, 4, 6, 14, 25, 40)
NPS_SLOW = (4, 3, 3, 4, 4, 6, 8, 12, 16, 18, 22)
CES_WEIGHTS = (30, 30, 18, 10, 6, 4, 2)
ANSWER = "Thanks for writing! I've looked into it and sorted it out for you."


@dataclass(frozen=True)
class Staffing:
    """Who works the demo desk (teams by id, each with its agents' staff ids) and the
    survey its customers answer, by kind (nps, csat, ces)."""

    teams: dict[str, list[str]]
    surveys: dict[str, str]


@dataclass
class Drafted:
    """One conversation's rows."""

    conversation: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)


def conversation_id(workspace_id: str, number: int, age: timedelta) -> str:
    """Return the demo conversation opened `age` before the demo was seeded: the same on
    every run (so a second run adds none), and sorting among the others as ids made when it
    opened would (the inbox lists the newest first): a UUIDv7 whose time is the workspace's
    creation (its own id's) less `age`, and whose other bits come from a hash."""
    created = int(workspace_id[:12], 16)
    milliseconds = max(0, created - int(age.total_seconds() * 1000))
    digest = _digest(workspace_id, number)
    fraction = int.from_bytes(digest[:2], "big") & 0x0FFF
    tail = int.from_bytes(digest[2:10], "big") >> 2 | 0x2 << 62
    return f"{milliseconds:012x}7{fraction:03x}{tail:016x}"


def legacy_conversation_id(workspace_id: str, number: int) -> str:
    """Return the id demo conversation `number` had when seeded before 2026-12-04 (a plain
    hash), so a database seeded then is not given its conversations twice."""
    return _digest(workspace_id, number).hex()[:32]


def _digest(workspace_id: str, number: int) -> bytes:
    return hashlib.sha256(f"{workspace_id}:demo-conversation:{number}".encode()).digest()


class DeskDraft:
    """Draft demo conversation `number`, opened at `start` (before `now`)."""

    def __init__(
        self, workspace_id: str, number: int, start: datetime, now: datetime, staffing: Staffing
    ) -> None:
        self.random = random.Random(f"demo-desk-{number}")  # noqa: S311 (demo data, not secrets)
        self.workspace_id, self.number, self.start, self.now = workspace_id, number, start, now
        self.channel = self.random.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        self.team_id = self.random.choice(sorted(staffing.teams))
        self.agents, self.surveys = staffing.teams[self.team_id], staffing.surveys
        self.id = conversation_id(workspace_id, number, now - start)
        self.drafted = Drafted({})
        self.topic = 0  # which of TOPICS the customer writes about, once drafted

    def event(self, kind: MetricKind, at: datetime, since: datetime | None, **data: Any) -> None:
        """Add a metric event as support/metrics.py records it."""
        seconds = None if since is None else (at - since).total_seconds()
        staff_id = data.pop("staff_id", None)
        self.drafted.events.append(
            {
                "workspace_id": self.workspace_id, "conversation_id": self.id, "kind": kind,
                "seconds": seconds, "staff_id": staff_id, "channel": self.channel,
                "team_id": self.team_id, "data": data, "created_at": at,
            }
        )  # fmt: skip

    def message(self, author_type: AuthorType, author: str, text: str, at: datetime) -> None:
        """Add a message, sealed to its row like every stored body."""
        message_id = new_id()
        self.drafted.messages.append(
            {
                "id": message_id, "workspace_id": self.workspace_id, "conversation_id": self.id,
                "author_type": author_type, "author": author, "private": False,
                "body": keyring().encrypt(text, body_aad(message_id)), "mentions": [],
                "seq": len(self.drafted.messages) + 1, "created_at": at,
            }
        )  # fmt: skip

    def draft(self, customer_id: str) -> Drafted:
        """Return the conversation's rows: open, handled by the assistant, abandoned, or
        answered and resolved (some escalated, some reopened)."""
        self.drafted = Drafted(self._conversation(customer_id))
        topic = self.random.choice(TOPICS)
        self.topic = TOPICS.index(topic)
        wording = random.Random(f"demo-wording-{self.number}")  # noqa: S311 (demo data)
        question = wording.choice(topic)
        self.message(AuthorType.customer, f"customer:{customer_id}", question, self.start)
        age = self.now - self.start
        roll = self.random.random()
        if age < timedelta(hours=6):
            self._still_open()
        elif self.channel == Channel.chat and roll < 0.3:
            self._assistant()
        elif self.channel == Channel.chat and roll < 0.38:
            self._abandoned()
        else:
            self._answered()
        if self._latest() >= self.now:  # opened late and not finished yet: still waiting
            self.drafted = Drafted(self._conversation(customer_id), self.drafted.messages[:1])
            self._still_open()
        return self.drafted

    def _latest(self) -> datetime:
        rows = (*self.drafted.events, *self.drafted.messages)
        moments: list[datetime] = [row["created_at"] for row in rows]
        moments += [row["answered_at"] for row in self.drafted.answers]
        return max(moments)

    def _conversation(self, customer_id: str) -> dict[str, Any]:
        return {
            "id": self.id, "workspace_id": self.workspace_id, "channel": self.channel,
            "status": ConversationStatus.resolved, "priority": Priority.normal,
            "priority_reason": "", "priority_overridden": False, "customer_id": customer_id,
            "assignee_id": None, "team_id": self.team_id, "tags": ["demo"], "attributes": {},
            "created_at": self.start, "updated_at": self.start, "cycle_started_at": self.start,
            "awaiting_reply_since": None, "last_message_at": self.start, "message_seq": 1,
            "skills": [],
        }  # fmt: skip

    def _still_open(self) -> None:
        conversation = self.drafted.conversation
        conversation["status"] = ConversationStatus.open
        conversation["awaiting_reply_since"] = self.start
        if self.random.random() < 0.5:
            conversation["assignee_id"] = self.random.choice(self.agents)

    def _assistant(self) -> None:
        """The assistant answers; it resolves alone (contained) or hands off to an agent."""
        answered = self.start + timedelta(seconds=self.random.randint(3, 20))
        self.message(AuthorType.assistant, "assistant", ANSWER, answered)
        if self.random.random() < 0.6:
            ended = answered + timedelta(minutes=self.random.randint(1, 8))
            self.event(MetricKind.resolution, ended, self.start, by_assistant_alone=True,
                       handed_off=False, agent_replies=0, escalated=False)  # fmt: skip
            self.event(MetricKind.bot_resolved, ended, self.start)
            self._ended(ended)
            self._survey(ended, None, fast=True)
            return
        handed = answered + timedelta(minutes=self.random.randint(1, 5))
        intent, reasons = HANDOFFS[self.topic]
        why = random.Random(f"demo-handoff-{self.number}")  # noqa: S311 (demo data)
        reason = why.choices(reasons, weights=range(len(reasons), 0, -1))[0]
        self.event(MetricKind.handoff, handed, self.start, reason=reason, intent=intent)
        self._answered(handed)

    def _abandoned(self) -> None:
        ended = self.start + timedelta(minutes=self.random.randint(2, 15))
        self.drafted.conversation["status"] = ConversationStatus.closed
        self.event(MetricKind.closed, ended, self.start)
        self.event(MetricKind.abandoned, ended, self.start)
        self._ended(ended)

    def _answered(self, handed_off: datetime | None = None) -> None:
        """An agent takes it, replies, maybe passes it on, and resolves it."""
        agent = self.random.choice(self.agents)
        began = handed_off or self.start
        taken = began + timedelta(minutes=self.random.randint(0, 20))
        wait = {Channel.chat: 4, Channel.sms: 30, Channel.api: 60, Channel.email: 180}
        first = taken + timedelta(minutes=self.random.expovariate(1 / wait[self.channel]))
        self.message(AuthorType.agent, f"staff:{agent}", ANSWER, first)
        self.event(MetricKind.first_response, first, began, staff_id=agent,
                   from_hand_off=handed_off is not None)  # fmt: skip
        self.event(MetricKind.reply, first, began, staff_id=agent)
        replies, last, escalated = 1, first, False
        if self.random.random() < 0.12:
            other = self.random.choice([name for name in self.agents if name != agent] or [agent])
            moved = first + timedelta(minutes=self.random.randint(5, 90))
            self.event(MetricKind.handle, moved, taken, staff_id=agent)
            self.event(MetricKind.escalation, moved, None, staff_id=other, from_agent=True,
                       from_team=False)  # fmt: skip
            agent, taken, escalated = other, moved, True
        if escalated or self.random.random() < 0.35:
            asked = last + timedelta(minutes=self.random.randint(5, 240))
            last = asked + timedelta(minutes=self.random.expovariate(1 / wait[self.channel]))
            self.event(MetricKind.reply, last, asked, staff_id=agent)
            replies += 1
        resolved = last + timedelta(minutes=self.random.randint(2, 600))
        self._resolve(agent, taken, resolved, replies, escalated, handed_off is not None)
        self.drafted.conversation["assignee_id"] = agent
        self._survey(resolved, agent, fast=first - began < timedelta(hours=1))
        if self.random.random() < 0.08 and resolved + timedelta(days=1) < self.now:
            self._reopen(agent, resolved)

    def _resolve(self, agent: str, taken: datetime, at: datetime, replies: int,
                 escalated: bool, handed_off: bool) -> None:  # fmt: skip
        began = self.drafted.conversation["cycle_started_at"]
        self.event(MetricKind.handle, at, taken, staff_id=agent)
        self.event(MetricKind.resolution, at, began, staff_id=agent, by_assistant_alone=False,
                   handed_off=handed_off, agent_replies=replies, escalated=escalated)  # fmt: skip
        self._ended(at)

    def _reopen(self, agent: str, resolved: datetime) -> None:
        """The customer writes again a few days later: a new cycle, answered and resolved."""
        again = resolved + timedelta(hours=self.random.randint(6, 120))
        if again + timedelta(hours=30) >= self.now:
            return
        self.event(MetricKind.reopen, again, None, reopened_from="resolved")
        self.drafted.conversation["cycle_started_at"] = again
        answered = again + timedelta(minutes=self.random.randint(5, 300))
        self.event(MetricKind.reply, answered, again, staff_id=agent)
        ended = answered + timedelta(minutes=self.random.randint(5, 600))
        self._resolve(agent, again, ended, 1, False, False)

    def _ended(self, at: datetime) -> None:
        self.drafted.conversation["updated_at"] = at
        self.drafted.conversation["last_message_at"] = self.drafted.messages[-1]["created_at"]
        self.drafted.conversation["message_seq"] = len(self.drafted.messages)

    def _survey(self, after: datetime, agent: str | None, *, fast: bool) -> None:
        """Some customers answer CSAT, NPS or CES within a day (happier when answered fast)."""
        at = after + timedelta(minutes=self.random.randint(5, 1200))
        if at >= self.now:
            return
        roll = self.random.random()
        if roll < 0.4:
            csat = CSAT_FAST if fast else CSAT_SLOW
            self._answer("csat", self.random.choices(range(1, 6), csat)[0], at, agent)
        elif roll < 0.6:
            weights = NPS_FAST if fast else NPS_SLOW
            self._answer("nps", self.random.choices(range(11), weights)[0], at, agent)
        elif roll < 0.75:
            self._answer("ces", self.random.choices(range(1, 8), CES_WEIGHTS)[0], at, agent)

    def _answer(self, kind: str, score: int, at: datetime, agent: str | None) -> None:
        key = f"{self.workspace_id}:demo-answer:{self.number}:{kind}"
        self.drafted.answers.append(
            {
                "kind": kind, "score": score, "answered_at": at, "origin": "import",
                "survey_id": self.surveys.get(kind),
                "channel": str(self.channel), "conversation_id": self.id,
                "team_id": self.team_id, "staff_id": agent,
                "customer_id": self.drafted.conversation["customer_id"],
                "dedupe_key": hashlib.sha256(key.encode()).hexdigest(), "topics": [],
            }
        )  # fmt: skip
