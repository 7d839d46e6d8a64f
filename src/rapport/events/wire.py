"""Segment's wire format: decode, check and normalise calls by hand (fast, precise messages)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from rapport.core.ids import new_id
from rapport.events.enums import CallType, Channel
from rapport.events.errors import BatchTooLarge, MalformedRequest
from rapport.events.shapes import ARRAY, FLAG, ID, OBJECT, TEXT, Shape, check
from rapport.events.signals import lookup_key_of

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2500
MAX_ID_LENGTH = 255
CALL_TYPES = frozenset(str(kind) for kind in CallType)
CHANNELS = frozenset(str(channel) for channel in Channel)
MOBILE_LIBRARIES = (
    "analytics-ios",
    "analytics-android",
    "analytics-react-native",
    "analytics-kotlin",
    "analytics-swift",
    "analytics-flutter",
)
SERVER_LIBRARIES = (
    "analytics-python",
    "analytics-node",
    "analytics-ruby",
    "analytics-go",
    "analytics-java",
    "analytics-php",
    "analytics.NET",
)
# The fields of Segment's spec a sender may set, by JSON type: any other field is stored as sent.
CONTEXT_SHAPE = Shape(
    {
        "active": FLAG, "app": OBJECT, "campaign": OBJECT, "consent": OBJECT,
        "device": OBJECT, "externalIds": ARRAY, "groupId": ID, "ip": TEXT, "library": OBJECT,
        "locale": TEXT, "location": OBJECT, "network": OBJECT, "os": OBJECT, "page": OBJECT,
        "referrer": OBJECT, "screen": OBJECT, "timezone": TEXT, "traits": OBJECT,
        "userAgent": TEXT, "userAgentData": OBJECT,
    },
    objects={"library": Shape({"name": TEXT, "version": ID})},
)  # fmt: skip
CALL_SHAPE = Shape(
    {
        "type": TEXT, "messageId": ID, "userId": ID, "anonymousId": ID, "groupId": ID,
        "previousId": ID, "event": TEXT, "name": TEXT, "category": TEXT, "properties": OBJECT,
        "traits": OBJECT, "context": OBJECT, "integrations": OBJECT, "timestamp": TEXT,
        "originalTimestamp": TEXT, "sentAt": TEXT, "receivedAt": TEXT, "channel": TEXT,
        "version": ID, "writeKey": TEXT,
    },
    objects={"context": CONTEXT_SHAPE},
)  # fmt: skip
BATCH_SHAPE = Shape(
    {"context": OBJECT, "integrations": OBJECT, "sentAt": TEXT, "writeKey": TEXT},
    objects={"context": CONTEXT_SHAPE},
)


@dataclass
class Call:
    """One accepted call, normalised into the columns of the event store."""

    type: str
    message_id: str
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    channel: str
    timestamp: datetime
    sent_at: datetime | None
    original_timestamp: datetime | None
    raw: bytes
    # Set when processing may resolve the call by this key without reading who it is about
    # (`signals.lookup_key_of`).
    lookup_key: str | None = None


@dataclass
class Rejection:
    """A call that was refused, and why."""

    index: int
    message_id: str | None
    reason: str


@dataclass
class Parsed:
    """What a request body held: accepted calls and refused ones."""

    calls: list[Call] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    write_key: str | None = None


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Inflate a gzip body, refusing to produce more than `limit` bytes. The body must be one
    whole gzip member, as Segment's libraries send: a truncated one (its checksum unread) or
    anything after it (another member, garbage) is refused."""
    if encoding.strip().lower() not in ("gzip", "x-gzip"):
        if encoding.strip() and encoding.strip().lower() != "identity":
            raise MalformedRequest(f"Content-Encoding {encoding!r} is not supported; use gzip.")
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise MalformedRequest("The body is not valid gzip.") from error
    if len(plain) > limit or inflater.unconsumed_tail:
        raise BatchTooLarge(f"The decompressed body exceeds {limit // 1024} KB.")
    if not inflater.eof:
        raise MalformedRequest("The gzip body is truncated.")
    if inflater.unused_data:
        raise MalformedRequest("The gzip body has data after its end; send one gzip member.")
    return plain


