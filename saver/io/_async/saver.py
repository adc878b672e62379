"""Every public saver method, written once over a plan executor."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

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

from saver.core import deltas, plans, versions
from saver.core.config import thread_id_of
from saver.core.retry import DEFAULT_RETRY, RetryPolicy, retry_policy
from saver.dialects.base import Dialect, Stmt
from saver.errors import (
    InvalidConfigError,
    SaverClosedError,
    StorageError,
    TransientStorageError,
)
from saver.io._async.doctor import AsyncDoctor
from saver.io._async.sweeper import AsyncSweeper
from saver.io.bridge import AsyncLoopLock, close_abandoned
from saver.io.modes import BATCH, READ, RELAXED, SNAPSHOT, WRITE
from saver.retention import job
from saver.retention.job import CleanupReport
from saver.retention.policy import Cutoffs, RetentionPolicy

logger = logging.getLogger("saver")
PAGE_SIZE = 1000  # threads per candidate page
TRIM_EVERY = 8  # puts to one thread between trims when retention is on


async def drive(
    plan: plans.Plan[Any],
    execute: Callable[[Stmt], Awaitable[plans.Rows]],
    first: Stmt | None = None,
) -> Any:
    """Feed each statement's rows back into the plan until it returns its answer
    (`first`: a statement already taken from the plan)."""
    try:
        stmt = first if first is not None else next(plan)
        while True:
            stmt = plan.send(await execute(stmt))
    except StopIteration as done:
        return done.value


SaverT = TypeVar("SaverT", bound="AsyncHistorySaver")
# What opening sets on a saver from from_conn_string, and a copy made before takes over.
SHARED_ON_OPEN = ("_executor", "conn", "loop")
# Passed for the connection by from_conn_string: the saver opens its own on first use.
OPENED_LATER: Any = object()


class AsyncHistorySaver(AsyncDoctor, BaseCheckpointSaver[str]):
    """Base of the async savers; a subclass supplies `dialect` and `_execute`."""

    dialect: Dialect
    loop: asyncio.AbstractEventLoop | None  # unasync: remove

    def __init__(
        self,
        *,
        serde: SerializerProtocol | None = None,
        namespace: str = "",
        retention: RetentionPolicy | None = None,
        compress: bool = True,
        retry: RetryPolicy | int | None = DEFAULT_RETRY,
    ) -> None:
        super().__init__(serde=serde)
        self.retry = retry_policy(retry)
        if not isinstance(namespace, str):
            raise InvalidConfigError(f"namespace must be a str, got {namespace!r}")
        if retention is not None and not isinstance(retention, RetentionPolicy):
            raise InvalidConfigError(f"retention must be a RetentionPolicy, got {retention!r}")
        self.namespace = namespace
        self.retention = retention
        self._ready = False
        self._puts_since_trim: dict[str, int] = {}
        self._deltas = deltas.DeltaTracker(compress=bool(compress))
        self.sweeper: AsyncSweeper | None = None
        # A saver from_conn_string made opens its connection on first use (or on entering
        # it); `_opener` does that once, then goes.
        self._opener: Callable[[], Awaitable[None]] | None = None
        self._opening = AsyncLoopLock()
        self._sweep_every: float | None = None
        self._closed = False
        self._copy = False  # a copy never closes the connection it shares (__copy__)
        self.langgraph_tables: list[str] = []  # found by setup(): see SELECT_LANGGRAPH_TABLES
        self._owned: Any = None  # the connection or pool it opened itself, to close
        self._abandoned: weakref.finalize[Any, Any]  # closes that one if the saver is dropped

    @property
    def _ctx(self) -> plans.Context:
        return plans.Context(self.dialect, self.serde, self.namespace, self._deltas.compress)

    async def _execute(self, plan: plans.Plan[Any], mode: str) -> Any:
        raise NotImplementedError

    async def _run(
        self,
        mode: str,
        make: Callable[..., plans.Plan[Any]],
        *args: Any,
        repeat: bool = True,
    ) -> Any:
        """Run the plan `make(*args)` makes; after a transient failure, by `self.retry`, a
        new one (only where `repeat`: doing it twice must change nothing)."""
        started = time.monotonic()
        failed = 0
        last: TransientStorageError | None = None
        while True:
            if self._closed:  # (a copy's own close: the connection it shares stays open)
                raise SaverClosedError(
                    "this saver was closed; open a new one to read or write"
                ) from last
            try:
                if not self._ready:
                    await self.setup()
                return await self._execute(make(*args), mode)
            except TransientStorageError as exc:
                failed += 1
                pause = self.retry.pause(failed, time.monotonic() - started) if repeat else None
                if pause is None:
                    raise
                last = exc
                logger.info("%s; trying again in %.2fs (try %d)", exc, pause, failed + 1)
                await asyncio.sleep(pause)

    async def _open(self) -> None:
        """Open the connection of a saver from from_conn_string, once, and start its sweeper."""
        if self._opener is None:
            return
        async with self._opening:
            if self._closed:
                raise SaverClosedError("this saver was closed; open a new one to read or write")
            if self._opener is not None:
                await self._opener()
                self._opener = None  # after it worked: a failed open is tried again next call
                self.loop = asyncio.get_running_loop()  # unasync: remove
                if self._closed:  # aclose() ran while it opened: what it opened goes too
                    await self._close()
                    raise SaverClosedError("this saver was closed while it opened")
                if self._sweep_every is not None and self.sweeper is None:
                    self.start_sweeper(self._sweep_every)

    def __copy__(self: SaverT) -> SaverT:
        """A copy (LangGraph's `with_allowlist` makes one for a compiled graph) uses the same
        connection and never closes it; one made before the saver opened opens it through
        the original on first use."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._owned = None
        clone._copy = True
        clone.sweeper = None
        if self._opener is not None:
            original = self

            async def through_original() -> None:
                await original._open()
                for name in SHARED_ON_OPEN:
                    if name in original.__dict__:
                        setattr(clone, name, original.__dict__[name])

            clone._opener = through_original
            clone._opening = AsyncLoopLock()
        return clone

    async def __aenter__(self: SaverT) -> SaverT:
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the sweeper and close the saver; a connection or pool it was given stays
        open for its owner, one it opened itself (from_conn_string) is closed."""
        self._closed = True
        await self.astop_sweeper()
        if not self._copy:
            await self._close()

    def _hold(self, conn: Any, executor: Any) -> None:
        """Run on `conn`, opened by from_conn_string: this saver closes it, and so does a
        finalizer on the executor (which every copy of the saver shares) if nobody does."""
        self._owned = conn
        self._executor = executor
        self._abandoned = weakref.finalize(executor, close_abandoned, conn)

    async def _close(self) -> None:
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.closed = True
        if self._owned is not None:
            owned, self._owned = self._owned, None
            self._abandoned.detach()
            await owned.close()

    async def setup(self) -> None:
        """Create or migrate the tables; safe to call from many processes at once."""
        await self._open()
        await self._execute(plans.setup(self.dialect), WRITE)
        self._ready = True
        await self._look_for_langgraph_tables()

    async def _look_for_langgraph_tables(self) -> None:
        """Note (and warn once) where LangGraph's own tables hold what a user who only changed
        the import expects to see here."""
        self.langgraph_tables = await self._execute(plans.langgraph_tables(self.dialect), READ)
        if self.langgraph_tables:
            logger.warning(
                "this database holds LangGraph's own checkpoint tables (%s) and no history of "
                "this saver yet: to bring those threads along, run `saver migrate --from URL "
                "--to URL` (see the README, Switching from LangGraph's savers)",
                ", ".join(self.langgraph_tables),
            )

    async def aschema_version(self) -> int | None:
        """The database's schema version, or None where this saver's tables are not there
        (unlike every other call, this one never creates them)."""
        await self._open()
        version = await self._execute(plans.schema_version(self.dialect), SNAPSHOT)
        if version == max(v for v, _ in self.dialect.MIGRATIONS):
            self._ready = True  # up to date: later calls need not run setup() (or write)
            await self._look_for_langgraph_tables()
        return version

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        found = await self._run(READ, plans.get_tuple, self._ctx, config)
        if found is not None:
            conf = found.config["configurable"]
            key = (self.namespace, conf["thread_id"], conf["checkpoint_ns"])
            values = found.checkpoint["channel_values"]
            self._deltas.observe(key, conf["checkpoint_id"], values)
        return found

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        query = plans.ListQuery.of(self._ctx, config, filter, before, limit)
        while page := await self._run(READ, query.next_page):
            for item in page:
                yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        ctx = self._ctx
        encoded = plans.encode_put(ctx, self._deltas, config, checkpoint, new_versions)
        saved = await self._run(
            BATCH, plans.put, ctx, config, checkpoint, metadata, new_versions, encoded
        )
        self._deltas.commit(encoded)  # only now: a delta may only extend stored rows
        if self.retention is not None and (self.retention.keep_last or self.retention.max_age):
            try:
                await self._trim_on_write(saved["configurable"]["thread_id"])
            except StorageError:  # the checkpoint is saved; the sweeper or next trim retries
                logger.exception("retention trim after put failed; the put itself succeeded")
        return saved

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        writes = list(writes)  # read again by a retry
        await self._run(BATCH, plans.put_writes, self._ctx, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(BATCH, plans.delete_thread, self._ctx, thread_id)
        self._deltas.forget([str(thread_id)])

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        if not isinstance(run_ids, (str, bytes)):  # (a single string is refused by the plan)
            run_ids = list(run_ids)  # read again by a retry
        await self._run(WRITE, plans.delete_for_runs, self._ctx, run_ids)
        self._deltas.forget()  # a run's checkpoints may include a thread's latest

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        copy = partial(plans.copy_thread, self._ctx, source_thread_id, target_thread_id)
        await self._run(WRITE, copy, repeat=False)  # a repeat after a lost commit would fail

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """DeltaChannel-aware: a kept head keeps the ancestors its delta channels replay from."""
        for plan in plans.prune_each(self._ctx, thread_ids, strategy):
            await self._run(WRITE, plan)
        self._deltas.forget([str(t) for t in thread_ids])

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return await self._run(SNAPSHOT, plans.delta_channel_history, self._ctx, config, channels)

    async def acleanup(
        self,
        policy: RetentionPolicy,
        *,
        dry_run: bool = False,
        batch_size: int = 1000,
        thread_id: str | None = None,
        progress: Callable[[CleanupReport], None] | None = None,
    ) -> CleanupReport:
        """Apply `policy` to every thread (or one), in transactions of about `batch_size`
        checkpoints, so a graph writing meanwhile waits one batch at most."""
        if not isinstance(policy, RetentionPolicy):
            raise InvalidConfigError(f"cleanup needs a RetentionPolicy, got {policy!r}")
        return await self._sweep(
            policy.cutoffs(time.time()), dry_run, batch_size, thread_id, progress
        )

    async def adelete_checkpoints(
        self, *, before: datetime, thread_id: str | None = None
    ) -> CleanupReport:
        """Delete checkpoints created before `before`, never a thread's latest one."""
        if not isinstance(before, datetime):
            raise InvalidConfigError(f"before must be a datetime, got {before!r}")
        stamp = before.timestamp() if before.tzinfo else before.astimezone().timestamp()
        return await self._sweep(Cutoffs(None, stamp), False, 1000, thread_id, None)

    async def _sweep(
        self,
        cutoffs: Cutoffs,
        dry_run: bool,
        batch_size: int,
        thread_id: str | None,
        progress: Callable[[CleanupReport], None] | None,
    ) -> CleanupReport:
        _check_batch_size(batch_size)
        tid = None if thread_id is None else thread_id_of(thread_id, "cleanup")
        started = time.monotonic()
        report = CleanupReport(dry_run=dry_run)
        after: str | None = ""
        while after is not None:
            page, after = await self._run(
                READ, job.candidates, self._ctx, cutoffs, after, PAGE_SIZE, tid
            )
            for batch in job.batches(page, batch_size):
                if report.batches and self.dialect.BATCH_PAUSE:
                    await asyncio.sleep(self.dialect.BATCH_PAUSE)
                mode = SNAPSHOT if dry_run else RELAXED
                done = await self._run(mode, job.sweep, self._ctx, cutoffs, batch, dry_run)
                report.add(done)
                self._deltas.forget(done.thread_ids)
                if progress is not None:
                    progress(report)
        report.seconds = time.monotonic() - started
        return report

    def start_sweeper(
        self,
        every: float = 300.0,
        policy: RetentionPolicy | None = None,
        *,
        batch_size: int = 1000,
    ) -> None:
        """Run `cleanup(policy)` every `every` seconds in the background until stopped."""
        chosen = policy or self.retention
        if chosen is None:
            raise InvalidConfigError("start_sweeper needs a policy, or a saver with retention=")
        if not isinstance(chosen, RetentionPolicy):
            raise InvalidConfigError(f"start_sweeper needs a RetentionPolicy, got {chosen!r}")
        _check_batch_size(batch_size)
        if not isinstance(every, (int, float)) or every <= 0:
            raise InvalidConfigError(f"every must be a positive number of seconds, got {every!r}")
        if self.sweeper is not None:
            raise InvalidConfigError("a sweeper is already running on this saver")
        self.sweeper = AsyncSweeper(self, chosen, float(every), batch_size)
        self.sweeper.start()

    async def astop_sweeper(self) -> None:
        if self.sweeper is not None:
            await self.sweeper.stop()
            self.sweeper = None

    @asynccontextmanager
    async def sweeping(self, every: float | None) -> AsyncIterator[None]:
        """A background sweep for the duration of a `with` block (none if `every` is None)."""
        if every is None:
            yield
            return
        self.start_sweeper(every)
        try:
            yield
        finally:
            await self.astop_sweeper()

    async def _trim_on_write(self, thread_id: str) -> None:
        """Apply the per-thread part of `retention` every few puts to a thread, so a put
        pays for trimming rarely and a thread stays near its limit."""
        if len(self._puts_since_trim) > 10_000:  # many short threads: start counting afresh
            self._puts_since_trim.clear()
        count = self._puts_since_trim.get(thread_id, 0) + 1
        self._puts_since_trim[thread_id] = count
        if count < TRIM_EVERY:
            return
        self._puts_since_trim.pop(thread_id)
        assert self.retention is not None
        cutoffs = replace(self.retention.cutoffs(time.time()), idle_before=None)
        await self._run(WRITE, job.sweep, self._ctx, cutoffs, [thread_id], False)

    def get_next_version(self, current: str | int | None, channel: None = None) -> str:
        """A short version that sorts after `current` (core/versions.py)."""
        return self._deltas.issued(versions.next_version(current))


def _check_batch_size(batch_size: object) -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InvalidConfigError(f"batch_size must be a positive int, got {batch_size!r}")
