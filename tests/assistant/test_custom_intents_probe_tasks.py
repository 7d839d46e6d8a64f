"""Custom intents that start an order task, under attack: wrong types and look-alikes for
`task` and `answer`, the console's `then` choice, orders that are not the customer's (in the
workspace or in another one with the same number), confirmations that are not a plain yes,
replayed yeses, the built-in check with odd examples, the audit trail, other workspaces' ids.
Every probe runs on SQLite and PostgreSQL; none may answer 500."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from rapport.assistant import replies
from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.dialogue import ACTING_INTENTS, TASKS
from rapport.assistant.labels import Models, label_text, use_models
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.events.enums import OrderStatus
from rapport.events.models import Order
from rapport.events.orders import OrderInput, orders
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.models import AuditEvent
from rapport.nlp.fakes import FakeIntentClassifier, FakeLanguageDetector, FakeSentimentAnalyzer
from rapport.support.enums import MessageKind
from rapport.support.schemas import MessageCreate
from rapport.support.service import conversations
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    CUSTOMER,
    KEYWORDS,
    conversation_row,
    enable_assistant,
    make_buyer,
    make_order,
    open_conversation,
    order_row,
    say,
    thread,
)
from tests.fixtures.custom_intents import (
    FORM,
    HOURS,
    PAGE,
    URL,
    count_intents,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    signed_in,
    workspace_key,
)
from tests.fixtures.embedding import embedding_with, minilm_embedder
from tests.fixtures.identity import make_workspace

PARCEL: dict[str, Any] = {
    "name": "parcel_left",
    "examples": ["Has my parcel left?", "Did my parcel leave the warehouse?"],
    "task": "order_status",
}


async def _audit(database: Database, workspace_id: str, prefix: str) -> list[AuditEvent]:
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent)
            .where(AuditEvent.workspace_id == workspace_id, AuditEvent.action.like(f"{prefix}%"))
            .order_by(AuditEvent.seq)
        )
        return list(rows.scalars().all())


# --- `task` and `answer` on the API ------------------------------------------------------


@pytest.mark.parametrize(
    "task",
    [
        "",
        " ",
        "Order_Status",
        "ORDER_STATUS",
        " order_status",
        "order_status ",
        "order_status\n",
        "order-status",
        "order status",
        "order_status\u0000",
        "order\u200b_status",  # zero-width space
        "\u043erder_status",  # Cyrillic o
        "order\uff3fstatus",  # fullwidth low line
        "\uff4frder_status",  # fullwidth o
        "order_statu\u017f",  # long s (casefolds to s)
        "\u202eorder_status",  # right-to-left override
        "cancel_order\ud800",  # lone surrogate
        "hand_off",
        "anything_else",
        "track_order",  # a shipped intent, not a task
        "get_refund",
        "answer",
        "order_status" + "x" * 200_000,
        1,
        0,
        True,
        False,
        1.5,
        [],
        ["order_status"],
        {},
        {"order_status": True},
    ],
    ids=repr,
)
async def test_a_task_that_is_not_exactly_one_of_the_five_is_422(
    client: httpx.AsyncClient, database: Database, task: object
) -> None:
    workspace_id, key = await workspace_key(database)
    body = json.dumps({**HOURS, "task": task})  # ASCII: a lone surrogate as its escape
    headers = {**key, "Content-Type": "application/json"}
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 422, response.text[:500]
    assert response.json()["error"] == "ValidationError"
    assert "task" in response.text and len(response.content) < 2_000  # the input not echoed
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize("task", TASKS)
async def test_each_task_with_no_answer_is_kept_and_read_back(
    client: httpx.AsyncClient, database: Database, task: str
) -> None:
    _, key = await workspace_key(database)
    created = await client.post(URL, json={**PARCEL, "task": task}, headers=key)
    assert created.status_code == 201, created.text
    read = (await client.get(f"{URL}/{created.json()['id']}", headers=key)).json()
    assert (read["task"], read["answer"], read["hand_off"]) == (task, None, False)


async def test_a_null_task_is_no_task(client: httpx.AsyncClient, database: Database) -> None:
    _, key = await workspace_key(database)
    created = await client.post(URL, json={**HOURS, "task": None}, headers=key)
    assert (created.status_code, created.json()["task"]) == (201, None)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        " ",
        "\n\t ",
        "\u200b",
        "\u00a0",
        5,
        True,
        [],
        ["Let me look."],
        {"text": "hi"},
        "x" * 2001,
    ],
    ids=repr,
)
async def test_a_bad_answer_is_422_even_beside_a_task(
    client: httpx.AsyncClient, database: Database, answer: object
) -> None:
    """An empty or blank answer is refused, not read as no answer: leave it out (or null)."""
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, json={**PARCEL, "answer": answer}, headers=key)
    assert response.status_code == 422, response.text[:500]
    assert "answer" in response.text
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"hand_off": True},
        {"hand_off": "true"},
        {"hand_off": 1},
        {"hand_off": "on"},
        {"hand_off": True, "answer": "We'll look."},
    ],
    ids=repr,
)
async def test_a_task_with_a_hand_off_is_422_however_spelled(
    client: httpx.AsyncClient, database: Database, change: dict[str, object]
) -> None:
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, json={**PARCEL, **change}, headers=key)
    assert response.status_code == 422, response.text
    assert "cannot also hand off: pick one" in response.text
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "parcel_left", "examples": ["Has my parcel left?"]},
        {"name": "parcel_left", "examples": ["Has my parcel left?"], "answer": None},
        {"name": "parcel_left", "examples": ["Has my parcel left?"], "task": None},
        {"name": "parcel_left", "examples": ["Has my parcel left?"], "hand_off": True},
    ],
    ids=repr,
)
async def test_an_intent_with_neither_answer_nor_task_is_422(
    client: httpx.AsyncClient, database: Database, body: dict[str, object]
) -> None:
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, json=body, headers=key)
    assert response.status_code == 422, response.text
    assert "an answer is needed unless the intent starts a task" in response.text
    assert await count_intents(database, workspace_id) == 0


async def test_a_put_is_a_replacement_a_task_left_out_is_gone(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)
    created = (await client.post(URL, json=PARCEL, headers=key)).json()
    path = f"{URL}/{created['id']}"
    no_task = {key_: value for key_, value in PARCEL.items() if key_ != "task"}
    refused = await client.put(path, json=no_task, headers=key)
    assert refused.status_code == 422
    assert (await client.get(path, headers=key)).json()["task"] == "order_status"
    answered = await client.put(path, json={**no_task, "answer": "At 9."}, headers=key)
    assert (answered.json()["task"], answered.json()["answer"]) == (None, "At 9.")
    back = await client.put(path, json={**PARCEL, "task": "resend_invoice"}, headers=key)
    assert (back.json()["task"], back.json()["answer"]) == ("resend_invoice", None)


async def test_every_change_is_audited_with_its_task(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, key = await workspace_key(database)
    intent = (await client.post(URL, json=PARCEL, headers=key)).json()
    changed = {**PARCEL, "task": "cancel_order", "answer": "I can stop it."}
    assert (await client.put(f"{URL}/{intent['id']}", json=changed, headers=key)).is_success
    answer_only = {**HOURS, "name": "parcel_left"}
    assert (await client.put(f"{URL}/{intent['id']}", json=answer_only, headers=key)).is_success
    assert (await client.delete(f"{URL}/{intent['id']}", headers=key)).status_code == 204
    rows = await _audit(database, workspace_id, "assistant.intent_")
    assert [(row.action, row.details["task"]) for row in rows] == [
        ("assistant.intent_created", "order_status"),
        ("assistant.intent_changed", "cancel_order"),
        ("assistant.intent_changed", None),
        ("assistant.intent_deleted", None),
    ]
    assert all(row.target_id == intent["id"] for row in rows)


async def test_another_workspaces_intent_cannot_be_given_a_task(
    client: httpx.AsyncClient, database: Database
) -> None:
    their_workspace, theirs = await workspace_key(database)
    intent = (await client.post(URL, json=HOURS, headers=theirs)).json()
    _, mine = await workspace_key(database)
    path = f"{URL}/{intent['id']}"
    grab = {**HOURS, "task": "cancel_order"}
    for method, body in (("PUT", grab), ("GET", None), ("DELETE", None)):
        response = await client.request(method, path, json=body, headers=mine)
        assert (response.status_code, response.json()["error"]) == (404, "CustomIntentNotFound")
        assert "store_hours" not in response.text
    assert (await client.get(path, headers=theirs)).json() == intent
    assert len(await _audit(database, their_workspace, "assistant.intent_changed")) == 0


# --- The console's `then` ----------------------------------------------------------------


@pytest.mark.parametrize(
    "then",
    [
        "refund_everything",
        "Order_Status",
        "ORDER_STATUS",
        "order_status ",
        " hand_off",
        "HAND_OFF",
        "on",
        "anything_else",
        "track_order",
        "\u043erder_status",
        "order\u200b_status",
        "order_status\u0000",
        "x" * 100,
    ],
    ids=repr,
)
async def test_an_unknown_then_is_a_422_page(
    client: httpx.AsyncClient, database: Database, then: str
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    response = await client.post(PAGE, data={**FORM, "then": then}, headers=headers)
    assert response.status_code == 422, response.text[:500]
    assert "Check what happens after the answer: pick one of the list." in response.text
    assert await count_intents(database, workspace_id) == 0


async def test_a_then_longer_than_the_field_is_a_422_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    for then in ("x" * 101, "order_status" + " " * 200, "order_status" * 10_000):
        response = await client.post(PAGE, data={**FORM, "then": then}, headers=headers)
        assert response.status_code == 422, response.text[:500]
        assert "Check the then field" in response.text
    assert await count_intents(database, workspace_id) == 0


async def test_a_missing_then_asks_for_anything_else(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    assert (await client.post(PAGE, data=FORM, headers=headers)).status_code == 303
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    assert (intent.task, intent.hand_off, intent.answer) == (None, False, FORM["answer"])


async def test_a_missing_then_and_no_answer_names_the_answer(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    for then in ("", "hand_off"):
        form = {**FORM, "answer": " \r\n ", "then": then}
        response = await client.post(PAGE, data=form, headers=headers)
        assert response.status_code == 422
        assert "Check the answer: an answer is needed unless the intent starts a task" in (
            response.text
        )
    assert await count_intents(database, workspace_id) == 0


async def test_the_old_hand_off_checkbox_no_longer_counts(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A form from before the change (hand_off=on) next to a task: the task alone is kept,
    never a 500 or a task that also hands off."""
    workspace_id, headers = await signed_in(database, Role.supervisor)
    form = {**FORM, "hand_off": "on", "then": "cancel_order"}
    assert (await client.post(PAGE, data=form, headers=headers)).status_code == 303
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    assert (intent.task, intent.hand_off) == ("cancel_order", False)


