"""Survey answers in the console: on the customer page and in the conversation they follow,
for staff who may read feedback (and see that conversation)."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.enums import ConversationStatus
from rapport.support.lifecycle import change_status
from rapport.support.service import conversations
from rapport.worker.runner import Worker
from tests.fixtures.feedback import LINK, answer_page, make_customer, make_survey
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.mail import smtp_server
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support import SYSTEM_ACTING, make_conversation


async def _headers(database: Database, workspace: Workspace, role: Role) -> dict[str, str]:
    account = await make_staff(database, workspace, role)
    return session_headers((await sign_in(database, account)).token)


async def _answered_conversation(
    database: Database, client: httpx.AsyncClient, workspace: Workspace
) -> tuple[str, str]:
    """Resolve a conversation, answer the survey it sends; return (customer, conversation)."""
    customer_id = await make_customer(database, workspace.id)
    await make_survey(database, workspace.id)
    conversation_id = await make_conversation(database, workspace.id, customer_id=customer_id)
    with smtp_server() as inbox:
        async with database.session() as session:
            conversation = await conversations.get_for_change(
                session, workspace.id, conversation_id, SYSTEM_ACTING
            )
            await change_status(session, conversation, ConversationStatus.resolved, SYSTEM_ACTING)
        await Worker(database).run_pending()
        found = LINK.search(inbox.received[0][2].get_content())
    assert found is not None
    form = {"q_csat": "2", "f_csat": "The courier was late"}
    assert (await answer_page(client, found[1], form)).status_code == 200
    return customer_id, conversation_id


async def test_the_customer_page_loads_the_answers(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    customer_id, _ = await _answered_conversation(database, client, workspace)
    headers = await _headers(database, workspace, Role.agent)
    shown = await client.get(f"/console/customers/{customer_id}", headers=headers)
    part = await client.get(f"/console/customers/{customer_id}/survey-responses", headers=headers)
    assert f'hx-get="/console/customers/{customer_id}/survey-responses"' in shown.text
    assert part.status_code == 200
    assert "<strong>CSAT 2</strong>" in part.text
    assert "<blockquote>The courier was late</blockquote>" in part.text
    assert "Topics: delivery, speed" in part.text


async def test_the_conversation_shows_the_answer_that_followed_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    _, conversation_id = await _answered_conversation(database, client, workspace)
    other = await make_conversation(database, workspace.id)
    headers = await _headers(database, workspace, Role.agent)
    path = "/console/conversations/{}/survey-responses"
    answered = await client.get(path.format(conversation_id), headers=headers)
    unanswered = await client.get(path.format(other), headers=headers)
    assert "<strong>CSAT 2</strong>" in answered.text
    assert "No survey answer yet." in unanswered.text


async def test_another_workspace_sees_no_answers(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    customer_id, conversation_id = await _answered_conversation(database, client, workspace)
    headers = await _headers(database, await make_workspace(database), Role.owner)
    by_customer = await client.get(
        f"/console/customers/{customer_id}/survey-responses", headers=headers
    )
    by_conversation = await client.get(
        f"/console/conversations/{conversation_id}/survey-responses", headers=headers
    )
    assert (by_customer.status_code, by_conversation.status_code) == (404, 404)
