"""The dialogue's state and what one turn decided, plus reading slots out of a message."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from rapport.assistant.enums import HandoffReason

# An order number: a token with at least three digits (`1001`, `#1001`, `DEMO-1001`).
_ORDER = re.compile(r"(?<![\w@.-])#?([A-Za-z]{0,8}-?\d{3,20}(?:-\d{1,10})?)(?![\w@-])")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
# The words below are English, French, German and Spanish (the languages the assistant
# speaks, replies.py), with the spellings phones produce (no accents).
YES = frozenset(
    {"yes", "y", "yeah", "yep", "yup", "confirm", "confirmed", "sure", "ok", "okay",
     "go ahead", "please do", "do it", "yes please", "oui", "si", "sí", "ja", "sim",
     "oui merci", "oui svp", "oui s'il vous plaît", "oui s'il vous plait", "d'accord",
     "je confirme", "confirmer", "ja bitte", "ja gerne", "bestätigen", "bestaetigen",
     "sí por favor", "si por favor", "claro", "vale", "confirmo", "de acuerdo"}
)  # fmt: skip
QUESTION_MARKS = "?\u00bf\uff1f"  # ?, ¿ and the full-width one
NO = frozenset(
    {"no", "n", "nope", "nah", "don't", "dont", "do not", "stop", "keep it", "no thanks",
     "non", "nein", "não", "nao", "non merci", "nein danke", "no gracias"}
)  # fmt: skip
# The first word of an answer that declines, whatever follows.
NEGATIONS = frozenset({"no", "nope", "nah", "don't", "dont", "non", "nein", "não", "nao"})
DONE = frozenset(
    {"no", "nope", "no thanks", "no thank you", "thanks", "thank you", "thx", "that's all",
     "thats all", "that is all", "all good", "bye", "goodbye", "nothing else", "all set",
     "perfect thanks", "great thanks", "ok thanks", "ok thank you",
     "merci", "non merci", "c'est tout", "rien d'autre", "au revoir",
     "danke", "nein danke", "das war's", "das wars", "das ist alles", "tschüss", "tschuess",
     "gracias", "no gracias", "eso es todo", "nada más", "nada mas", "adiós", "adios"}
)  # fmt: skip
# A message made only of these words, one of them a farewell, is done too: "Thanks, that's
# all!", "ok great, thank you so much", "no that's everything, bye", "non merci, c'est
# tout", "nein danke, das war's", "muchas gracias, eso es todo".
DONE_WORDS = frozenset(
    {"no", "nope", "ok", "okay", "great", "perfect", "thanks", "thank", "you", "thx", "so",
     "very", "much", "that's", "thats", "that", "is", "was", "all", "everything", "good",
     "bye", "goodbye", "nothing", "else", "set", "cheers", "awesome", "lovely", "super",
     "non", "merci", "beaucoup", "c'est", "tout", "rien", "d'autre", "parfait", "génial",
     "au", "revoir", "bonne", "journée", "journee",
     "nein", "danke", "vielen", "dank", "schön", "das", "war's", "wars", "ist", "alles",
     "perfekt", "prima", "tschüss", "tschuess",
     "gracias", "muchas", "eso", "es", "todo", "nada", "más", "mas", "perfecto", "genial",
     "vale", "adiós", "adios"}
)  # fmt: skip
FAREWELLS = frozenset(
    {"thanks", "thank", "thx", "all", "everything", "bye", "goodbye", "cheers",
     "merci", "tout", "revoir", "danke", "dank", "alles", "tschüss", "tschuess",
     "gracias", "todo", "adiós", "adios"}
)  # fmt: skip
HUMAN_WORDS = re.compile(
    r"\b(human|real person|a person|an agent|live agent|someone real|representative|"
    r"talk to (?:a|an|some)one|speak to (?:a|an|some)one|operator|"
    r"un humain|une vraie personne|une personne r[ée]elle|un conseiller|une conseill[èe]re|"
    r"parler [àa] quelqu'un|"
    r"einem menschen|einen menschen|echten person|echte person|mitarbeiter sprechen|"
    r"mit jemandem sprechen|"
    r"un humano|una persona real|un agente|un asesor|hablar con alguien)\b"
)


@dataclass
class DialogueState:
    """What the assistant remembers between turns of one conversation."""

    awaiting: str | None = None  # order_number, email, address, confirmation, anything_else
    task: str | None = None  # order_status or an ActionKind
    order: str | None = None
    email: str | None = None
    address: str | None = None
    pending: dict[str, Any] | None = None  # the action the customer is asked to confirm
    clarified: bool = False
    out_of_scope: int = 0
    failed_checks: int = 0
    language: str | None = None  # the language it answers in (replies.SPOKEN), English first
    done: list[str] = field(default_factory=list)  # "<task>:<order>" shown or run, latest last

    def dump(self) -> str:
        """Serialise to JSON."""
        return json.dumps(asdict(self))

    @classmethod
    def load(cls, text: str) -> DialogueState:
        """Read a state serialised by `dump` (unknown keys ignored)."""
        data = json.loads(text)
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def finish_task(self) -> None:
        """Forget the task and its answers; the order and email talked about stay for the
        next task (verified again there)."""
        self.task = self.address = self.pending = None
        self.awaiting = "anything_else"


@dataclass
class Outcome:
    """What one turn decided: replies, an action run, a hand-off, a resolution."""

    replies: list[str] = field(default_factory=list)
    handoff: HandoffReason | None = None
    resolve: bool = False
    action: str | None = None
    answered: bool = False

    def say(self, text: str) -> Outcome:
        """Add a reply and return self."""
        self.replies.append(text)
        return self


# The words that name an order around its number, in the four languages ("order no. 1002",
# "Bestellnummer 1002", "commande n° 1002", "pedido núm. 1002").
ORDER_WORDS = frozenset(
    {"order", "orders", "number", "no", "nr", "num", "bestellung", "bestellnummer",
     "auftrag", "auftragsnummer", "nummer", "commande", "numéro", "numero", "n", "nº", "n°",
     "pedido", "número", "núm", "nro"}
)  # fmt: skip


def words(text: str) -> str:
    """Return the text lowered with punctuation and extra spaces dropped."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def is_yes(text: str) -> bool:
    """Tell whether a message is an explicit confirmation and nothing else: "yes?" or
    "¿sí?" asks rather than confirms."""
    return not any(mark in text for mark in QUESTION_MARKS) and words(text) in YES


