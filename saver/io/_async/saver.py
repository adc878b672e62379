"""Every public saver method, written once over a plan executor."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import plans
from saver.dialects.base import Dialect, Stmt
from saver.errors import InvalidConfigError

# How a plan runs: READ (no transaction needed), SNAPSHOT (several reads, one snapshot),
# WRITE (a transaction), BATCH (a transaction whose statements need no rows back, so an
# executor may send them all at once).
READ, SNAPSHOT, WRITE, BATCH = "read", "snapshot", "write", "batch"


async def drive(plan: plans.Plan[Any], execute: Callable[[Stmt], Awaitable[plans.Rows]]) -> Any:
    """Feed each statement's rows back into the plan until it returns its answer."""
    try:
        stmt = next(plan)
        while True:
            stmt = plan.send(await execute(stmt))
    except StopIteration as done:
        return done.value


class AsyncHistorySaver(BaseCheckpointSaver[str]):
    """Base of the async savers; a subclass supplies `dialect` and `_execute`."""

    dialect: Dialect

    def __init__(self, *, serde: SerializerProtocol | None = None, namespace: str = "") -> None:
        super().__init__(serde=serde)
        if not isinstance(namespace, str):
            raise InvalidConfigError(f"namespace must be a str, got {namespace!r}")
        self.namespace = namespace
        self._ready = False

    @property
    def _ctx(self) -> plans.Context:
        return plans.Context(self.dialect, self.serde, self.namespace)

    async def _execute(self, plan: plans.Plan[Any], mode: str) -> Any:
        raise NotImplementedError

    async def _run(self, plan: plans.Plan[Any], mode: str) -> Any:
        if not self._ready:
            await self.setup()
        return await self._execute(plan, mode)

    async def setup(self) -> None:
        """Create or migrate the tables; safe to call from many processes at once."""
        await self._execute(plans.setup(self.dialect), WRITE)
        self._ready = True

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._run(plans.get_tuple(self._ctx, config), READ)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        query = plans.ListQuery.of(self._ctx, config, filter, before, limit)
        while page := await self._run(query.next_page(), READ):
            for item in page:
                yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        plan = plans.put(self._ctx, config, checkpoint, metadata, new_versions)
        return await self._run(plan, BATCH)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._run(plans.put_writes(self._ctx, config, writes, task_id, task_path), BATCH)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(plans.delete_thread(self._ctx, thread_id), BATCH)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._run(plans.delete_for_runs(self._ctx, run_ids), WRITE)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._run(plans.copy_thread(self._ctx, source_thread_id, target_thread_id), WRITE)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """DeltaChannel-aware: a kept head keeps the ancestors its delta channels replay from."""
        for plan in plans.prune_each(self._ctx, thread_ids, strategy):
            await self._run(plan, WRITE)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return await self._run(plans.delta_channel_history(self._ctx, config, channels), SNAPSHOT)

    def get_next_version(self, current: str | int | None, channel: None = None) -> str:
        """The same version strings as LangGraph's SQL savers, so their data stays comparable."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(str(current).split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"