def load_object(body: bytes) -> dict[str, Any]:
    """Parse a JSON object body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedRequest(f"The body is not valid JSON: {error}.") from error
    if not isinstance(document, dict):
        raise MalformedRequest("The body must be a JSON object.")
    return document


def parse_single(body: bytes, call_type: CallType, received_at: datetime) -> Parsed:
    """Check one call sent to /v1/<type>."""
    if len(body) > MAX_EVENT_BYTES:
        raise BatchTooLarge(f"A single call may not exceed {MAX_EVENT_BYTES // 1024} KB.")
    message = load_object(body)
    parsed = Parsed(write_key=_string_or_none(message.get("writeKey")))
    message["type"] = str(call_type)
    _accept(parsed, 0, message, None, received_at)
    if parsed.rejected:
        raise MalformedRequest(parsed.rejected[0].reason)
    return parsed


def parse_batch(body: bytes, received_at: datetime) -> Parsed:
    """Check a /v1/batch body; bad calls are listed, good ones kept."""
    if len(body) > MAX_BATCH_BYTES:
        raise BatchTooLarge(f"A batch may not exceed {MAX_BATCH_BYTES // 1024} KB.")
    document = load_object(body)
    batch = document.get("batch")
    if not isinstance(batch, list):
        raise MalformedRequest("`batch` must be an array of calls.")
    if len(batch) > MAX_BATCH_EVENTS:
        raise BatchTooLarge(f"A batch may not hold more than {MAX_BATCH_EVENTS} calls.")
    try:
        check(document, BATCH_SHAPE)
        sent_at = time_field(document, "sentAt")
    except ValueError as error:
        raise MalformedRequest(str(error)) from error
    parsed = Parsed(write_key=_string_or_none(document.get("writeKey")))
    shared_context = document.get("context")
    for index, message in enumerate(batch):
        own = message.get("context") if isinstance(message, dict) else None
        if isinstance(shared_context, dict) and isinstance(own, dict | None):
            message["context"] = {**shared_context, **(own or {})}
        _accept(parsed, index, message, sent_at, received_at)
    return parsed


def _accept(
    parsed: Parsed, index: int, message: Any, sent_at: datetime | None, received_at: datetime
) -> None:
    if not isinstance(message, dict):
        parsed.rejected.append(Rejection(index, None, "a call must be a JSON object"))
        return
    try:
        parsed.calls.append(_normalise(message, sent_at, received_at))
    except (ValueError, OverflowError) as error:
        message_id = message.get("messageId")
        shown = message_id if isinstance(message_id, str) else None
        parsed.rejected.append(Rejection(index, shown and shown[:MAX_ID_LENGTH], str(error)))


def _normalise(message: dict[str, Any], batch_sent_at: datetime | None, now: datetime) -> Call:
    check(message, CALL_SHAPE)
    call_type = message.get("type")
    if call_type not in CALL_TYPES:
        raise ValueError(f"type must be one of {', '.join(CallType)}, got {call_type!r}")
    user_id = _identifier(message, "userId")
    anonymous_id = _identifier(message, "anonymousId")
    if user_id is None and anonymous_id is None:
        raise ValueError("userId or anonymousId is required")
    message_id = _identifier(message, "messageId") or f"rapport-{new_id()}"
    message["messageId"] = message_id
    name = _call_name(call_type, message)
    sent_at = time_field(message, "sentAt") or batch_sent_at
    stated = (time_field(message, "timestamp"), time_field(message, "originalTimestamp"))
    original = stated[0] or stated[1]
    try:
        raw = orjson.dumps(message)
    except orjson.JSONEncodeError as error:  # nested deeper than orjson writes (254 levels)
        raise ValueError(f"the call cannot be stored: {error}") from error
    if len(raw) > MAX_EVENT_BYTES:
        raise ValueError(f"a call may not exceed {MAX_EVENT_BYTES // 1024} KB")
    channel = channel_of(message)
    timestamp = corrected_timestamp(now, sent_at, original)
    return Call(
        type=call_type,
        message_id=message_id,
        name=name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        channel=channel,
        timestamp=timestamp,
        sent_at=sent_at,
        original_timestamp=original,
        raw=raw,
        lookup_key=lookup_key_of(message, at=timestamp, channel=channel),
    )


def corrected_timestamp(
    received_at: datetime, sent_at: datetime | None, original: datetime | None
) -> datetime:
    """Correct the device clock: timestamp = receivedAt - (sentAt - originalTimestamp)."""
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)


def _call_name(call_type: str, message: dict[str, Any]) -> str | None:
    if call_type == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            raise ValueError("track calls need a non-empty `event` name")
        return _clean(event)[:MAX_ID_LENGTH]
    if call_type == "alias" and _identifier(message, "previousId") is None:
        raise ValueError("alias calls need `previousId`")
    if call_type == "alias" and message.get("userId") is None:
        raise ValueError("alias calls need `userId`")
    if call_type == "group" and _identifier(message, "groupId") is None:
        raise ValueError("group calls need `groupId`")
    name = message.get("name")
    return _clean(name)[:MAX_ID_LENGTH] if isinstance(name, str) else None


def _clean(text: str) -> str:
    """Drop NUL characters, which PostgreSQL text columns refuse."""
    return text.replace("\x00", "") if "\x00" in text else text


def _identifier(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    if type(value) is str and len(value) <= MAX_ID_LENGTH and "\x00" not in value:
        return value or None  # the usual case, checked first
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"`{key}` must be a string or a number")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise ValueError(f"`{key}` may not exceed {MAX_ID_LENGTH} characters")
    if "\x00" in text:
        raise ValueError(f"`{key}` may not contain NUL characters")
    return text or None


def time_field(message: dict[str, Any], key: str) -> datetime | None:
    """Read an optional ISO-8601 date field as UTC; raise ValueError naming the field."""
    try:
        return _parse_time(message.get(key))
    except ValueError as error:
        raise ValueError(f"`{key}` is not an ISO-8601 date: {error}") from error


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expected a string")
    moment = datetime.fromisoformat(value)
    try:
        # Normalised to UTC here, so an offset at the edge of the calendar fails as bad input.
        return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)
    except OverflowError as error:
        raise ValueError("date out of range") from error


def _string_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def channel_of(message: dict[str, Any]) -> str:
    """Name the touchpoint: `properties.channel`, else what the context shows."""
    properties = message.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("channel"), str):
        wanted = properties["channel"].strip().lower()
        return wanted if wanted in CHANNELS else str(Channel.other)
    context = message.get("context")
    if not isinstance(context, dict):
        return str(Channel.other)
    return _channel_from_context(context)


def _channel_from_context(context: dict[str, Any]) -> str:
    library = context.get("library")
    name = library.get("name") if isinstance(library, dict) else None
    library_name = name if isinstance(name, str) else ""
    if isinstance(context.get("app"), dict) or library_name in MOBILE_LIBRARIES:
        return str(Channel.mobile)
    if isinstance(context.get("page"), dict) or library_name.startswith("analytics.js"):
        return str(Channel.web)
    if library_name in SERVER_LIBRARIES:
        return str(Channel.server)
    return str(Channel.other)
