"""An outside probe of the assistant's labels where people work (and where customers must not
see them): another workspace and a team-limited agent never reach conversations through the
sentiment and intent filters or saved views; the widget's payloads carry no labels; odd,
wrong, repeated and hostile filter values are refused (422), never a 500; the console pages
escape whatever the labels hold."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.core.db import Database
from rapport.domains import load_tasks
from rapport.support.assistant_desk import MessageLabels
from rapport.support.enums import Channel
from rapport.support.teams import teams
from rapport.worker.runner import Worker
from tests.fixtures.agent_tools import make_saved_view
from tests.fixtures.assistant import enable_assistant, use_fakes
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace
from tests.fixtures.sessions import session_headers
from tests.fixtures.sessions import sign_in as session_sign_in
from tests.fixtures.support import make_team
from tests.fixtures.support_console import (
    ANGRY,
    CALM,
    Desk,
    conversation_url,
    join_team,
    label_latest,
    listed,
    make_desk,
    open_conversation,
)
from tests.web.console import csrf_of, sign_in

URL = "/api/v1/conversations"
HAPPY = MessageLabels("de", "out_of_scope", 0.2, "positive", 0.66)
LABEL_FIELDS = ("detected_language", "intent", "intent_confidence", "sentiment", "sentiment_score")


async def ids(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> list[str]:
    response = await client.get(f"{URL}?{query}", headers=headers)
    assert response.status_code == 200, (query, response.text)
    return [item["id"] for item in response.json()["items"]]


# Another workspace --------------------------------------------------------------------------


async def test_another_workspace_sees_nothing_through_the_filters_or_the_ids(
    client: httpx.AsyncClient, database: Database
) -> None:
    theirs = await make_desk(database)
    angry = await open_conversation(database, theirs.workspace.id, "Annulez tout !")
    await label_latest(database, theirs.workspace.id, angry, ANGRY)
    their_view = await make_saved_view(database, theirs.workspace.id, {"sentiment": "negative"})
    mine = await make_workspace(database)
    headers = bearer(await make_api_key(database, mine))
    for query in ("sentiment=negative", "intent=cancel_order", "sentiment=negative&limit=200"):
        assert await ids(client, query, headers) == [], query
    for path in (f"{URL}/{angry}", f"{URL}/{angry}/messages"):
        assert (await client.get(path, headers=headers)).status_code == 404, path
    shown = await client.get(f"/api/v1/saved-views/{their_view}/conversations", headers=headers)
    assert shown.status_code == 404
    assert (await client.get("/api/v1/saved-views", headers=headers)).json() == []


async def test_another_workspaces_saved_view_is_not_found_in_the_console(
    client: httpx.AsyncClient, database: Database
) -> None:
    theirs = await make_desk(database)
    angry = await open_conversation(database, theirs.workspace.id, "Annulez tout !")
    await label_latest(database, theirs.workspace.id, angry, ANGRY)
    their_view = await make_saved_view(database, theirs.workspace.id, {"sentiment": "negative"})
    mine = await make_desk(database)
    await sign_in(client, mine.agent.email, mine.agent.password)
    inbox = await client.get(f"/console/inbox?saved={their_view}")
    assert inbox.status_code == 404
    assert angry not in inbox.text
    filtered = await client.get("/console/inbox?status=any&sentiment=negative")
    assert filtered.status_code == 200 and listed(filtered.text) == []
    page = await client.get(conversation_url(angry))
    assert page.status_code == 404 and "Cancel order" not in page.text


# A team-limited agent -----------------------------------------------------------------------


async def limited_desk(database: Database) -> tuple[Desk, dict[str, str], str, list[str]]:
    """A desk whose agent sees only the Returns team's conversations; three negative ones:
    the team's, another team's and an unassigned one (their ids, the team's first)."""
    desk = await make_desk(database)
    other_team = await make_team(database, desk.workspace.id, "Billing")
    await join_team(database, desk.workspace.id, desk.team_id, desk.agent.user.id)
    async with database.session() as session:
        await teams.limit_agent(session, desk.workspace.id, desk.agent.user.id, True)
    found = []
    for team_id in (desk.team_id, other_team, None):
        conversation_id = await open_conversation(
            database, desk.workspace.id, "Annulez tout !", team_id=team_id
        )
        await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
        found.append(conversation_id)
    headers = session_headers((await session_sign_in(database, desk.agent)).token)
    return desk, headers, desk.team_id, found


async def test_a_team_limited_agent_sees_only_the_teams_through_the_api_filters(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers, _, (ours, theirs, unassigned) = await limited_desk(database)
    for query in (
        "sentiment=negative",
        "intent=cancel_order",
        "sentiment=negative&intent=cancel_order",
        "sentiment=negative&status=open",
        "sentiment=negative&limit=1",
    ):
        assert await ids(client, query, headers) == [ours], query
    for conversation_id in (theirs, unassigned):
        assert (await client.get(f"{URL}/{conversation_id}", headers=headers)).status_code in (
            403,
            404,
        )


async def test_a_team_limited_agent_sees_only_the_teams_through_a_shared_saved_view(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, headers, _, (ours, _, _) = await limited_desk(database)
    view_id = await make_saved_view(
        database, desk.workspace.id, {"sentiment": "negative", "intent": "cancel_order"}, "Upset"
    )
    shown = await client.get(f"/api/v1/saved-views/{view_id}/conversations", headers=headers)
    assert [item["id"] for item in shown.json()["items"]] == [ours]
    [view] = (await client.get("/api/v1/saved-views", headers=headers)).json()
    assert (view["count"], view["more"]) == (1, False)


async def test_a_team_limited_agent_sees_only_the_teams_in_the_console_inbox(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, _, (ours, _, _) = await limited_desk(database)
    view_id = await make_saved_view(database, desk.workspace.id, {"sentiment": "negative"})
    await sign_in(client, desk.agent.email, desk.agent.password)
    for path in (
        "/console/inbox?status=any&sentiment=negative",
        "/console/inbox?view=all&status=open&sentiment=negative",
        "/console/inbox?view=unassigned&status=any&sentiment=negative",
        f"/console/inbox?saved={view_id}",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert listed(response.text) == [ours], path
    rows = await client.get(
        "/console/inbox?status=any&sentiment=negative", headers={"HX-Request": "true"}
    )
    assert listed(rows.text) == [ours]


async def test_a_colleagues_own_view_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    angry = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, angry, ANGRY)
    colleague = session_headers((await session_sign_in(database, desk.colleague)).token)
    body = {"name": "My upset", "filters": {"sentiment": "negative"}, "shared": False}
    created = await client.post("/api/v1/saved-views", json=body, headers=colleague)
    assert created.status_code == 201, created.text
    view_id = created.json()["id"]
    agent = session_headers((await session_sign_in(database, desk.agent)).token)
    shown = await client.get(f"/api/v1/saved-views/{view_id}/conversations", headers=agent)
    assert shown.status_code == 404
    assert (await client.get("/api/v1/saved-views", headers=agent)).json() == []
    inbox = await client.get(f"/console/inbox?saved={view_id}", headers=agent)
    assert inbox.status_code == 404 and angry not in inbox.text


# Filters: paging, combinations, odd values ----------------------------------------------------


async def test_the_filters_page_by_keyset_without_losing_or_mixing_conversations(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    negative = []
    for index in range(5):
        conversation_id = await open_conversation(database, desk.workspace.id, f"Nope {index}")
        await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
        negative.append(conversation_id)
        calm = await open_conversation(database, desk.workspace.id, f"Fine {index}")
        await label_latest(database, desk.workspace.id, calm, CALM)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = "sentiment=negative&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"{URL}?{query}", headers=headers)).json()
        seen.extend(item["id"] for item in page["items"])
        assert all(item["sentiment"] == "negative" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(negative) and len(seen) == len(set(seen))


async def test_the_conversation_carries_the_latest_mood_and_language_and_keeps_the_request(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    conversation_id = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
    sent = await client.post(
        f"{URL}/{conversation_id}/messages",
        json={"kind": "customer", "body": "Danke, alles gut!"},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    await label_latest(database, desk.workspace.id, conversation_id, HAPPY)
    assert await ids(client, "sentiment=negative", headers) == []
    assert await ids(client, "intent=out_of_scope", headers) == []
    assert await ids(client, "sentiment=positive&intent=cancel_order", headers) == [conversation_id]
    conversation = (await client.get(f"{URL}/{conversation_id}", headers=headers)).json()
    assert (conversation["sentiment"], conversation["detected_language"]) == ("positive", "de")
    assert conversation["intent"] == "cancel_order"
    messages = (await client.get(f"{URL}/{conversation_id}/messages", headers=headers)).json()
    assert [item["sentiment"] for item in messages["items"]] == ["negative", "positive"]


async def test_a_note_and_a_reply_carry_no_labels(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    conversation_id = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
    for kind in ("note", "reply"):
        sent = await client.post(
            f"{URL}/{conversation_id}/messages", json={"kind": kind, "body": "ok"}, headers=headers
        )
        assert sent.status_code == 201
    messages = (await client.get(f"{URL}/{conversation_id}/messages", headers=headers)).json()
    assert [[item[name] for name in LABEL_FIELDS] for item in messages["items"]] == [
        ["fr", "cancel_order", 0.9172, "negative", -0.7134],
        [None] * 5,
        [None] * 5,
    ]


@pytest.mark.parametrize(
    "query",
    [
        "sentiment=NEGATIVE",
        "sentiment=Negative",
        "sentiment=negative%20",
        "sentiment=%20negative",
        "sentiment=negative%00",
        "sentiment=negative'%20OR%20'1'='1",
        "sentiment=1",
        "sentiment=-1",
        "sentiment=true",
        "sentiment=null",
        "sentiment=mixed",
        "sentiment=" + "n" * 10_000,
        "sentiment=n%C3%A9gative",
        "intent=cancel_order%0A",
        "intent=cancel_order%0D%0A",
        "intent=%0Acancel_order",
        "intent=cancel_order%00",
        "intent=cancel-order",
        "intent=Cancel_order",
        "intent=CANCEL_ORDER",
        "intent=cancel%20order",
        "intent=_cancel",
        "intent=1cancel",
        "intent=a",
        "intent=%27%20OR%201%3D1--",
        "intent=cancel_order'--",
        "intent=%25",
        "intent=*",
        "intent=caf%C3%A9",
        "intent=%EF%BC%A1bc",
        "intent=a" + "a" * 64,
        "intent=" + "a" * 60_000,
        "intent=ab%E2%80%8B",
        "limit=0&sentiment=negative",
        "limit=201&sentiment=negative",
        "sentiment[]=negative",
        "cursor=%00&sentiment=negative",
        "sentiment=",  # the API has no "any" choice to send empty
        "intent=",
    ],
)
async def test_odd_filter_values_are_refused_with_422(
    client: httpx.AsyncClient, database: Database, query: str
) -> None:
    workspace = await make_workspace(database)
    headers = bearer(await make_api_key(database, workspace))
    response = await client.get(f"{URL}?{query}", headers=headers)
    if query == "sentiment[]=negative":  # an unknown parameter is ignored, like any other
        assert response.status_code == 200
        return
    assert response.status_code == 422, (query, response.status_code, response.text[:300])


async def test_odd_but_valid_filter_values_answer_200(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    angry = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, angry, ANGRY)
    assert await ids(client, "intent=" + "a" * 64, headers) == []
    assert await ids(client, "intent=a1", headers) == []
    assert await ids(client, "intent=contact_human_agent", headers) == []
    # A repeated parameter: the last one counts (FastAPI's rule for a single value).
    assert await ids(client, "sentiment=positive&sentiment=negative", headers) == [angry]
    assert await ids(client, "sentiment=negative&sentiment=positive", headers) == []
    assert await ids(client, "intent=complaint&intent=cancel_order", headers) == [angry]
    # Every filter at once, still one conversation.
    everything = "status=open&channel=api&priority=high&sentiment=negative&intent=cancel_order"
    assert await ids(client, everything, headers) == [angry]


# Saved views ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        {"sentiment": "NEGATIVE"},
        {"sentiment": "angry"},
        {"sentiment": 1},
        {"sentiment": ["negative"]},
        {"sentiment": {"$ne": None}},
        {"sentiment": ""},
        {"intent": "Cancel order"},
        {"intent": "cancel_order\n"},
        {"intent": "a" * 65},
        {"intent": 7},
        {"intent": ["cancel_order"]},
        {"intent": "x"},
        {"intent": "' OR 1=1 --"},
        {"intent": ""},
    ],
)
async def test_a_saved_view_with_odd_label_filters_is_refused(
    client: httpx.AsyncClient, database: Database, filters: dict[str, object]
) -> None:
    workspace = await make_workspace(database)
    headers = bearer(await make_api_key(database, workspace))
    body = {"name": "Odd", "filters": filters, "shared": True}
    response = await client.post("/api/v1/saved-views", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert (await client.get("/api/v1/saved-views", headers=headers)).json() == []


async def test_a_saved_view_keeps_its_label_filters_and_counts_them(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    angry = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, angry, ANGRY)
    calm = await open_conversation(database, desk.workspace.id, "Shipping?")
    await label_latest(database, desk.workspace.id, calm, CALM)
    body = {"name": "Calm", "filters": {"sentiment": "neutral"}, "shared": True}
    created = await client.post("/api/v1/saved-views", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["filters"]["sentiment"] == "neutral"
    [view] = (await client.get("/api/v1/saved-views", headers=headers)).json()
    assert (view["count"], view["filters"]["sentiment"], view["filters"]["intent"]) == (
        1,
        "neutral",
        None,
    )
    shown = await client.get(f"/api/v1/saved-views/{view['id']}/conversations", headers=headers)
    assert [item["id"] for item in shown.json()["items"]] == [calm]


# The console inbox and its "Save a view" form ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "sentiment=NEGATIVE",
        "sentiment=negative%27%22%3E%3Cscript%3E",
        "sentiment=" + "x" * 5_000,
        "sentiment=1",
    ],
)
async def test_the_console_inbox_refuses_odd_sentiments(
    client: httpx.AsyncClient, database: Database, query: str
) -> None:
    desk = await make_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    response = await client.get(f"/console/inbox?{query}")
    assert response.status_code == 422, response.text[:300]
    assert "<script>" not in response.text


async def test_the_console_inbox_keeps_the_sentiment_in_its_links(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    angry = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, angry, ANGRY)
    await sign_in(client, desk.agent.email, desk.agent.password)
    page = (await client.get("/console/inbox?status=any&sentiment=negative")).text
    assert 'data-live-url="/console/inbox?view=all&amp;status=any&amp;sentiment=negative"' in page
    assert '<input type="hidden" name="sentiment" value="negative">' in page
    assert listed(page) == [angry]
    # The same filter twice: the last one counts.
    twice = await client.get("/console/inbox?status=any&sentiment=positive&sentiment=negative")
    assert listed(twice.text) == [angry]


async def test_the_inbox_form_with_any_sentiment_is_not_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The filter form sends every select, "Any ..." as an empty value."""
    desk = await make_desk(database)
    await open_conversation(database, desk.workspace.id, "Hello")
    await sign_in(client, desk.agent.email, desk.agent.password)
    response = await client.get("/console/inbox?view=all&status=open&priority=&channel=&sentiment=")
    assert response.status_code == 200, response.text[:300]
    assert len(listed(response.text)) == 1


@pytest.mark.parametrize("sentiment", ["furious", "NEGATIVE", "negative\n", "x" * 5000])
async def test_saving_a_view_with_an_odd_sentiment_is_refused_not_a_500(
    client: httpx.AsyncClient, database: Database, sentiment: str
) -> None:
    desk = await make_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    token = csrf_of((await client.get("/console/inbox")).text)
    saved = await client.post(
        "/console/inbox/views",
        data={"name": "Odd", "status": "any", "sentiment": sentiment, "csrf_token": token},
    )
    assert saved.status_code == 422, saved.text[:300]
    assert (await client.get("/api/v1/saved-views", headers={"X-CSRF-Token": token})).json() == []


async def test_saving_a_view_with_any_sentiment_keeps_none(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    token = csrf_of((await client.get("/console/inbox")).text)
    for name, sentiment in (("Any", "any"), ("Blank", ""), ("Happy", "positive")):
        saved = await client.post(
            "/console/inbox/views",
            data={"name": name, "status": "any", "sentiment": sentiment, "csrf_token": token},
        )
        assert saved.status_code == 303, saved.text[:300]
    views = (await client.get("/api/v1/saved-views", headers={"X-CSRF-Token": token})).json()
    assert {view["name"]: view["filters"]["sentiment"] for view in views} == {
        "Any": None,
        "Blank": None,
        "Happy": "positive",
    }


# What the console shows is escaped ------------------------------------------------------------


async def test_labels_holding_markup_are_escaped_on_the_console_pages(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The models name the intent and language; whatever they hold is shown escaped."""
    desk = await make_desk(database)
    conversation_id = await open_conversation(database, desk.workspace.id, "<b>hi</b>")
    hostile = MessageLabels('"><img src=x>', "<script>alert(1)</script>", 0.5, "negative", -0.9)
    await label_latest(database, desk.workspace.id, conversation_id, hostile)
    await sign_in(client, desk.agent.email, desk.agent.password)
    for path in (
        conversation_url(conversation_id),
        f"{conversation_url(conversation_id)}/state",
        f"{conversation_url(conversation_id)}/thread",
        "/console/inbox?status=any&sentiment=negative",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<script>alert(1)" not in response.text, path
        assert "<img src=x" not in response.text, path
    page = (await client.get(conversation_url(conversation_id))).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x&gt;" in page


async def test_an_undetermined_language_is_not_shown(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    conversation_id = await open_conversation(database, desk.workspace.id, "!!!")
    labels = MessageLabels("und", "out_of_scope", 0.0, "neutral", 0.0)
    await label_latest(database, desk.workspace.id, conversation_id, labels)
    await sign_in(client, desk.agent.email, desk.agent.password)
    page = (await client.get(conversation_url(conversation_id))).text
    assert "<dd data-intent" in page and "Out of scope" in page
    assert "data-detected-language" not in page and "· und" not in page


# The widget: customers never see the labels ---------------------------------------------------


@pytest.fixture
def _fake_assistant() -> Iterator[None]:
    load_tasks()
    use_fakes()
    yield
    use_models(None)
    use_search(None)


async def test_the_widget_never_carries_the_labels(
    client: httpx.AsyncClient, database: Database, _fake_assistant: None
) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id, Channel.chat)
    source = await make_source(database, workspace)
    started = await client.post("/widget/sessions", json={"write_key": source.write_key})
    token = started.json()["visitor_token"]
    visitor = {"Authorization": f"Bearer {token}"}
    payload = {"client_id": "client-0001", "body": "I want to complain, cancel it now!"}
    sent = await client.post("/widget/messages", json=payload, headers=visitor)
    assert sent.status_code == 201, sent.text
    conversation_id = sent.json()["conversation_id"]
    await Worker(database, concurrency=1).run_pending()
    headers = bearer(await make_api_key(database, workspace))
    conversation = (await client.get(f"{URL}/{conversation_id}", headers=headers)).json()
    assert conversation["sentiment"] is not None and conversation["intent"] is not None
    again = await client.post("/widget/messages", json=payload, headers=visitor)  # a resend
    caught_up = await client.get("/widget/messages?after=0", headers=visitor)
    restarted = await client.post(
        "/widget/sessions", json={"write_key": source.write_key}, headers=visitor
    )
    assert caught_up.json()["items"], caught_up.text
    for response in (sent, again, caught_up, restarted):
        text = response.text
        for name in (*LABEL_FIELDS, "intent_confidence", "cancel_order", "complaint"):
            assert f'"{name}"' not in text, (name, text[:300])
        assert "negative" not in text and "sentiment" not in text, text[:300]
