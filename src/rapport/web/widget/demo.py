"""`/demo/shop`: a sample shop page of the demo workspace with the widget on it."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from rapport.core.deps import SessionDep
from rapport.errors import NotFound
from rapport.identity.service import workspaces
from rapport.identity.verification import identity_verification, user_hash

DEMO_SLUG = "demo"
# The signed-in customer of `/demo/shop?signed-in=1`: the page signs their id as a shop's
# server would, so their conversation follows them to any browser.
DEMO_USER_ID = "demo-customer-1"

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Shop</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="/demo/shop.css">
<script src="/widget.js" defer></script>
</head>
<body>
<header><strong>Demo Shop</strong> <a href="/demo/shop{switch_link}">{switch_label}</a></header>
<main>
<h1>Linen shirt</h1>
<p>Soft, breathable and made to last. Free returns within 30 days.</p>
<p class="price">€49.00</p>
<p>Questions about sizes or delivery? Ask us in the chat.</p>
</main>
<rapport-chat write-key="{write_key}"{identity} lang="{lang}"></rapport-chat>
</body>
</html>
"""

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1f2933; }
header { display: flex; justify-content: space-between; padding: 12px 16px;
  border-bottom: 1px solid #e4e7eb; }
main { max-width: 40rem; margin: 0 auto; padding: 16px; }
.price { font-size: 1.4rem; font-weight: 600; }
"""


# The languages the widget's own words come in (widget.js); the page takes one as `?lang=`
# for the widget alone (the shop's own text stays English).
WIDGET_LANGUAGES = ("en", "fr", "de", "es")


@router.get("/demo/shop")
async def demo_shop(session: SessionDep, signed_in: bool = False, lang: str = "en") -> HTMLResponse:
    """Show the demo workspace's shop page with the widget (404 without `rapport demo`), the
    widget's words in `lang` (en, fr, de, es; another code means English)."""
    try:
        workspace = await workspaces.get_by_slug(session, DEMO_SLUG)
    except NotFound as error:
        raise NotFound("Run `rapport demo` first.") from error
    found = await identity_verification.overview(session, workspace.id)
    live = [item for item in found if item.source.enabled]
    if not live:
        raise NotFound("The demo workspace has no source.")
    source, secret = live[0].source, live[0].secret
    language = lang if lang in WIDGET_LANGUAGES else "en"
    identity = ""
    if signed_in and secret is not None:
        signature = user_hash(secret, DEMO_USER_ID)
        identity = f' user-id="{DEMO_USER_ID}" user-hash="{signature}"'
    page = PAGE.format(
        write_key=escape(source.write_key),
        identity=identity,
        switch_link=f"?lang={language}" if signed_in else f"?signed_in=true&lang={language}",
        lang=language,
        switch_label="Sign out" if signed_in else "Sign in as a demo customer",
    )
    return HTMLResponse(page)


@router.get("/demo/shop.css")
async def demo_shop_style() -> Response:
    """Serve the demo shop page's style sheet."""
    return Response(STYLE, media_type="text/css")
