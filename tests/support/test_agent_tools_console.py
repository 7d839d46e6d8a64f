"""Agent tools in the console over HTTP: the "/" picker, macros and taking from the page,
saved views with counts, SLA deadlines, presence, and the agent's typing and read marks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.realtime import get_hub
from rapport.identity.enums import Role
from rapport.support.models import Conversation
from rapport.support.notify import conversation_topic
from rapport.support.routing_models import SlaPolicy
from rapport.support.service import conversations
from tests.fixtures.agent_tools import make_canned_response, make_macro, make_saved_view
from tests.fixtures.identity import make_source
from tests.fixtures.support import SYSTEM_ACTING
from tests.fixtures.support_console import (
    Desk,
    conversation_url,
    listed,
    make_desk,
    make_named_customer,
    open_conversation,
)
from tests.web.console import csrf_of, sign_in


async def _signed_in(
    client: httpx.AsyncClient, database: Database, role: Role = Role.agent
) -> tuple[Desk, str, str]:
    desk = await make_desk(database, role)
    customer_id = await make_named_customer(database, desk.workspace.id, "Mia Berg")
    conversation_id = await open_conversation(
        database, desk.workspace.id, "Where is my order?", customer_id=customer_id
    )
    await sign_in(client, desk.agent.email, desk.agent.password)
    token = csrf_of((await client.get(conversation_url(conversation_id))).text)
    return desk, conversation_id, token


async def test_the_picker_finds_and_fills_a_canned_response(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, _ = await _signed_in(client, database)
    canned_id = await make_canned_response(
        database,
        desk.workspace.id,
        "order",
        "Hi {{customer.first_name}}, order {{order.last.number}}.",
    )
    await make_canned_response(database, desk.workspace.id, "thanks")
    base = f"{conversation_url(conversation_id)}/canned-responses"
    found = await client.get(base, params={"search": "or"})
    assert found.json() == {"items": [{"id": canned_id, "shortcut": "order", "title": "Order"}]}
    filled = await client.get(f"{base}/{canned_id}")
    assert filled.json() == {"text": "Hi Mia, order 1042."}


async def test_a_macro_is_applied_from_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    macro_id = await make_macro(
        database,
        desk.workspace.id,
        [{"type": "add_tags", "tags": ["vip"]}, {"type": "set_status", "status": "resolved"}],
        "Close as VIP",
    )
    html = (await client.get(conversation_url(conversation_id))).text
    assert f'action="{conversation_url(conversation_id)}/macros/{macro_id}"' in html
    applied = await client.post(
        f"{conversation_url(conversation_id)}/macros/{macro_id}", data={"csrf_token": token}
    )
    assert (applied.status_code, applied.headers["location"]) == (
        303,
        conversation_url(conversation_id),
    )
    async with database.session() as session:
        found = await conversations.get(session, desk.workspace.id, conversation_id, SYSTEM_ACTING)
        assert (found.status, found.tags) == ("resolved", ["vip"])


async def test_an_agent_takes_a_conversation_in_one_click(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    assert (
        '<button class="button button-primary" type="submit">Take it</button>'
        in (await client.get(conversation_url(conversation_id))).text
    )
    taken = await client.post(
        f"{conversation_url(conversation_id)}/take", data={"csrf_token": token}
    )
    assert taken.status_code == 303
    html = (await client.get(conversation_url(conversation_id))).text
    assert "Take it" not in html
    assert f"<dd data-assignee>{desk.agent.user.display_name}</dd>" in html


async def test_the_inbox_lists_saved_views_with_counts_and_who_is_online(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, _ = await _signed_in(client, database)
    await open_conversation(database, desk.workspace.id, tags=["vip"])
    view_id = await make_saved_view(database, desk.workspace.id, {"tag": "vip"}, "VIP")
    html = (await client.get("/console/inbox")).text
    link = f'<a href="/console/inbox?saved={view_id}"><span>VIP</span>'
    assert f'{link} <span class="muted">· shared</span></a>' in html
    assert '<span class="pill count" data-count>1</span>' in html
    assert f"</span> {desk.agent.user.display_name}</li>" in html
    shown = await client.get("/console/inbox", params={"saved": view_id})
    assert len(listed(shown.text)) == 1


async def test_a_view_is_saved_from_the_inbox_filters(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, _, token = await _signed_in(client, database)
    saved = await client.post(
        "/console/inbox/views",
        data={"name": "Urgent mine", "status": "any", "priority": "urgent", "assignee": "me",
              "sentiment": "negative", "csrf_token": token},
    )  # fmt: skip
    assert saved.status_code == 303
    views = (await client.get("/api/v1/saved-views", headers={"X-CSRF-Token": token})).json()
    assert [(v["name"], v["filters"]) for v in views] == [
        (
            "Urgent mine",
            {"status": None, "priority": "urgent", "channel": None, "team_id": None,
             "assignee": "me", "tag": None, "sentiment": "negative", "intent": None},
        )
    ]  # fmt: skip
    assert saved.headers["location"] == f"/console/inbox?saved={views[0]['id']}"


async def test_sla_deadlines_show_overdue_and_due_soon(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, _ = await _signed_in(client, database)
    now = utcnow()
    async with database.session() as session:
        policy = SlaPolicy(name="Standard", first_response_minutes=60, warn_before_minutes=15)
        policy.workspace_id = desk.workspace.id
        session.add(policy)
        await session.flush()
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        found.sla_policy_id = policy.id
        found.first_response_due_at = now - timedelta(minutes=5)
        found.resolution_due_at = now + timedelta(minutes=10)
    html = (await client.get(conversation_url(conversation_id))).text
    assert '<span class="pill sla sla-breached">Overdue</span> First response' in html
    assert '<span class="pill sla sla-warning">Due soon</span> Resolution' in html
    inbox = (await client.get("/console/inbox")).text
    assert 'class="pill sla sla-breached" data-sla' in inbox


async def test_typing_reaches_the_conversations_watchers(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, conversation_id, token = await _signed_in(client, database)
    topic = conversation_topic(conversation_id)
    async with get_hub().open(desk.workspace.id, topic) as subscription:
        answer = await client.post(
            f"{conversation_url(conversation_id)}/typing", headers={"X-CSRF-Token": token}
        )
        pushed = await asyncio.wait_for(subscription.queue.get(), 5)
    assert answer.status_code == 204
    assert pushed == {"type": "typing", "author_type": "agent", "conversation_id": conversation_id}


async def test_reading_a_chat_marks_it_read_for_the_widget(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, token = await _signed_in(client, database)
    source = await make_source(database, desk.workspace)
    started = (await client.post("/widget/sessions", json={"write_key": source.write_key})).json()
    visitor = {"Authorization": f"Bearer {started['visitor_token']}"}
    payload = {"client_id": "client-0001", "body": "Hello?"}
    sent = (await client.post("/widget/messages", json=payload, headers=visitor)).json()
    marked = await client.post(
        f"{conversation_url(sent['conversation_id'])}/read", headers={"X-CSRF-Token": token}
    )
    assert marked.status_code == 204
    again = await client.post(
        "/widget/sessions",
        json={"write_key": source.write_key, "visitor_token": started["visitor_token"]},
    )
    assert again.json()["agent_read_seq"] == 1


async def test_the_tools_page_adds_and_lists_canned_responses_and_macros(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, _, token = await _signed_in(client, database)
    added = await client.post(
        "/console/inbox/tools/canned-responses",
        data={"shortcut": "hi", "title": "Greeting", "body": "Hi {{customer.first_name}}",
              "csrf_token": token},
    )  # fmt: skip
    assert added.status_code == 303
    macro = await client.post(
        "/console/inbox/tools/macros",
        data={"name": "Escalate", "priority": "urgent", "add_tags": "escalated",
              "assign_to_me": "true", "csrf_token": token},
    )  # fmt: skip
    assert macro.status_code == 303
    html = (await client.get("/console/inbox/tools")).text
    assert '<strong>/hi</strong> Greeting <span class="pill">Yours</span>' in html
    assert "add escalated · priority urgent · assign to me</p>" in html
    refused = await client.post(
        "/console/inbox/tools/canned-responses",
        data={"shortcut": "x", "title": "X", "body": "{{customer.password}}", "csrf_token": token},
    )
    assert refused.status_code == 422
    assert "Unknown variable(s): customer.password." in refused.text
