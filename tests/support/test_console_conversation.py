"""The console's conversation page: what it shows, and the forms an agent acts with."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from rapport.core.clock import as_utc, set_clock
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.service import conversations
from tests.fixtures.support import SYSTEM_ACTING
from tests.fixtures.support_console import (
    Desk,
    conversation_url,
    make_desk,
    make_named_customer,
    open_conversation,
)
from tests.web.console import csrf_of, sign_in


async def _signed_in(
    client: httpx.AsyncClient, database: Database, role: Role = Role.agent
) -> tuple[Desk, str, str]:
    """Sign an agent in; return the desk, a conversation of a named customer, and a CSRF token."""
    desk = await make_desk(database, role)
    customer_id = await make_named_customer(database, desk.workspace.id, "Mia Berg")
    conversation_id = await open_conversation(
        database, desk.workspace.id, "I need a refund", customer_id=customer_id
    )
    await sign_in(client, desk.agent.email, desk.agent.password)
    token = csrf_of((await client.get(conversation_url(conversation_id))).text)
    return desk, conversation_id, token


async def _state(database: Database, desk: Desk, conversation_id: str) -> tuple[object, ...]:
    async with database.session() as session:
        found = await conversations.get(session, desk.workspace.id, conversation_id, SYSTEM_ACTING)
        return found.status, found.snoozed_until, found.priority, found.priority_reason, found.tags


async def test_the_page_shows_the_thread_priority_reason_and_customer_360(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, _ = await _signed_in(client, database)
    earlier = await open_conversation(database, desk.workspace.id, "Old question", customer_id=None)
    html = (await client.get(conversation_url(conversation_id))).text
    assert "<title>Mia Berg · Inbox · Rapport</title>" in html
    assert '<p class="message-body">I need a refund</p>' in html
    assert "data-priority-reason>keywords: refund</span>" in html
    assert "<dd data-customer-name>Mia Berg</dd>" in html
    assert "<dd>mia-berg@example.com</dd>" in html
    assert "<li><span>Order 1042</span>" in html
    assert "59.90 EUR · Completed" in html
    assert earlier not in html  # another customer's conversation is not a past one


async def test_past_conversations_of_the_customer_are_listed(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, _ = await _signed_in(client, database)
    async with database.session() as session:
        found = await conversations.get(session, desk.workspace.id, conversation_id, SYSTEM_ACTING)
        customer_id = found.customer_id
    again = await open_conversation(database, desk.workspace.id, "Again", customer_id=customer_id)
    html = (await client.get(conversation_url(again))).text
    assert f'<a href="{conversation_url(conversation_id)}">' in html


async def test_a_reply_is_sent_as_the_agent(client: httpx.AsyncClient, database: Database) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    response = await client.post(
        f"{conversation_url(conversation_id)}/messages",
        data={"body": "Refund issued today.", "kind": "reply", "csrf_token": token},
    )
    assert (response.status_code, response.headers["location"]) == (
        303,
        conversation_url(conversation_id),
    )
    async with database.session() as session:
        page = await conversations.messages(
            session, desk.workspace.id, conversation_id, SYSTEM_ACTING
        )
    last = page.items[-1]
    assert (last.body, last.author, last.private, last.author_type) == (
        "Refund issued today.",
        f"staff:{desk.agent.user.id}",
        False,
        "agent",
    )
    html = (await client.get(conversation_url(conversation_id))).text
    assert "<strong>Agent Person</strong>" in html


async def test_a_private_note_mentions_a_colleague_by_name(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    await client.post(
        f"{conversation_url(conversation_id)}/messages",
        data={"body": "@ana lopez can you check?", "kind": "note", "csrf_token": token},
    )
    async with database.session() as session:
        page = await conversations.messages(
            session, desk.workspace.id, conversation_id, SYSTEM_ACTING
        )
    assert (page.items[-1].private, page.items[-1].mentions) == (True, [desk.colleague.user.id])
    html = (await client.get(conversation_url(conversation_id))).text
    assert '<span class="pill note">Private note</span>' in html
    assert '<p class="muted mentions">Mentions Ana Lopez</p>' in html


async def test_status_priority_and_tags_change_from_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    base = conversation_url(conversation_id)
    await client.post(f"{base}/priority", data={"priority": "low", "csrf_token": token})
    await client.post(f"{base}/tags", data={"tags": "refund, vip ,", "csrf_token": token})
    await client.post(f"{base}/status", data={"status": "resolved", "csrf_token": token})
    reason = f"set by staff:{desk.agent.user.id}"
    assert await _state(database, desk, conversation_id) == (
        "resolved",
        None,
        "low",
        reason,
        ["refund", "vip"],
    )
    html = (await client.get(base)).text
    assert f"data-priority-reason>{reason}</span>" in html


async def test_snoozing_reads_the_time_in_the_workspace_zone(
    client: httpx.AsyncClient, database: Database
) -> None:
    set_clock(lambda: datetime(2026, 12, 1, 8, tzinfo=UTC))
    desk, conversation_id, token = await _signed_in(client, database)
    async with database.session() as session:
        workspace = await session.get(Workspace, desk.workspace.id)
        assert workspace is not None
        workspace.time_zone = "Europe/Berlin"
    response = await client.post(
        f"{conversation_url(conversation_id)}/status",
        data={"status": "snoozed", "snoozed_until": "2026-12-03T09:00", "csrf_token": token},
    )
    assert response.status_code == 303
    status, until, *_ = await _state(database, desk, conversation_id)
    assert isinstance(until, datetime)
    assert (status, as_utc(until)) == ("snoozed", datetime(2026, 12, 3, 8, tzinfo=UTC))


async def test_a_failed_form_shows_its_error_on_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, conversation_id, token = await _signed_in(client, database)
    response = await client.post(
        f"{conversation_url(conversation_id)}/status",
        data={"status": "snoozed", "csrf_token": token},
    )
    assert response.status_code == 422
    assert '<div class="alert alert-error" role="alert">Say until when to snooze.</div>' in (
        response.text
    )
    assert '<p class="message-body">I need a refund</p>' in response.text


async def test_a_form_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, _ = await _signed_in(client, database)
    response = await client.post(
        f"{conversation_url(conversation_id)}/messages", data={"body": "Sneaky", "kind": "reply"}
    )
    assert response.status_code == 403
    async with database.session() as session:
        page = await conversations.messages(
            session, desk.workspace.id, conversation_id, SYSTEM_ACTING
        )
    assert [message.body for message in page.items] == ["I need a refund"]


async def test_assignment_needs_conversations_assign(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    data = {"assignee_id": desk.agent.user.id, "csrf_token": token}
    response = await client.post(f"{conversation_url(conversation_id)}/assignment", data=data)
    assert response.status_code == 403
    assert (
        'action="/console/inbox/conversations/' + conversation_id + '/assignment"'
        not in (await client.get(conversation_url(conversation_id))).text
    )


async def test_a_supervisor_assigns_to_a_colleague_and_a_team(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database, Role.supervisor)
    data = {"assignee_id": desk.colleague.user.id, "team_id": desk.team_id, "csrf_token": token}
    response = await client.post(f"{conversation_url(conversation_id)}/assignment", data=data)
    assert response.status_code == 303
    async with database.session() as session:
        found = await conversations.get(session, desk.workspace.id, conversation_id, SYSTEM_ACTING)
    assert (found.assignee_id, found.team_id) == (desk.colleague.user.id, desk.team_id)
    html = (await client.get(conversation_url(conversation_id))).text
    assert "<dd data-assignee>Ana Lopez</dd>" in html
    assert "<dd data-team>Returns</dd>" in html


async def test_customers_cannot_be_impersonated_from_the_composer(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, conversation_id, token = await _signed_in(client, database)
    response = await client.post(
        f"{conversation_url(conversation_id)}/messages",
        data={"body": "Fake", "kind": "customer", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "Staff reply or leave notes; customers write their own." in response.text
