"""The assistant's turn after its job (the job's after-commit step) is background work, but a
customer waits for it and each of its statements touches a few rows: on SQLite they run on
the event loop as a request's do, not one trip each to a connection's thread (a trip costs
more CPU than such a statement; about 3 ms a message was measured)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import pytest

from rapport.assistant import tasks
from rapport.core import sqlite_driver
from rapport.core.db import Database, background_work
from rapport.worker.runner import Worker
from tests.fixtures.assistant import enable_assistant, open_conversation, thread
from tests.fixtures.identity import make_workspace

_IN_TURN: ContextVar[bool] = ContextVar("in_turn", default=False)


async def test_the_turn_after_its_job_runs_its_statements_on_the_event_loop(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's connection threads only")
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    conversation_id = await open_conversation(database, workspace.id, "where is my order 1001")

    trips: list[str] = []
    send = sqlite_driver._Lane.send

    def counted(lane: Any, call: Any, args: Any, future: Any) -> None:
        if _IN_TURN.get():
            trips.append(getattr(call, "__name__", repr(call)))
        send(lane, call, args, future)

    answer = tasks.answer

    async def watched(*args: Any, **kwargs: Any) -> Any:
        _IN_TURN.set(True)  # this task's context: the turn's own statements
        return await answer(*args, **kwargs)

    monkeypatch.setattr(sqlite_driver._Lane, "send", counted)
    monkeypatch.setattr(tasks, "answer", watched)
    with background_work():  # as Worker.run_forever runs its jobs
        await Worker(database).run_pending()

    authors = [author for author, _, _ in await thread(database, conversation_id)]
    assert authors[0] == "customer" and len(authors) == 2  # the turn wrote its reply
    # The commit goes to the thread, as background work's do (it overlaps the loop's next
    # piece of work); a read may overrun its budget on a loaded machine and finish there.
    # Before, the turn took twenty trips.
    others = [name for name in trips if name != "commit"]
    assert "commit" in trips and len(others) <= 2, trips
