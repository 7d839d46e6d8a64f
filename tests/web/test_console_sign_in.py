"""Console sign-in: cookies, identical failures, throttling, redirects, sign-out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.db import Database
from tests.fixtures.identity import (
    STAFF_PASSWORD,
    console_sign_in,
    make_staff,
    make_workspace,
)
from tests.web.console import csrf_of, sign_in

ABSOLUTE_SECONDS = 12 * 3600


async def test_sign_in_sets_a_plain_http_session_cookie(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    response = await console_sign_in(client, account.email, account.password)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = response.headers["set-cookie"]
    token = client.cookies["rapport_session"]
    assert cookie == (
        f"rapport_session={token}; HttpOnly; Max-Age={ABSOLUTE_SECONDS}; Path=/; SameSite=lax"
    )


async def https_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        settings.model_copy(update={"base_url": "https://rapport.example"}), database
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as client:
        yield client


async def test_sign_in_over_https_sets_a_host_prefixed_secure_cookie(
    settings: Settings, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    async for client in https_client(settings, database):
        page = await client.get("/console/sign-in")
        assert page.headers["set-cookie"].startswith("__Host-rapport_csrf=")
        response = await console_sign_in(client, account.email, account.password)
        token = client.cookies["__Host-rapport_session"]
        assert response.headers["set-cookie"] == (
            f"__Host-rapport_session={token}; HttpOnly; Max-Age={ABSOLUTE_SECONDS}; Path=/; "
            "SameSite=lax; Secure"
        )
        assert (await client.get("/console")).status_code == 200


async def test_signed_in_visitor_sees_home_with_navigation(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database, "north-shop"))
    await sign_in(client, account.email, account.password)
    response = await client.get("/console")
    assert response.status_code == 200
    assert '<p class="eyebrow">North-Shop</p>' in response.text
    assert '<a class="nav-item active" href="/console" aria-current="page">' in response.text
    assert 'title="Journeys is coming soon"' in response.text


async def test_wrong_password_and_unknown_user_get_the_same_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    unknown = "nobody-here@example.com"
    wrong = await console_sign_in(client, account.email, "not the right password at all")
    missing = await console_sign_in(client, unknown, "not the right password at all")
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert "Invalid email or password." in wrong.text
    assert wrong.text.replace(account.email, "EMAIL") == missing.text.replace(unknown, "EMAIL")
    assert "rapport_session" not in client.cookies


async def test_sixth_failure_is_throttled_with_retry_after(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    for _ in range(5):
        assert (await console_sign_in(client, account.email, "wrong" * 4)).status_code == 401
    throttled = await console_sign_in(client, account.email, STAFF_PASSWORD)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "900"
    assert "Too many sign-in attempts. Wait a few minutes and try again." in throttled.text


async def test_sign_in_without_csrf_token_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await client.get("/console/sign-in")
    data = {"email": account.email, "password": account.password}
    missing = await client.post("/console/sign-in", data=data)
    forged = await client.post("/console/sign-in", data={**data, "csrf_token": "forged"})
    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "This form has expired or did not come from Rapport." in missing.text
    assert "rapport_session" not in client.cookies


async def test_signed_in_form_without_valid_csrf_is_refused(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    await sign_in(client, account.email, account.password)
    response = await client.post("/console/settings/sources", data={"name": "web"})
    foreign = csrf_of((await other_client.get("/console/sign-in")).text)
    stolen = await client.post(
        "/console/settings/sources", data={"name": "web", "csrf_token": foreign}
    )
    assert (response.status_code, stolen.status_code) == (403, 403)
    assert "did not come from Rapport" in stolen.text


async def test_unauthenticated_page_redirects_to_sign_in_with_next(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/console/settings/api-keys?tab=1")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/console/sign-in?next=/console/settings/api-keys%3Ftab%3D1"
    )


async def test_sign_in_follows_a_relative_next_path(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    page = await client.get("/console/sign-in?next=/console/settings/team")
    response = await client.post(
        "/console/sign-in",
        data={
            "email": account.email,
            "password": account.password,
            "next": "/console/settings/team",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.headers["location"] == "/console/settings/team"


async def test_sign_in_refuses_to_redirect_off_site(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    token = csrf_of((await client.get("/console/sign-in")).text)
    locations = []
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        client.cookies.delete("rapport_session")
        response = await client.post(
            "/console/sign-in",
            data={
                "email": account.email,
                "password": account.password,
                "next": target,
                "csrf_token": token,
            },
        )
        locations.append(response.headers["location"])
    assert locations == ["/console"] * 4


async def test_sign_out_revokes_the_server_session(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    old_token = client.cookies["rapport_session"]
    home = await client.get("/console")
    response = await client.post("/console/sign-out", data={"csrf_token": csrf_of(home.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?notice=signed-out"
    assert response.headers["set-cookie"].startswith('rapport_session=""; expires=')
    client.cookies.set("rapport_session", old_token)
    again = await client.get("/console")
    assert again.status_code == 303
    assert again.headers["location"] == "/console/sign-in?next=/console"


async def test_root_redirects_to_the_console(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/console"


async def test_signing_in_again_ends_the_previous_session(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    first_token = client.cookies["rapport_session"]
    token = csrf_of((await client.get("/console")).text)
    again = await client.post(
        "/console/sign-in",
        data={"email": account.email, "password": account.password, "csrf_token": token},
    )
    assert again.status_code == 303
    assert client.cookies["rapport_session"] != first_token
    other_client.cookies.set("rapport_session", first_token)
    assert (await other_client.get("/console")).status_code == 303