@pytest.mark.parametrize(
    ("values", "kept"),
    [
        (["order_status", "cancel_order"], "cancel_order"),
        (["hand_off", "order_status"], "order_status"),
        (["order_status", "refund_everything"], None),
    ],
)
async def test_a_repeated_then_is_read_as_its_last_value(
    client: httpx.AsyncClient, database: Database, values: list[str], kept: str | None
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    response = await client.post(PAGE, data={**FORM, "then": values}, headers=headers)
    if kept is None:
        assert response.status_code == 422
        assert await count_intents(database, workspace_id) == 0
        return
    assert response.status_code == 303, response.text[:500]
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    assert (intent.task, intent.hand_off) == (kept, False)


async def test_the_console_create_is_audited_with_its_task_and_the_form_shows_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    form = {**FORM, "answer": "", "then": "request_return"}
    assert (await client.post(PAGE, data=form, headers=headers)).status_code == 303
    [row] = await _audit(database, workspace_id, "assistant.intent_created")
    assert row.details == {"name": "store_hours", "examples": 2, "task": "request_return"}
    page = (await client.get(PAGE, headers=headers)).text
    assert '<option value="request_return" selected>' in page
    assert page.count('<option value="request_return" selected>') == 1  # not the new form
    assert "then: offer to start a return" in page
    assert "answers: “" not in page


# --- Turns: orders that are not the customer's ---------------------------------------------


STOP = CustomIntentWrite(
    name="stop_parcel",
    examples=["please stop my parcel", "stop my parcel please"],
    answer="I can stop it while it is still with us.",
    task="cancel_order",
    min_similarity=0.5,
)
STATUS = CustomIntentWrite(
    name="parcel_left",
    examples=["has my parcel left", "did my parcel leave"],
    task="order_status",
    min_similarity=0.5,
)


async def _shop(database: Database, *intents: CustomIntentWrite) -> str:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    async with database.session() as session:
        for intent in intents:
            await custom_intents.create(session, workspace.id, intent, SYSTEM)
    return workspace.id


async def _place(database: Database, workspace_id: str, customer_id: str, order_key: str) -> None:
    data = OrderInput(
        order_key=order_key, status=OrderStatus.completed, origin="event", channel="web",
        placed_at=utcnow(), customer_id=customer_id, total=Decimal("77.00"), currency="EUR",
    )  # fmt: skip
    async with database.session() as session:
        await orders.apply(session, workspace_id, data)


async def _order_in(database: Database, workspace_id: str, order_key: str) -> Order:
    async with database.session() as session:
        query = select(Order).where(
            Order.workspace_id == workspace_id, Order.order_key == order_key
        )
        return (await session.execute(query)).scalar_one()


async def _start(database: Database, workspace_id: str, text: str, customer_id: str | None) -> str:
    conversation_id = await open_conversation(database, workspace_id, text, customer_id)
    await Worker(database, concurrency=1).run_pending()
    return conversation_id


async def _assistant_says(database: Database, conversation_id: str) -> list[str]:
    return [
        body
        for author, private, body in await thread(database, conversation_id)
        if author == "assistant" and not private
    ]


async def _actions(database: Database, workspace_id: str) -> int:
    async with database.session() as session:
        query = select(func.count()).where(
            AuditEvent.workspace_id == workspace_id,
            AuditEvent.action.in_([f"assistant.{task}" for task in TASKS]),
        )
        return int((await session.execute(query)).scalar_one())


async def test_a_custom_task_matches_and_waits_for_yes(database: Database) -> None:
    """The ground the probes below stand on: the message takes the intent, the order is the
    customer's, the cancellation is proposed and not run."""
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"please stop my parcel {order}", buyer)
    said = await _assistant_says(database, conversation_id)
    assert said[0] == STOP.answer and said[1].startswith(f"Shall I cancel order {order}")
    assert (await conversation_row(database, conversation_id)).intent == "stop_parcel"
    assert (await order_row(database, order)).status == "completed"


