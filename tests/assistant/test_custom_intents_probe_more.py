"""An outside probe of custom intents' counts by day and answers in other languages: the
matches window's `days` at and past its edges, counts that stay with an intent through a
rename and go with it when deleted, never another workspace's; translations with odd keys and
values through the API, the console's "[fr]" blocks at their edges, and what the console
page shows of them (escaped). Nothing answers 500."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import NamedTuple

import httpx
import pytest
from sqlalchemy import select

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.labels import Models, use_models
from rapport.assistant.models import CustomIntentDay
from rapport.assistant.repository import CustomIntentDayRepository
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.nlp.fakes import FakeIntentClassifier, FakeLanguageDetector, FakeSentimentAnalyzer
from rapport.worker.runner import Worker
from tests.fixtures.assistant import KEYWORDS, enable_assistant, open_conversation, thread
from tests.fixtures.custom_intents import (
    FORM,
    HOURS,
    PAGE,
    URL,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    signed_in,
    workspace_key,
)
from tests.fixtures.identity import bearer, make_api_key, make_workspace

ASKED = HOURS["examples"][0]  # the fake embedder finds an example's own words at 1.0
MATCHES = f"{URL}/matches"
# Right-to-left embedding around Arabic words ("hello"), then the pop of the embedding.
RLE, MARHABA, PDF = "\u202b", "\u0645\u0631\u062d\u0628\u0627", "\u202c"


def speaking(language: str) -> None:
    """Label every message as written in `language` (the fake models otherwise)."""
    classifier = FakeIntentClassifier(KEYWORDS)
    use_models(Models(classifier, FakeSentimentAnalyzer(), FakeLanguageDetector(language)))


class Shop(NamedTuple):
    """A workspace whose assistant answers the API channel, a key of it, and its intent."""

    workspace_id: str
    headers: dict[str, str]
    intent_id: str


async def shop(database: Database, body: dict[str, object] | None = None) -> Shop:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    headers = bearer(await make_api_key(database, workspace))
    return Shop(workspace.id, headers, await _create(database, workspace.id, body))


async def _create(database: Database, workspace_id: str, body: dict[str, object] | None) -> str:
    write = CustomIntentWrite.model_validate(body or HOURS)
    async with database.session() as session:
        return (await custom_intents.create(session, workspace_id, write, SYSTEM)).id


async def ask(database: Database, workspace_id: str, text: str = ASKED) -> str:
    """Open a conversation with `text`, run its turn, return the assistant's reply."""
    conversation_id = await open_conversation(database, workspace_id, text)
    await Worker(database, concurrency=1).run_pending()
    return (await thread(database, conversation_id))[1][2]


async def totals(
    client: httpx.AsyncClient, headers: dict[str, str], days: int = 30
) -> dict[str, tuple[str, int]]:
    """Return each intent's name and count over the window, by id."""
    response = await client.get(f"{MATCHES}?days={days}", headers=headers)
    assert response.status_code == 200, response.text
    return {item["intent_id"]: (item["name"], item["total"]) for item in response.json()["items"]}


# The matches window ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("days=", 422),
        ("days=%20", 422),
        ("days=1e2", 422),
        ("days=0x10", 422),
        ("days=" + "9" * 40, 422),
        ("days=-0", 422),
        ("days=-1", 422),
        ("days=%00", 422),
        ("days=true", 422),
        ("days=null", 422),
        ("days=NaN", 422),
        ("days=inf", 422),
        ("days=2.5", 422),
        ("days=367", 422),
        ("days=%E2%91%A0", 422),  # a circled digit one
        ("days=%D9%A3", 422),  # an Arabic-Indic three
        ("days=1;DROP%20TABLE%20assistant_intent_days", 422),
        ("days=1%27%20OR%20%271%27=%271", 422),
        # Read as numbers by pydantic's lax integers: harmless.
        ("days=2.0", 200),
        ("days=%207%20", 200),
        ("days=07", 200),
        ("days=+7", 200),
        ("days=7_0", 200),
        ("days[]=3", 200),  # an unknown parameter: the default window
    ],
)
async def test_an_odd_window_is_refused_or_read_never_a_500(
    client: httpx.AsyncClient, database: Database, query: str, status: int
) -> None:
    _, headers = await workspace_key(database)
    response = await client.get(f"{MATCHES}?{query}", headers=headers)
    assert response.status_code == status, (query, response.text[:300])
    if status == 422:
        assert "days" in response.text


