"""The background sweeper: `cleanup(policy)` every few seconds until stopped (an asyncio task
for the async savers, a thread for the sync ones). A failing sweep is logged and tried again
next time; it never takes the application down."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from saver.io.bridge import AsyncBackground
from saver.retention.job import CleanupReport
from saver.retention.policy import RetentionPolicy

if TYPE_CHECKING:
    from saver.io._async.saver import AsyncHistorySaver

logger = logging.getLogger("saver.sweeper")


class AsyncSweeper:
    def __init__(
        self, saver: AsyncHistorySaver, policy: RetentionPolicy, every: float, batch_size: int
    ) -> None:
        self.saver, self.policy, self.every, self.batch_size = saver, policy, every, batch_size
        self.sweeps = 0
        self.failures = 0
        self.last_report: CleanupReport | None = None
        self._background = AsyncBackground("saver-sweeper")

    def start(self) -> None:
        self._background.start(self._run)

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while not self._background.stopping():
            try:
                self.last_report = await self.saver.acleanup(
                    self.policy, batch_size=self.batch_size
                )
                self.sweeps += 1
                if self.last_report.skipped:
                    logger.warning(
                        "retention sweep skipped %d threads it could not read (first: %s); "
                        "`saver doctor URL` finds and quarantines the damaged rows",
                        len(self.last_report.skipped),
                        self.last_report.skipped[0],
                    )
            except Exception:
                self.failures += 1
                logger.exception("retention sweep failed; trying again in %ss", self.every)
            await self._background.pause(self.every)