@pytest.mark.parametrize("intent", [STOP, STATUS], ids=lambda intent: intent.task)
async def test_another_customers_order_is_never_shown_or_changed(
    database: Database, intent: CustomIntentWrite
) -> None:
    workspace_id = await _shop(database, intent)
    alice = await make_buyer(database, workspace_id, "alice@example.com")
    alices = await make_order(database, workspace_id, alice)
    mallory = await make_buyer(database, workspace_id, "mallory@example.com")
    text = f"{intent.examples[0]} {alices}"
    conversation_id = await _start(database, workspace_id, text, mallory)
    for guess in ("mallory@example.com", f"{alices} mallory@example.com", "yes", "yes"):
        await say(database, workspace_id, conversation_id, guess)
    said = await _assistant_says(database, conversation_id)
    assert replies.ENGLISH.ask_email in said
    assert not any("77.00" in reply or "49.00" in reply or "placed" in reply for reply in said)
    assert not any(reply.startswith("Shall I") for reply in said)
    assert (await order_row(database, alices)).status == "completed"
    assert await _actions(database, workspace_id) == 0
    assert len(await _audit(database, workspace_id, "assistant.order_status_shown")) == 0


async def test_a_customer_without_orders_is_handed_off_after_two_misses(
    database: Database,
) -> None:
    workspace_id = await _shop(database, STOP)
    nobody = await make_buyer(database, workspace_id, "new@example.com")
    someone = await make_buyer(database, workspace_id, "old@example.com")
    theirs = await make_order(database, workspace_id, someone)
    conversation_id = await _start(database, workspace_id, "please stop my parcel", nobody)
    assert await _assistant_says(database, conversation_id) == [
        STOP.answer,
        replies.ENGLISH.ask_order,
    ]
    for text in (theirs, "new@example.com", theirs, "new@example.com", "yes"):
        await say(database, workspace_id, conversation_id, text)
    said = await _assistant_says(database, conversation_id)
    assert replies.ENGLISH.not_found in said and replies.ENGLISH.handing_off_later in said
    assert not any(reply.startswith("Shall I") for reply in said)
    assert (await conversation_row(database, conversation_id)).status == "open"
    assert (await order_row(database, theirs)).status == "completed"