async def test_the_window_edges_and_a_repeated_days(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers, _ = await shop(database)
    for days in (1, 2, 30, 365, 366):
        report = (await client.get(f"{MATCHES}?days={days}", headers=headers)).json()
        [item] = report["items"]
        assert len(item["days"]) == days, days
        assert item["days"][0]["day"] == report["first_day"]
        assert item["days"][-1]["day"] == report["last_day"] == utcnow().date().isoformat()
    twice = (await client.get(f"{MATCHES}?days=400&days=3", headers=headers)).json()
    assert len(twice["items"][0]["days"]) == 3  # the last one counts
    default = (await client.get(MATCHES, headers=headers)).json()
    assert len(default["items"][0]["days"]) == 30


async def test_a_count_older_than_the_window_is_left_out(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers, intent_id = await shop(database)
    today = utcnow().date()
    async with database.session() as session:
        days = CustomIntentDayRepository(session, workspace_id)
        for back in (0, 6, 7, 29, 30, 365, 366, 400):
            await days.add_match(intent_id, today - timedelta(days=back))
    assert (await totals(client, headers, 7))[intent_id][1] == 2
    assert (await totals(client, headers, 30))[intent_id][1] == 4
    assert (await totals(client, headers, 366))[intent_id][1] == 6


async def test_a_full_workspace_over_a_year_answers(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers, _ = await shop(database)
    async with database.session() as session:
        for index in range(99):
            body = CustomIntentWrite(
                name=f"intent_{index:02d}", examples=[f"question {index}"], answer="A."
            )
            intent = await custom_intents.create(session, workspace_id, body, SYSTEM)
            await CustomIntentDayRepository(session, workspace_id).add_match(
                intent.id, utcnow().date()
            )
    report = await client.get(f"{MATCHES}?days=366", headers=headers)
    assert report.status_code == 200
    items = report.json()["items"]
    assert len(items) == 100 and sum(item["total"] for item in items) == 99
    assert [item["name"] for item in items] == sorted(item["name"] for item in items)


# Counts through the turn, renames, deletes and other workspaces --------------------------------


async def test_each_matched_message_counts_once_and_only_in_its_workspace(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine, my_headers, my_intent = await shop(database)
    theirs, their_headers, their_intent = await shop(database)
    for _ in range(3):
        assert await ask(database, mine) == HOURS["answer"]
    assert await ask(database, theirs) == HOURS["answer"]
    await ask(database, mine, "How long does shipping take?")  # not the intent's
    assert await totals(client, my_headers) == {my_intent: ("store_hours", 3)}
    assert await totals(client, their_headers) == {their_intent: ("store_hours", 1)}


async def test_another_workspaces_intent_id_is_never_counted(database: Database) -> None:
    mine, _, _ = await shop(database)
    theirs, _, their_intent = await shop(database)
    async with database.session() as session:
        await CustomIntentDayRepository(session, mine).add_match(their_intent, utcnow().date())
        await CustomIntentDayRepository(session, mine).add_match("0" * 32, utcnow().date())
    async with database.session() as session:
        assert [item.total for item in (await custom_intents.matches(session, mine)).items] == [0]
        assert [item.total for item in (await custom_intents.matches(session, theirs)).items] == [0]


async def test_counts_stay_with_a_renamed_intent_and_go_with_a_deleted_one(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers, intent_id = await shop(database)
    for _ in range(2):
        await ask(database, workspace_id)
    renamed = {**HOURS, "name": "opening_times"}
    put = await client.put(f"{URL}/{intent_id}", json=renamed, headers=headers)
    assert put.status_code == 200, put.text
    assert await totals(client, headers) == {intent_id: ("opening_times", 2)}
    await ask(database, workspace_id)
    assert await totals(client, headers) == {intent_id: ("opening_times", 3)}
    assert (await client.delete(f"{URL}/{intent_id}", headers=headers)).status_code == 204
    assert await totals(client, headers) == {}
    again = await client.post(URL, json=renamed, headers=headers)
    assert await totals(client, headers) == {again.json()["id"]: ("opening_times", 0)}


async def test_a_deleted_intent_leaves_no_counts_behind(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers, intent_id = await shop(database)
    await ask(database, workspace_id)
    assert (await client.delete(f"{URL}/{intent_id}", headers=headers)).status_code == 204
    async with database.session() as session:
        rows = await session.execute(
            select(CustomIntentDay).where(CustomIntentDay.workspace_id == workspace_id)
        )
        assert rows.scalars().all() == []


async def test_a_message_answered_in_its_language_is_counted_too(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers, intent_id = await shop(
        database, {**HOURS, "translations": {"fr": "Ouvert."}}
    )
    speaking("fr")
    assert await ask(database, workspace_id) == "Ouvert."
    speaking("de")
    assert await ask(database, workspace_id) == HOURS["answer"]
    assert await totals(client, headers) == {intent_id: ("store_hours", 2)}


async def test_a_changed_translation_is_seen_by_the_next_message(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers, intent_id = await shop(
        database, {**HOURS, "translations": {"fr": "Ouvert."}}
    )
    speaking("fr")
    assert await ask(database, workspace_id) == "Ouvert."
    changed = {**HOURS, "translations": {"fr": "Ouvert tous les jours."}}
    put = await client.put(f"{URL}/{intent_id}", json=changed, headers=headers)
    assert put.status_code == 200
    assert await ask(database, workspace_id) == "Ouvert tous les jours."
    cleared = await client.put(f"{URL}/{intent_id}", json=HOURS, headers=headers)
    assert cleared.json()["translations"] == {}  # a PUT without them takes them away
    assert await ask(database, workspace_id) == HOURS["answer"]


async def test_a_translation_is_sent_as_written_bidi_and_all(database: Database) -> None:
    written = f"{RLE}{MARHABA}\u060c \u0646\u062d\u0646{PDF}"
    workspace_id, _, _ = await shop(database, {**HOURS, "translations": {"ar": written}})
    speaking("ar")
    assert await ask(database, workspace_id) == written


# Translations through the API -----------------------------------------------------------------


@pytest.mark.parametrize(
    "translations",
    [
        {"": "x"},
        {" fr": "x"},
        {"fr ": "x"},
        {"fr\n": "x"},
        {"f r": "x"},
        {"f": "x"},
        {"fren": "x"},
        {"12": "x"},
        {"fr-ca": "x"},
        {"fr_CA": "x"},
        {"fr\u0430": "x"},  # a Cyrillic a
        {"\uff46\uff52": "x"},  # fullwidth letters
        {"fr": ""},
        {"fr": "   "},
        {"fr": "\u00a0\u3000"},
        {"fr": "\u200b\u200c\u200d\ufeff"},
        {"fr": "\u202e"},
        {"fr": "\u2066\u2069"},
        {"fr": "a\x00"},
        {"fr": "a\x1b[31m"},
        {"fr": "a\x85b"},
        {"fr": "x" * 2001},
        {"fr": None},
        {"fr": True},
        {"fr": ["a"]},
        {"fr": {"x": "y"}},
        {f"{chr(97 + n // 26)}{chr(97 + n % 26)}": "x" for n in range(31)},
        {
            f"{chr(97 + n // 676)}{chr(97 + n // 26 % 26)}{chr(97 + n % 26)}": "x"
            for n in range(5000)
        },
        None,
        "fr",
        [["fr", "x"]],
    ],
)
async def test_odd_translations_are_refused_with_422(
    client: httpx.AsyncClient, database: Database, translations: object
) -> None:
    _, headers = await workspace_key(database)
    response = await client.post(URL, json={**HOURS, "translations": translations}, headers=headers)
    assert response.status_code == 422, response.text[:300]
    assert "translations" in response.text
    assert (await client.get(URL, headers=headers)).json()["items"] == []


async def test_odd_but_valid_translations_are_kept(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await workspace_key(database)
    thirty = {f"{chr(97 + n // 26)}{chr(97 + n % 26)}": "é" * 2000 for n in range(30)}
    for translations, kept in [
        ({"FR": "Bonjour"}, {"fr": "Bonjour"}),
        ({"Fr": " Bonjour \r\nà  tous  "}, {"fr": "Bonjour\nà  tous"}),
        ({"ar": f"{RLE}{MARHABA}{PDF}"}, {"ar": f"{RLE}{MARHABA}{PDF}"}),
        ({"fr": "\u200bBonjour"}, {"fr": "\u200bBonjour"}),
        ({"fr": "<script>alert(1)</script>"}, {"fr": "<script>alert(1)</script>"}),
        ({"zh": "营业时间 🕘"}, {"zh": "营业时间 🕘"}),
        ({"fr": "x", "de": "y", "en": "z"}, {"de": "y", "en": "z", "fr": "x"}),
        (thirty, thirty),
        ({}, {}),
    ]:
        body = {**HOURS, "name": "store_hours", "translations": translations}
        created = await client.post(URL, json=body, headers=headers)
        assert created.status_code == 201, (translations, created.text[:300])
        assert created.json()["translations"] == kept
        assert list(created.json()["translations"]) == sorted(kept)
        read = await client.get(f"{URL}/{created.json()['id']}", headers=headers)
        assert read.json()["translations"] == kept
        await client.delete(f"{URL}/{created.json()['id']}", headers=headers)


async def test_a_code_that_lowercases_to_letters_is_still_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The Kelvin sign lowercases to k, but the pattern is checked first."""
    _, headers = await workspace_key(database)
    created = await client.post(
        URL, json={**HOURS, "translations": {"\u212ao": "안녕"}}, headers=headers
    )
    assert created.status_code == 422, created.text


async def test_two_codes_the_same_after_lowercasing_are_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await workspace_key(database)
    both = {"FR": "Bonjour (majuscules)", "fr": "Bonjour"}
    response = await client.post(URL, json={**HOURS, "translations": both}, headers=headers)
    assert response.status_code == 422, response.json()


async def test_only_the_two_letter_codes_the_detector_names_are_taken(
    client: httpx.AsyncClient, database: Database
) -> None:
    """`und` (no language found) and three-letter codes would never be picked."""
    _, headers = await workspace_key(database)
    for code in ("und", "fra", "deu"):
        body = {**HOURS, "translations": {code: "Ouvert."}}
        response = await client.post(URL, json=body, headers=headers)
        assert response.status_code == 422 and "translations" in response.text, code
    many = {f"{chr(97 + n // 26)}{chr(97 + n % 26)}": "x" for n in range(29)}
    many |= {"ZZ": "a", "zz": "b"}  # 31 codes, 30 once lowercased: refused as a pair
    response = await client.post(URL, json={**HOURS, "translations": many}, headers=headers)
    assert response.status_code == 422 and "zz is given twice" in response.text


# The console's "[fr]" blocks ---------------------------------------------------------------------


async def console_post(
    client: httpx.AsyncClient, headers: dict[str, str], blocks: str
) -> httpx.Response:
    return await client.post(PAGE, data={**FORM, "translations": blocks}, headers=headers)


async def stored_translations(database: Database, workspace_id: str) -> list[dict[str, str]]:
    async with database.session() as session:
        listed = await custom_intents.listed(session, workspace_id)
    return [item.translations for item in listed.items]


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ("Bonjour\r\n[fr]\r\nSalut", "start each with its language code in brackets"),
        ("[ fr ]\r\nSalut", "start each with its language code in brackets"),
        ("[fr] Salut", "start each with its language code in brackets"),
        ("\uff3bfr\uff3d\r\nSalut", "start each with its language code in brackets"),
        ("fr:\r\nSalut", "start each with its language code in brackets"),
        ("[fr-CA]\r\nSalut", "start each with its language code in brackets"),
        ("[]\r\nSalut", "start each with its language code in brackets"),
        ("[fra]\r\nSalut", "start each with its language code in brackets"),  # two letters
        ("[fr]\r\nSalut\r\n[FR]\r\nà tous", "[fr] is given twice"),
        ("[fr]\r\n\r\n[de]\r\nHallo", "Check the translations"),
        ("[fr]\r\n[de]\r\n", "Check the translations"),
        ("[fr]\r\n\u200b\r\n", "Check the translations"),
        ("[fr]\r\n" + "x" * 2001, "Check the translations"),
        ("[fr]\r\nbell\x07", "Check the translations"),
        (
            "".join(f"[{chr(97 + n // 26)}{chr(97 + n % 26)}]\r\nx\r\n" for n in range(31)),
            "Check the translations",
        ),
        ("[fr]\r\n" + "x" * 64_001, "Check the translations"),
        (" " * 60_000 + "x", "start each with its language code in brackets"),
    ],
)
async def test_a_bad_block_is_refused_with_a_reason(
    client: httpx.AsyncClient, database: Database, blocks: str, message: str
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    response = await console_post(client, headers, blocks)
    assert response.status_code == 422, response.text[:300]
    assert message in response.text or "translations" in response.text
    assert await stored_translations(database, workspace_id) == []


@pytest.mark.parametrize(
    ("blocks", "kept"),
    [
        ("", {}),
        ("\r\n \r\n\t\r\n", {}),
        ("\r\n\r\n[fr]\r\nSalut", {"fr": "Salut"}),
        ("\t[FR]\t\r\nSalut\r\n\r\n\r\n", {"fr": "Salut"}),
        ("[fr]\r\n\r\n  Salut  \r\n\r\n", {"fr": "Salut"}),
        ("[fr]\nSalut\n[de]\nHallo", {"de": "Hallo", "fr": "Salut"}),
        ("[fr]\rSalut\r[de]\rHallo", {"de": "Hallo", "fr": "Salut"}),
        ("[xx]\r\nSalut", {"xx": "Salut"}),
        # A header with words on its line is no header: those are words of the block above.
        ("[fr]\r\nSalut\r\n[de] Hallo", {"fr": "Salut\n[de] Hallo"}),
        (
            "[fr]\r\n</textarea><script>alert(1)</script>",
            {"fr": "</textarea><script>alert(1)</script>"},
        ),
        (
            "".join(
                f"[{chr(97 + n // 26)}{chr(97 + n % 26)}]\r\n{'y' * 1990}\r\n" for n in range(30)
            ),
            {f"{chr(97 + n // 26)}{chr(97 + n % 26)}": "y" * 1990 for n in range(30)},
        ),
    ],
)
async def test_blocks_at_their_edges_are_read(
    client: httpx.AsyncClient, database: Database, blocks: str, kept: dict[str, str]
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    response = await console_post(client, headers, blocks)
    assert response.status_code == 303, response.text[:300]
    assert await stored_translations(database, workspace_id) == [kept]


def edit_form(page: str, intent_id: str) -> dict[str, str]:
    """Return the edit form of one intent as the browser would send it back."""
    form = page.split(f'action="{PAGE}/{intent_id}"', 1)[1].split("</form>", 1)[0]
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<textarea name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S)
    }
    fields |= dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form))
    fields["min_similarity"] = fields.get("min_similarity", "0.68")
    fields["enabled"] = "on"
    return fields


async def test_the_edit_form_sends_back_what_it_shows(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    translations = {"de": "Geöffnet.\nAm Sonntag zu.", "fr": 'Ouvert <b>9h</b> & "18h".'}
    await _create(database, workspace_id, {**HOURS, "translations": translations})
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    page = (await client.get(PAGE, headers=headers)).text
    response = await client.post(
        f"{PAGE}/{intent.id}", data=edit_form(page, intent.id), headers=headers
    )
    assert response.status_code == 303, response.text[:300]
    assert await stored_translations(database, workspace_id) == [translations]


async def test_a_translation_with_a_header_like_line_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Shown in the console's textarea, such a line would split the answer in two on the
    next save: the API refuses it (words on the same line are fine)."""
    _, headers = await workspace_key(database)
    split = {"fr": "Bonjour.\n [de] \nCeci est du français."}
    response = await client.post(URL, json={**HOURS, "translations": split}, headers=headers)
    assert response.status_code == 422
    assert "reads as the start of another language" in response.text
    fine = {"fr": "Bonjour.\n[de] n'est pas une langue ici."}
    response = await client.post(URL, json={**HOURS, "translations": fine}, headers=headers)
    assert response.status_code == 201


# The console page escapes what it shows ----------------------------------------------------------


async def test_answers_and_translations_are_escaped_on_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, owner = await signed_in(database, Role.owner)
    hostile = {
        **HOURS,
        "answer": "</textarea><script>alert(1)</script>",
        "translations": {
            "fr": "</textarea><script>alert(2)</script>",
            "de": '"><img src=x onerror=alert(3)>',
            "ar": "\u202e</p><svg onload=alert(4)>",
        },
    }
    await _create(database, workspace_id, hostile)
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
        await CustomIntentDayRepository(session, workspace_id).add_match(intent.id, utcnow().date())
    page = await client.get(PAGE, headers=owner)
    assert page.status_code == 200
    for raw in ("<script>alert", "<img src=x", "<svg onload", "</textarea><"):
        assert raw not in page.text, raw
    assert "&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page.text
    assert "(also in ar, de, fr)" in page.text
    assert "<strong>1</strong> message took it in the last 30 days (1 today)" in page.text


async def test_the_page_shows_this_workspaces_counts_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    theirs, _, _ = await shop(database)
    for _ in range(3):
        await ask(database, theirs)
    workspace_id, headers = await signed_in(database, Role.agent)
    await _create(database, workspace_id, HOURS)
    page = (await client.get(PAGE, headers=headers)).text
    assert "<strong>0</strong> messages took it in the last 30 days" in page
    assert "<strong>3</strong>" not in page
