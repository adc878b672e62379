"""The background sweeper: an asyncio task for the async savers, a thread for the sync ones.
A failing sweep is logged and tried again next time; it never takes the application down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from saver.retention.policy import RetentionPolicy
from saver.retention.sweep import CleanupReport

logger = logging.getLogger("saver.sweeper")


class AsyncSweeper:
    def __init__(self, saver: Any, policy: RetentionPolicy, every: float, batch_size: int) -> None:
        self.saver, self.policy, self.every, self.batch_size = saver, policy, every, batch_size
        self.sweeps = 0
        self.failures = 0
        self.last_report: CleanupReport | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="saver-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                self.last_report = await self.saver.acleanup(
                    self.policy, batch_size=self.batch_size
                )
                self.sweeps += 1
            except Exception:
                self.failures += 1
                logger.exception("retention sweep failed; trying again in %ss", self.every)
            await asyncio.sleep(self.every)


class Sweeper:
    def __init__(self, saver: Any, policy: RetentionPolicy, every: float, batch_size: int) -> None:
        self.saver, self.policy, self.every, self.batch_size = saver, policy, every, batch_size
        self.sweeps = 0
        self.failures = 0
        self.last_report: CleanupReport | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="saver-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.last_report = self.saver.cleanup(self.policy, batch_size=self.batch_size)
                self.sweeps += 1
            except Exception:
                self.failures += 1
                logger.exception("retention sweep failed; trying again in %ss", self.every)
            self._stopping.wait(self.every)