async def test_an_anonymous_visitor_must_give_the_orders_email(database: Database) -> None:
    workspace_id = await _shop(database, STATUS)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"has my parcel left {order}", None)
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.ask_email]
    await say(database, workspace_id, conversation_id, "eve@example.com")
    assert (await _assistant_says(database, conversation_id))[-1] == replies.ENGLISH.not_found
    assert len(await _audit(database, workspace_id, "assistant.order_status_shown")) == 0


async def test_an_order_of_another_workspace_with_the_same_number_is_out_of_reach(
    database: Database,
) -> None:
    """Two shops, one order number, one email: each conversation sees and changes only its
    own workspace's order."""
    number = "DUP-48151"
    mine = await _shop(database, STOP)
    theirs = await _shop(database, STOP)
    their_buyer = await make_buyer(database, theirs, "same@example.com")
    await _place(database, theirs, their_buyer, number)
    my_buyer = await make_buyer(database, mine, "same@example.com")  # no order here
    conversation_id = await _start(database, mine, f"please stop my parcel {number}", my_buyer)
    for text in ("same@example.com", "yes", f"{number} same@example.com", "yes"):
        await say(database, mine, conversation_id, text)
    said = await _assistant_says(database, conversation_id)
    assert not any(reply.startswith("Shall I") or "77.00" in reply for reply in said)
    assert (await _order_in(database, theirs, number)).status == "completed"
    assert await _actions(database, mine) == await _actions(database, theirs) == 0
    # Now with an order of that number in both: only this workspace's is cancelled.
    await _place(database, mine, my_buyer, number)
    other = await _start(database, mine, f"please stop my parcel {number}", my_buyer)
    await say(database, mine, other, "yes")
    assert (await _order_in(database, mine, number)).status == "cancelled"
    assert (await _order_in(database, theirs, number)).status == "completed"
    assert (await _actions(database, mine), await _actions(database, theirs)) == (1, 0)


