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
    parts: list[str] = []
    for token in _PARSER.parse(body):
        if token.type == "inline":
            parts.append(_inline_text(token.children or []))
        elif token.type in ("code_block", "fence"):
            parts.append(token.content)
    return " ".join(" ".join(part.split()) for part in parts if part.strip())


def _inline_text(children: list[Token]) -> str:
    pieces = []
    for child in children:
        if child.type in ("text", "code_inline"):
            pieces.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            pieces.append(" ")
    return "".join(pieces)
