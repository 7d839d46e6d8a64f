"""A Shopify product as a fact sheet: its title, its description's text, and its type,
vendor, options (Size: S, M, L) and price as facts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rapport.events.shopify import ShopProduct
from rapport.knowledge.schemas import MAX_DESCRIPTION, MAX_FACTS, Fact, ProductSheetWrite

SHOPIFY_AUTHOR = "shopify"
# Shopify gives a product without variants one option, "Title", valued "Default Title".
_DEFAULT_OPTION = ("Title", ["Default Title"])
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN = frozenset({"script", "style", "template", "noscript"})


class _Text(HTMLParser):
    """Collect an HTML fragment's visible text, a line break at each block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def text_of_html(html: str) -> str:
    """Return an HTML description's visible text: one line a paragraph or list item, each
    ending as a sentence so the sheet's sentences split there."""
    reader = _Text()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    sentences = [
        line if line.endswith((".", "!", "?", ":")) else f"{line}." for line in lines if line
    ]
    return " ".join(sentences)


def _one_line(value: str, limit: int) -> str:
    plain = " ".join(_CONTROL.sub(" ", value).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def sheet_of(product: ShopProduct) -> ProductSheetWrite:
    """Make a product's fact sheet from its Shopify payload."""
    facts: list[Fact] = []
    named: set[str] = set()

    def add(name: str, value: str) -> None:
        name, value = _one_line(name.replace(":", " "), 60), _one_line(value, 500)
        if name and value and name.casefold() not in named and len(facts) < MAX_FACTS:
            named.add(name.casefold())
            facts.append(Fact(name=name, value=value))

    add("Type", product.product_type)
    add("Brand", product.vendor)
    for name, values in product.options:
        if (name, values) != _DEFAULT_OPTION:
            add(name, ", ".join(values))
    if product.prices:
        low, high = min(product.prices), max(product.prices)
        add("Price", f"{low}" if low == high else f"{low} to {high}")
    skus = {sku for sku in (_one_line(sku, 255) for sku in product.skus) if sku}
    return ProductSheetWrite(
        name=_one_line(product.title, 200) or _one_line(product.product_key, 200),
        sku=skus.pop() if len(skus) == 1 else None,
        description=_CONTROL.sub(" ", text_of_html(product.body_html))[:MAX_DESCRIPTION],
        facts=facts,
    )