# --- Turns: only a plain yes runs the action ---------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "yes but no",
        "yess",
        "yes, no wait",
        "no",
        "\U0001f44d",  # thumbs up
        "\u2705",  # check mark
        "y e s",
        "ye s",
        "yes cancel it",
        "yes yes",
        "\uff59\uff45\uff53",  # fullwidth yes
        "\u0443es",  # Cyrillic u
        "maybe",
        "I guess",
        "",
        "stop",
        "please stop my parcel",  # the intent again: proposed again, not run
    ],
    ids=repr,
)
async def test_anything_but_a_yes_leaves_the_order_as_it_is(database: Database, reply: str) -> None:
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"please stop my parcel {order}", buyer)
    if reply:
        await say(database, workspace_id, conversation_id, reply)
    assert (await order_row(database, order)).status == "completed"
    assert await _actions(database, workspace_id) == 0
    said = await _assistant_says(database, conversation_id)
    assert not any(text.startswith(f"Order {order} is cancelled") for text in said)


@pytest.mark.parametrize("reply", ["yess", "yes but no", "\U0001f44d", "maybe"], ids=repr)
async def test_a_yes_after_a_non_answer_no_longer_confirms(database: Database, reply: str) -> None:
    """The question was answered with something else: the proposal is dropped, and a later
    bare "yes" runs nothing."""
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"please stop my parcel {order}", buyer)
    await say(database, workspace_id, conversation_id, reply)
    await say(database, workspace_id, conversation_id, "yes")
    assert (await order_row(database, order)).status == "completed"
    assert await _actions(database, workspace_id) == 0


@pytest.mark.parametrize(
    "reply",
    ["yes", "Yes.", "YES!!!", "  yes  ", "yes \U0001f44d", "ok", "yes\u200b please"],
    ids=repr,
)
async def test_a_yes_however_cased_or_punctuated_confirms(database: Database, reply: str) -> None:
    """What counts as a yes (state.YES, case and punctuation ignored): documented here."""
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"please stop my parcel {order}", buyer)
    await say(database, workspace_id, conversation_id, reply)
    assert (await order_row(database, order)).status == "cancelled"
    assert await _actions(database, workspace_id) == 1


