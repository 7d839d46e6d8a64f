"""Article markdown: raw HTML and script URLs never reach a page; links are nofollow."""

from __future__ import annotations

import pytest

from rapport.knowledge.markdown import plain_forms, plain_lines, plain_text, render_html


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "<javascript:alert(1)>",
        "[x]: javascript:alert(1)\n\n[y][x]",
        "![a](javascript:alert(1))",
        "[x](vbscript:msgbox)",
        "[x](data:text/html,<script>alert(1)</script>)",
    ],
)
def test_script_urls_are_no_links(markdown: str) -> None:
    assert "<a " not in render_html(markdown)
    assert "<img" not in render_html(markdown)


@pytest.mark.parametrize(
    "markdown",
    ["<script>alert(1)</script>", '<a href="x" onclick="alert(1)">x</a>', "<iframe src=x>"],
)
def test_raw_html_is_shown_as_text(markdown: str) -> None:
    assert "<" not in render_html(markdown).removeprefix("<p>").removesuffix("</p>\n")


def test_links_are_nofollow_noopener() -> None:
    assert render_html("[shop](https://example.com/a?b=1)") == (
        '<p><a href="https://example.com/a?b=1" rel="nofollow noopener">shop</a></p>\n'
    )


def test_plain_text_drops_the_syntax() -> None:
    text = "# Sizes\n\nTake **M** or `L`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert plain_text(text) == "Sizes Take M or L. one two a b 1 2"


def test_plain_lines_keep_an_articles_shape_for_a_chat() -> None:
    body = (
        "Delivery takes:\n\n- **Germany:** 1-2 days\n- **EU:** 3-5 days\n\n"
        "3. Print the label.\n4. Hand it in.\n\n"
        "| Size | Chest |\n|---|---|\n| S | 92 |\n| M | |\n\n"
        "```\nRETURN-1001\n```\n\nThanks for\nreading."
    )
    assert plain_lines(body) == (
        "Delivery takes:\n- Germany: 1-2 days\n- EU: 3-5 days\n"
        "3. Print the label.\n4. Hand it in.\n"
        "Size | Chest\nS | 92\nM |\n"
        "RETURN-1001\nThanks for reading."
    )
    # The words are plain_text's, which the embedding and BM25 read.
    assert plain_text(body).startswith("Delivery takes: Germany: 1-2 days EU: 3-5 days")


def test_plain_lines_of_nothing_are_empty() -> None:
    assert plain_lines("") == plain_lines("-\n") == ""


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("- \n\nAfter the list.", "After the list."),  # the empty item's marker stays there
        ("- ![Photo](x.png)\n\nNext paragraph.", "Next paragraph."),
        ("0. zero\n1. one", "0. zero\n1. one"),  # a list may start at 0
    ],
)
def test_plain_lines_markers_stay_with_their_items(markdown: str, expected: str) -> None:
    assert plain_lines(markdown) == expected


def test_plain_forms_are_both_from_one_parse() -> None:
    body = "Delivery takes:\n\n- **DE:** 1 day\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert plain_forms(body) == (plain_text(body), plain_lines(body))
