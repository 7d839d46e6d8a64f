"""What the support desk runs beside the web server (see rapport.domains.background): the
IMAP poller, which checks the workspaces' mailboxes that are due."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from rapport.config import Settings
from rapport.core.db import Database, background_work
from rapport.support.imap_polling import ImapPoller

logger = logging.getLogger(__name__)
# How often the poller looks for mailboxes whose check is due (each mailbox has its own
# interval, at least 10 seconds).
TICK_SECONDS = 5.0


class ImapPolling:
    """Checks due IMAP mailboxes every few seconds, in processes that run the worker.
    Several processes may run it: a check is claimed in the database first, so each
    mailbox is checked by one of them at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the polling loop runs in this process."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start polling (only where the worker runs: tests and `--no-worker` servers don't)."""
        if not self.settings.run_worker or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="imap-polling")

    def stop(self) -> None:
        """Stop polling; a check in progress is abandoned (its messages stay unseen)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        database = Database(self.settings.database_url)
        poller = ImapPoller(database, self.settings.data_dir)
        try:
            while True:
                try:
                    with background_work():
                        await poller.check_due()
                except Exception as error:  # a bad pass must not end polling
                    logger.warning("imap polling failed", extra={"error": type(error).__name__})
                await asyncio.sleep(TICK_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await database.dispose()


def imap_polling(settings: Settings) -> ImapPolling:
    """The IMAP poller (RAPPORT_RUN_WORKER decides whether it runs in this process)."""
    return ImapPolling(settings)