@pytest.mark.parametrize("reply", ["sure?", "yes?", "ok?"])
async def test_a_yes_asked_as_a_question_does_not_confirm(database: Database, reply: str) -> None:
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"please stop my parcel {order}", buyer)
    await say(database, workspace_id, conversation_id, reply)
    assert (await order_row(database, order)).status == "completed"


async def test_a_replayed_yes_runs_the_action_once(database: Database) -> None:
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"please stop my parcel {order}", buyer)
    await say(database, workspace_id, conversation_id, "yes")
    await say(database, workspace_id, conversation_id, "yes")
    said = await _assistant_says(database, conversation_id)
    assert sum(text.startswith(f"Order {order} is cancelled") for text in said) == 1
    assert said[-1] != said[-2]
    assert (await order_row(database, order)).status == "cancelled"
    assert await _actions(database, workspace_id) == 1


INVOICE = CustomIntentWrite(
    name="bill_again",
    examples=["send me the bill again", "I lost the bill"],
    task="resend_invoice",
    min_similarity=0.5,
)


async def test_two_yeses_posted_before_the_turns_run_send_one_invoice(database: Database) -> None:
    """Sending an invoice may be repeated, so only the dialogue's state stops a second run:
    two yeses taken at once by two workers still send one."""
    workspace_id = await _shop(database, INVOICE)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"send me the bill again {order}", buyer)
    await say(database, workspace_id, conversation_id, "ann@example.com")
    assert (await _assistant_says(database, conversation_id))[-1].startswith("Shall I")
    for _ in range(2):
        async with database.session() as session:
            body = MessageCreate(kind=MessageKind.customer, body="yes")
            await conversations.post(session, workspace_id, conversation_id, body, CUSTOMER)
    await Worker(database, concurrency=2).run_pending()
    assert await _actions(database, workspace_id) == 1
    said = await _assistant_says(database, conversation_id)
    done = f"The invoice of order {order} is on its way"
    assert sum(text.startswith(done) for text in said) == 1


async def test_a_change_of_address_runs_only_after_yes(database: Database) -> None:
    move = CustomIntentWrite(
        name="move_parcel",
        examples=["send my parcel elsewhere", "send the parcel to my office"],
        task="change_address",
        min_similarity=0.5,
    )
    workspace_id = await _shop(database, move)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(
        database, workspace_id, f"send my parcel elsewhere {order}", buyer
    )
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.ask_address]
    await say(database, workspace_id, conversation_id, "1 Rue de Rivoli, Paris")
    await say(database, workspace_id, conversation_id, "yes but no")
    assert (await order_row(database, order)).shipping_address is None
    await say(database, workspace_id, conversation_id, "yes")
    assert (await order_row(database, order)).shipping_address is None
    assert await _actions(database, workspace_id) == 0


async def test_an_invoice_intent_needs_the_orders_email_even_from_its_customer(
    database: Database,
) -> None:
    workspace_id = await _shop(database, INVOICE)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"send me the bill again {order}", buyer)
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.ask_email]
    await say(database, workspace_id, conversation_id, "eve@example.com")
    await say(database, workspace_id, conversation_id, "yes")
    said = await _assistant_says(database, conversation_id)
    assert not any(text.startswith("Shall I") for text in said)
    assert await _actions(database, workspace_id) == 0


async def test_a_return_of_an_order_not_shipped_is_refused_without_an_action(
    database: Database,
) -> None:
    back = CustomIntentWrite(
        name="send_back",
        examples=["I want to send it back", "can I send it back"],
        task="request_return",
        min_similarity=0.5,
    )
    workspace_id = await _shop(database, back)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await _start(database, workspace_id, f"I want to send it back {order}", buyer)
    await say(database, workspace_id, conversation_id, "yes")
    assert (await order_row(database, order)).return_requested_at is None
    assert await _actions(database, workspace_id) == 0


# --- The built-in check ------------------------------------------------------------------


