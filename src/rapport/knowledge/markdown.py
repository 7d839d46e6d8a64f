"""Article markdown: rendered to safe HTML (no raw HTML, no script links) or to plain text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

LINK_REL = "nofollow noopener"


def _link_open(
    renderer: Any, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[index].attrSet("rel", LINK_REL)
    rendered: str = renderer.renderToken(tokens, index, options, env)
    return rendered


def _parser() -> MarkdownIt:
    # CommonMark with raw HTML off: `<script>` and friends are shown as text. markdown-it's
    # link check refuses javascript:, vbscript:, file: and data: (other than images) URLs.
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    parser.add_render_rule("link_open", _link_open)
    return parser


_PARSER = _parser()


def render_html(body: str) -> str:
    """Render an article's markdown as HTML that is safe to put in a page."""
    rendered: str = _PARSER.render(body)
    return rendered


def plain_text(body: str) -> str:
    """Return an article's text without markdown syntax, blocks separated by one space."""
    return _text(_PARSER.parse(body))


def plain_forms(body: str) -> tuple[str, str]:
    """Return `plain_text` and `plain_lines` of an article, from one parse."""
    tokens = _PARSER.parse(body)
    return _text(tokens), _lines(tokens)


def _text(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline":
            parts.append(_inline_text(token.children or []))
        elif token.type in ("code_block", "fence"):
            parts.append(token.content)
    return " ".join(" ".join(part.split()) for part in parts if part.strip())


def plain_lines(body: str) -> str:
    """Return an article's text without markdown syntax, kept in its shape for a chat: a
    line a paragraph, a list item ("- " or "2. " before it), a table row (cells between
    " | ") or a code block's line."""
    return _lines(_PARSER.parse(body))


def _lines(tokens: Sequence[Token]) -> str:
    lines: list[str] = []
    markers: list[int | None] = []  # per open list: the next item's number, None for bullets
    row: list[str] | None = None
    marker = ""  # the list item's marker, until its first paragraph takes it
    for token in tokens:
        if token.type == "bullet_list_open":
            markers.append(None)
        elif token.type == "ordered_list_open":
            start = token.attrGet("start")
            markers.append(1 if start is None else int(start))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            markers.pop()
        elif token.type == "list_item_open":
            marker = _marker(markers)
        elif token.type == "list_item_close":
            marker = ""  # an item without text (an image, a code block) leaves no marker
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            lines.append(" | ".join(row).rstrip())
            row = None
        elif token.type == "inline":
            text = " ".join(_inline_text(token.children or []).split())
            if row is not None:
                row.append(text)
            elif text:
                lines.append(marker + text)
                marker = ""
        elif token.type in ("code_block", "fence"):
            lines += [line.rstrip() for line in token.content.splitlines() if line.strip()]
    return "\n".join(lines)


def _marker(markers: list[int | None]) -> str:
    """Return the next list item's marker, and count it."""
    if not markers or markers[-1] is None:
        return "- "
    number = markers[-1]
    markers[-1] = number + 1
    return f"{number}. "


def _inline_text(children: list[Token]) -> str:
    pieces = []
    for child in children:
        if child.type in ("text", "code_inline"):
            pieces.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            pieces.append(" ")
    return "".join(pieces)
