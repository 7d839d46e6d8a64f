"""Inbound email, parsed: threading ids, sender, the new text without quoted history, and
attachments. Plain data in and out (the standard library's `email`, policy=default)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser

from rapport.support.errors import MalformedEmail

MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# Defects after which the parsed message is not the one that was sent.
BROKEN = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.MissingHeaderBodySeparatorDefect,
    email_errors.MisplacedEnvelopeHeaderDefect,
)
# Where quoted history starts: "On <date>, <someone> wrote:" (one or two lines, a few
# languages), Outlook's and Gmail's separators and forwarded-header blocks.
HISTORY_STARTS = (
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
)
# Outlook quotes a reply under a header block: From: ... then Sent:/Date:/To:/Subject:.
HEADER_BLOCK_START = re.compile(r"^\s*\*?From:\*?\s.+$")
HEADER_BLOCK_NEXT = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Cc):\*?\s", re.IGNORECASE)
TWO_LINE_START = re.compile(r"^\s*On\b.{0,300}$", re.IGNORECASE)
TWO_LINE_END = re.compile(r"^.{0,300}\bwrote:\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    """A file that came with an email."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedEmail:
    """What Rapport keeps of an inbound email."""

    message_id: str | None
    # In-Reply-To then References newest first (to find the thread); References as sent.
    thread_ids: list[str]
    references: list[str]
    sender: str
    reply_to: str
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw MIME; refuse (MalformedEmail) what is not a whole message with a sender."""
    if not raw.strip():
        raise MalformedEmail("The body is empty; send the raw message (message/rfc822).")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage):
        raise MalformedEmail("This is not a MIME message.")
    _check_whole(message)
    sender = _address(message, "From")
    if not sender:
        raise MalformedEmail("The message has no sender address (From).")
    found = MESSAGE_ID.findall(str(message.get("Message-ID", "")))
    text, attachments = _content(message)
    return ParsedEmail(
        message_id=found[0] if found else None,
        thread_ids=_thread_ids(message),
        references=_references(message),
        sender=sender,
        reply_to=_address(message, "Reply-To") or sender,
        subject=" ".join(str(message.get("Subject", "")).split())[:300],
        text=strip_quoted(text),
        attachments=attachments,
    )


def _check_whole(message: EmailMessage) -> None:
    for part in message.walk():
        broken = [type(defect).__name__ for defect in part.defects if isinstance(defect, BROKEN)]
        if broken:
            raise MalformedEmail(f"The MIME structure is broken ({', '.join(broken)}).")
    if not message.keys():
        raise MalformedEmail("The message has no headers.")


def _address(message: EmailMessage, header: str) -> str:
    try:
        value = str(message.get(header, ""))
    except (ValueError, IndexError) as error:
        raise MalformedEmail(f"The {header} header cannot be read.") from error
    address = parseaddr(value)[1]
    return address.lower() if "@" in address and len(address) <= 254 else ""


def _thread_ids(message: EmailMessage) -> list[str]:
    """Return In-Reply-To then References, newest first, without repeats."""
    in_reply_to = MESSAGE_ID.findall(str(message.get("In-Reply-To", "")))
    references = MESSAGE_ID.findall(str(message.get("References", "")))
    return list(dict.fromkeys([*in_reply_to, *reversed(references)]))[:50]


def _references(message: EmailMessage) -> list[str]:
    references = MESSAGE_ID.findall(str(message.get("References", "")))
    return references[-20:] or MESSAGE_ID.findall(str(message.get("In-Reply-To", "")))[:1]


def _content(message: EmailMessage) -> tuple[str, list[Attachment]]:
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if isinstance(body, EmailMessage):
        text = _text_of(body)
    attachments = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        content = part.get_payload(decode=True)
        if isinstance(content, bytes):
            name = part.get_filename() or "attachment"
            attachments.append(Attachment(name[:200], part.get_content_type(), content))
    return text, attachments


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError) as error:
        raise MalformedEmail("The message text cannot be decoded.") from error
    if not isinstance(content, str):
        return ""
    return _html_text(content) if part.get_content_type() == "text/html" else content


def strip_quoted(text: str) -> str:
    """Return the new words of a reply: up to where quoted history starts, without quoted
    ('>') lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for number, line in enumerate(lines):
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if any(start.match(line) for start in HISTORY_STARTS):
            break
        if TWO_LINE_START.match(line) and TWO_LINE_END.match(following):
            break
        if HEADER_BLOCK_START.match(line) and HEADER_BLOCK_NEXT.match(following):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag in ("br", "p", "div", "li", "tr", "blockquote"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    # Gmail and Outlook put quoted history in these: drop it before reading the text.
    html = re.split(r'<(?:div class="gmail_quote|blockquote|div id="divRplyFwdMsg")', html)[0]
    parser = _TextOfHtml()
    parser.feed(html)
    return "".join(parser.parts)