@pytest.mark.parametrize(
    "examples",
    [
        ["w" * 300, "where " * 50, "complain " * 33 + "x"],
        ["Где моя посылка? where", "我的包裹在哪里 track", "أين طردي cancel", "parcel 🚚 where"],
        [
            "\u202ewhere is it",
            "tra\u200bck it",
            "in\u00advoice please",
            "\uff57\uff48\uff45\uff52\uff45 is it",
        ],
        ["12345", "#5000", "DEMO-1001 where"],
        ["Ǎ" * 300, "ﷺ" * 150, "\U0001d500\U0001d4f1\U0001d4ee\U0001d4fb\U0001d4ee is my parcel"],
    ],
    ids=["long", "mixed scripts", "invisible", "order numbers", "wide"],
)
async def test_the_report_reads_odd_examples_without_a_500(
    client: httpx.AsyncClient, database: Database, examples: list[str]
) -> None:
    _, key = await workspace_key(database)
    for task in (None, "order_status", "cancel_order"):
        body = {"name": "oddity", "examples": examples, "answer": "Hm.", "task": task}
        listed = (await client.get(URL, headers=key)).json()["items"]
        if listed:
            response = await client.put(f"{URL}/{listed[0]['id']}", json=body, headers=key)
        else:
            response = await client.post(URL, json=body, headers=key)
        assert response.status_code in (200, 201), response.text
        report = await client.get(f"{URL}/report", headers=key)
        assert report.status_code == 200, report.text
        [item] = report.json()["items"]
        assert set(item["built_in"]) <= ACTING_INTENTS
        assert sum(item["built_in"].values()) <= len(examples)
        assert all(count > 0 for count in item["built_in"].values())


