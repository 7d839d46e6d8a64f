"""Import past survey answers from CSV: every row checked first, then written in chunks."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.ids import new_id
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.feedback.enums import SCORE_RANGES, ResponseOrigin
from rapport.feedback.errors import ImportFileInvalid, UnknownSurveyKind
from rapport.feedback.repository import ResponseRepository
from rapport.feedback.text import TextLabels, label_texts, seal_comment

REQUIRED = ("user_id", "score", "answered_at")
OPTIONAL = ("email", "comment", "channel")
IMPORT_SOURCE = "import:survey"
# Problems named at most; the file is refused as a whole anyway.
MAX_PROBLEMS = 20
MAX_COMMENT = 5000


@dataclass(frozen=True)
class ImportedRow:
    """One checked line of a survey response file."""

    line: int
    user_id: str
    score: int
    answered_at: datetime
    email: str | None
    comment: str | None
    channel: str | None
    # Earlier lines of the file with the same kind, user, time and score: each line is an
    # answer of its own, and the same file imported again still adds nothing.
    repeat: int = 0


@dataclass(frozen=True)
class PreparedRow:
    """A checked row made ready to write: its id, sealed comment and comment labels."""

    row: ImportedRow
    values: dict[str, Any]


def scored_kind(kind: str) -> tuple[int, int]:
    """Return the score range of a kind an import may hold (nps, csat, ces)."""
    if kind not in ("nps", "csat", "ces"):
        raise UnknownSurveyKind(f"Import kind {kind!r}: one of nps, csat, ces.")
    return SCORE_RANGES[kind]


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip().replace("\x00", "")


def _score(value: str, low: int, high: int) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if not number.is_integer() or not low <= number <= high:
        return None
    return int(number)


def parse_moment(value: str) -> datetime | None:
    """Read an ISO date (midnight UTC) or datetime (naive: UTC) as aware UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _header(reader: Iterator[list[str]]) -> dict[str, int]:
    for cells in reader:
        names = [cell.strip().lstrip("\ufeff").lower() for cell in cells]
        if any(names):
            missing = [column for column in REQUIRED if column not in names]
            if missing:
                raise ImportFileInvalid(f"The file lacks the column(s): {', '.join(missing)}.")
            return {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    raise ImportFileInvalid("The file is empty: it needs the header user_id,score,answered_at.")


def _check(cells: list[str], line: int, columns: dict[str, int], kind: str) -> ImportedRow | str:
    """Return the row, or what is wrong with it."""
    low, high = SCORE_RANGES[kind]
    user_id, score_text = _cell(cells, columns["user_id"]), _cell(cells, columns["score"])
    moment_text = _cell(cells, columns["answered_at"])
    if not user_id:
        return f"Line {line}: user_id is empty."
    score = _score(score_text, low, high)
    if score is None:
        return f"Line {line}: score {score_text!r} is not a whole number from {low} to {high}."
    answered_at = parse_moment(moment_text)
    if answered_at is None:
        return f"Line {line}: answered_at {moment_text!r} is not an ISO date or datetime."
    comment = _cell(cells, columns.get("comment"))[:MAX_COMMENT] or None
    channel = _cell(cells, columns.get("channel")).lower()[:32] or None
    email = _cell(cells, columns.get("email")) or None
    return ImportedRow(line, user_id[:255], score, answered_at, email, comment, channel)


def read_responses(stream: IO[str], kind: str) -> list[ImportedRow]:
    """Read and check a whole file; raise naming every bad line (up to MAX_PROBLEMS)."""
    scored_kind(kind)
    reader = csv.reader(stream)
    try:
        return _read(reader, kind)
    except UnicodeDecodeError:
        raise ImportFileInvalid("Nothing was imported: the file is not UTF-8 text.") from None
    except csv.Error as error:
        raise ImportFileInvalid(
            f"Nothing was imported. Line {reader.line_num}: the CSV cannot be read ({error})."
        ) from None


def _read(reader: Any, kind: str) -> list[ImportedRow]:
    columns = _header(reader)
    rows: list[ImportedRow] = []
    problems: list[str] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            checked = _check(cells, line, columns, kind)
            if isinstance(checked, str):
                problems.append(checked)
            else:
                rows.append(checked)
        line = reader.line_num + 1
    if problems:
        _refuse(problems)
    return _numbered(rows)


def _numbered(rows: list[ImportedRow]) -> list[ImportedRow]:
    """Number the repeats of identical answers within the file."""
    seen: dict[tuple[str, int, datetime], int] = {}
    numbered = []
    for row in rows:
        key = (row.user_id, row.score, row.answered_at)
        repeat = seen.get(key, 0)
        seen[key] = repeat + 1
        numbered.append(dataclasses.replace(row, repeat=repeat) if repeat else row)
    return numbered


def _refuse(problems: list[str]) -> NoReturn:
    """Refuse the whole file, naming its first bad lines."""
    shown = "; ".join(problems[:MAX_PROBLEMS])
    more = len(problems) - MAX_PROBLEMS
    raise ImportFileInvalid(
        f"Nothing was imported. {shown}" + (f"; and {more} more." if more > 0 else "")
    )


def dedupe_key(kind: str, row: ImportedRow) -> str:
    """Return what makes an imported answer the same one again (kind, user, time, score and
    which repeat of those in its file)."""
    moment = row.answered_at.astimezone(UTC).isoformat()
    parts = ["import", kind, row.user_id, moment, str(row.score)]
    text = "\x1f".join([*parts, str(row.repeat)] if row.repeat else parts)
    return hashlib.sha256(text.encode()).hexdigest()


def label_rows(rows: Sequence[ImportedRow]) -> dict[int, TextLabels]:
    """Label every comment of a file at once, by line (a model call: no unit of work open)."""
    commented = [row for row in rows if row.comment]
    found = label_texts([row.comment or "" for row in commented])
    return dict(zip((row.line for row in commented), found, strict=True))


def prepare(
    kind: str, rows: Sequence[ImportedRow], labels: dict[int, TextLabels]
) -> list[PreparedRow]:
    """Give rows their ids and seal their comments (before any unit of work)."""
    prepared = []
    for row in rows:
        response_id, label = new_id(), labels.get(row.line)
        values: dict[str, Any] = {
            "id": response_id,
            "kind": kind,
            "score": row.score,
            "comment": seal_comment(response_id, row.comment),
            "channel": row.channel,
            "answered_at": row.answered_at,
            "origin": ResponseOrigin.imported.value,
            "dedupe_key": dedupe_key(kind, row),
            "sentiment_label": None if label is None else label.label,
            "sentiment_score": None if label is None else label.score,
            "topics": [] if label is None else label.topics,
        }
        prepared.append(PreparedRow(row, values))
    return prepared


class ResponseImports:
    async def store(
        self, session: AsyncSession, workspace_id: str, prepared: Sequence[PreparedRow]
    ) -> int:
        """Resolve a chunk's customers by user id (and email) and write its responses,
        skipping those already imported; return how many were new."""
        resolved = await customers.resolve(
            session, workspace_id, [_signal(item.row) for item in prepared]
        )
        rows = []
        for item, outcome in zip(prepared, resolved, strict=True):
            if outcome.error is not None:
                raise outcome.error
            rows.append({**item.values, "customer_id": outcome.customer_id})
        return await ResponseRepository(session, workspace_id).insert_new(rows)


def _signal(row: ImportedRow) -> IdentitySignal:
    identifiers = [Observed("user_id", row.user_id)]
    if row.email:
        identifiers.append(Observed("email", row.email))
    return IdentitySignal(
        identifiers=identifiers,
        at=row.answered_at,
        channel="web",
        source=IMPORT_SOURCE,
        reason="track",
    )


response_imports = ResponseImports()