def is_no(text: str) -> bool:
    """Tell whether a message declines."""
    return words(text) in NO


def declines(text: str) -> bool:
    """Tell whether an answer to a yes/no question declines: a "no" alone, or a message that
    starts with one ("no, don't cancel it", "nope, keep it"), whatever else it says about
    the action (the model reads "don't cancel" as a cancellation)."""
    found = words(text).split()
    starts = bool(found) and (found[0] in NEGATIONS or found[:2] == ["do", "not"])
    return is_no(text) or starts


def is_done(text: str) -> bool:
    """Tell whether the customer says they need nothing more (and nothing else)."""
    said = words(text)
    if said in DONE:
        return True
    found = set(said.split())
    asks = any(mark in text for mark in QUESTION_MARKS)
    return not asks and found <= DONE_WORDS and bool(found & FAREWELLS)


def only_answers(text: str) -> bool:
    """Tell whether a message is nothing but an answer to a question: a yes, a no, or an
    email address or order number with no words around it but the order's own ("order 1002",
    "Bestellung Nr. 1002": the model read those as placing or changing an order). Such a
    message asks for nothing."""
    if is_yes(text) or is_no(text):
        return True
    rest = text.replace(_email_or_empty(text), " ")
    number = order_number(rest)
    if number is not None:
        rest = rest.replace(number, " ")
        if set(words(rest).split()) <= ORDER_WORDS:
            return True
    return rest != text and not any(character.isalpha() for character in rest)


def asks_for_human(text: str) -> bool:
    """Tell whether the customer explicitly asks for a person."""
    return bool(HUMAN_WORDS.search(text.lower()))


def order_number(text: str) -> str | None:
    """Return the first order number in a message, without its `#`."""
    for match in _ORDER.finditer(text.replace(_email_or_empty(text), " ")):
        return match.group(1)
    return None


def email_address(text: str) -> str | None:
    """Return the first email address in a message, lowered."""
    match = _EMAIL.search(text)
    return match.group().lower() if match else None


def _email_or_empty(text: str) -> str:
    match = _EMAIL.search(text)
    return match.group() if match else "\x00"