async def test_the_shipped_model_reads_odd_examples_from_their_stored_vectors(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The real path: the shipped classifier over MiniLM, reading the stored vectors."""
    _, key = await workspace_key(database)
    use_models(None)
    examples = [
        "w" * 300,
        "Где моя посылка? where is my order",
        "我的包裹在哪里 I want to track my order",
        "\u202ewhere is my order",
        "tra\u200bck my order",
        "12345",
        "\U0001d500\U0001d4f1\U0001d4ee\U0001d4fb\U0001d4ee is my parcel",
        "Ǎ" * 300,
    ]
    with embedding_with(minilm_embedder()):
        for name, task in (("odd_answer", None), ("odd_status", "order_status")):
            body = {"name": name, "examples": examples, "answer": "Hm.", "task": task}
            assert (await client.post(URL, json=body, headers=key)).status_code == 201
        report = await client.get(f"{URL}/report", headers=key)
    assert report.status_code == 200, report.text
    by_name = {item["name"]: item["built_in"] for item in report.json()["items"]}
    assert set(by_name["odd_answer"]) <= ACTING_INTENTS
    assert by_name["odd_answer"].get("track_order", 0) >= 1
    assert "track_order" not in by_name["odd_status"]


async def test_the_report_reads_each_example_as_a_turn_would_label_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The check reads stored vectors; a customer's message is embedded again by the
    classifier: the two readings agree on what the assistant acts on."""
    _, key = await workspace_key(database)
    use_models(None)
    examples = [
        "Where is my order?",
        "I want to cancel my order",
        "can i talk to an agent",
        "I want to make a complaint about the courier",
        "send me the invoice again",
        "Is gift wrap free?",
        "  where   is\tmy   order  ",
        "\u00bfD\u00f3nde est\u00e1 mi pedido? where is my order",
    ]
    with embedding_with(minilm_embedder()):
        body = {"name": "mixed", "examples": examples, "answer": "Hm."}
        assert (await client.post(URL, json=body, headers=key)).status_code == 201
        [item] = (await client.get(f"{URL}/report", headers=key)).json()["items"]
        readings = [label_text(example) for example in examples]
    expected = Counter(
        labels.intent
        for labels in readings
        if labels.intent in ACTING_INTENTS and labels.intent_confidence >= 0.6
    )
    assert item["built_in"] == dict(sorted(expected.items()))


async def test_the_report_spares_only_the_intents_own_task(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)  # the fake intents read keywords
    examples = ["where is it", "cancel it", "my invoice", "human please", "I complain"]
    expected = {
        None: {
            "cancel_order": 1, "complaint": 1, "contact_human_agent": 1, "get_invoice": 1,
            "track_order": 1,
        },
        "order_status": {
            "cancel_order": 1, "complaint": 1, "contact_human_agent": 1, "get_invoice": 1,
        },
        "cancel_order": {
            "complaint": 1, "contact_human_agent": 1, "get_invoice": 1, "track_order": 1,
        },
        "resend_invoice": {
            "cancel_order": 1, "complaint": 1, "contact_human_agent": 1, "track_order": 1,
        },
    }  # fmt: skip
    intent_id = None
    for task, built_in in expected.items():
        body = {"name": "mixed", "examples": examples, "answer": "Hm.", "task": task}
        if intent_id is None:
            intent_id = (await client.post(URL, json=body, headers=key)).json()["id"]
        else:
            assert (await client.put(f"{URL}/{intent_id}", json=body, headers=key)).is_success
        [item] = (await client.get(f"{URL}/report", headers=key)).json()["items"]
        assert item["built_in"] == built_in, task


async def test_the_report_leaves_out_disabled_and_other_workspaces_intents(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, theirs = await workspace_key(database)
    spy = {"name": "spy", "examples": ["where is the launch"], "answer": "Soon."}
    assert (await client.post(URL, json=spy, headers=theirs)).status_code == 201
    _, key = await workspace_key(database)
    off = {**PARCEL, "examples": ["where is it", "cancel it"], "enabled": False}
    assert (await client.post(URL, json=off, headers=key)).status_code == 201
    assert (await client.get(f"{URL}/report", headers=key)).json() == {"items": []}


# --- Rules before custom intents -----------------------------------------------------------


async def test_a_request_for_a_person_beats_an_intent_with_a_task(database: Database) -> None:
    workspace_id = await _shop(database, STOP)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    text = f"please stop my parcel {order}, I want a human"
    conversation_id = await _start(database, workspace_id, text, buyer)
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.handing_off_later]
    assert (await order_row(database, order)).status == "completed"


async def test_a_complaint_the_report_warns_of_goes_to_people(
    client: httpx.AsyncClient, database: Database
) -> None:
    gripe = CustomIntentWrite(
        name="stop_parcel",
        examples=["I complain, stop my parcel", "stop my parcel please"],
        task="cancel_order",
    )
    workspace_id = await _shop(database, gripe)
    report = await custom_intents.report(database.engine, workspace_id)
    assert report.items[0].built_in == {"complaint": 1}  # "such messages go to people"
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    conversation_id = await _start(database, workspace_id, "I complain, stop my parcel", buyer)
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.handing_off_later]


async def test_a_request_for_service_the_report_warns_of_goes_to_people(
    database: Database,
) -> None:
    classifier = FakeIntentClassifier({"manager": "contact_customer_service", **KEYWORDS})
    use_models(Models(classifier, FakeSentimentAnalyzer(), FakeLanguageDetector("en")))
    manager = CustomIntentWrite(
        name="stop_parcel",
        examples=["get me your manager to stop my parcel", "stop my parcel please"],
        task="cancel_order",
    )
    workspace_id = await _shop(database, manager)
    report = await custom_intents.report(database.engine, workspace_id)
    assert report.items[0].built_in == {"contact_customer_service": 1}
    conversation_id = await _start(
        database, workspace_id, "get me your manager to stop my parcel", None
    )
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.handing_off_later]


async def test_with_the_shipped_models_a_flagged_complaint_goes_to_people(
    database: Database,
) -> None:
    use_models(None)
    courier = CustomIntentWrite(
        name="courier_trouble",
        examples=[
            "I want to make a complaint about the courier",
            "Who is your courier?",
            "Which courier do you use?",
        ],
        answer="We ship with DHL.",
    )
    with embedding_with(minilm_embedder()):
        workspace_id = await _shop(database, courier)
        report = await custom_intents.report(database.engine, workspace_id)
        assert report.items[0].built_in == {"complaint": 1}
        conversation_id = await _start(
            database, workspace_id, "I want to make a complaint about the courier", None
        )
    assert await _assistant_says(database, conversation_id) == [replies.ENGLISH.handing_off_later]
