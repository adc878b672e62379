"""The time-travel toolkit on every saver: list threads, walk a thread's steps, diff two
checkpoints, find when a message appeared, and move a thread's rows out and in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple

from saver.core import messages, plans, threads, views
from saver.core.config import target, thread_id_of
from saver.errors import InvalidConfigError
from saver.io.modes import READ, SNAPSHOT, WRITE

THREAD_PAGE = 500  # thread ids per read when a search walks every thread


class AsyncTimeTravel:
    """Mixed into the saver base, which supplies `_run` and `_ctx`."""

    @property
    def _ctx(self) -> plans.Context:
        raise NotImplementedError

    async def _run(
        self,
        mode: str,
        make: Callable[..., plans.Plan[Any]],
        *args: Any,
        repeat: bool = True,
    ) -> Any:
        raise NotImplementedError

    async def alist_threads(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        prefix: str | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        search: str | None = None,
        sort: str = "last_activity",
        status: str | None = None,
        user_id: str | None = None,
        thread_metadata: Mapping[str, Any] | None = None,
        ascending: bool = False,
    ) -> list[views.ThreadInfo]:
        """Threads, most recently updated first (`sort="created"`: most recently created
        first): `filter` matches the head's metadata, `prefix` the thread id
        (`org-1:user-2:`), `search` text anywhere in the id or the name (any case),
        `before`/`after` the last update, `status` idle, busy, interrupted or error,
        `user_id` the user put_thread gave it, `thread_metadata` the metadata put_thread
        gave it; `offset` threads are skipped, `ascending` turns the order around."""
        plan = partial(
            threads.list_threads,
            self._ctx,
            filter,
            prefix,
            before,
            after,
            limit,
            offset,
            search,
            sort,
            status,
            user_id,
            thread_metadata,
            ascending,
        )
        return await self._run(READ, plan)

    async def acount_threads(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        prefix: str | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
        search: str | None = None,
        status: str | None = None,
        user_id: str | None = None,
        thread_metadata: Mapping[str, Any] | None = None,
    ) -> int:
        """How many threads list_threads finds with the same filters, in one statement."""
        plan = partial(
            threads.count_threads,
            self._ctx,
            filter,
            prefix,
            before,
            after,
            search,
            status,
            user_id,
            thread_metadata,
        )
        return await self._run(READ, plan)

    async def aget_thread(self, thread_id: str) -> views.ThreadInfo | None:
        """One thread as list_threads shows it, or None where there is no such thread."""
        return await self._run(READ, threads.get_thread, self._ctx, thread_id)

    async def aput_thread(
        self,
        thread_id: str,
        *,
        name: str | None = None,
        user_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> views.ThreadInfo:
        """Make a thread before its first checkpoint, or name it, give it to a user, add
        metadata keys (merged into what it has). Kept while checkpoints are trimmed, gone
        with delete_thread, carried by copy_thread and export/import."""
        plan = partial(threads.put_thread, self._ctx, thread_id, name, user_id, metadata)
        return await self._run(WRITE, plan)

    async def aclaim_thread(self, thread_id: str, run_id: str, *, lease: float = 60.0) -> bool:
        """Take the thread for a run (its status is busy) for `lease` seconds, or extend the
        run's lease; False if another run holds it. Processes sharing the database agree."""
        return await self._run(WRITE, threads.claim_thread, self._ctx, thread_id, run_id, lease)

    async def ahead_version(self, thread_id: str) -> str | None:
        """A text that changes whenever the thread's head state can: its head checkpoint and
        what is written on it (None: no checkpoint). Equal texts, equal states."""
        return await self._run(READ, threads.head_version, self._ctx, thread_id)  # one statement

    async def arelease_thread(self, thread_id: str, run_id: str) -> None:
        """Let the thread go, if `run_id` holds it."""
        await self._run(WRITE, threads.release_thread, self._ctx, thread_id, run_id)

    async def alist_messages(
        self,
        config: RunnableConfig,
        *,
        search: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        channel: str = "messages",
    ) -> list[messages.MessageInfo]:
        """The messages of the thread's state (of config's checkpoint_id if it names one),
        in order, each with the checkpoint and step where it first appeared; `search` keeps
        those holding the text (any case)."""
        plan = partial(messages.list_messages, self._ctx, config, search, offset, limit, channel)
        return await self._run(SNAPSHOT, plan)

    async def aget_message(
        self, config: RunnableConfig, message_id: str, *, channel: str = "messages"
    ) -> messages.MessageInfo | None:
        """One message of the thread's state by its id, as list_messages shows it."""
        plan = partial(messages.get_message, self._ctx, config, message_id, channel)
        return await self._run(SNAPSHOT, plan)

    async def _oldest_first(self, config: RunnableConfig) -> list[CheckpointTuple]:
        """Every checkpoint of one thread namespace, oldest first (one snapshot per page)."""
        query = plans.ListQuery.of(self._ctx, config, None, None, None)
        out: list[CheckpointTuple] = []
        while page := await self._run(READ, query.next_page):
            out.extend(page)
        return out[::-1]

    async def ahistory(
        self, config: RunnableConfig, *, with_interrupts: bool = True
    ) -> list[views.Step]:
        """One row per checkpoint of the config's thread and namespace, newest first: step,
        source, what each node wrote from it, what runs next, pending interrupts.
        `with_interrupts=False` reads no channel value or write at all, which on a long
        thread is nearly all the cost: each step's `interrupts` is then empty (`waiting`
        still tells)."""
        t = target(self._ctx.namespace, config, "history")
        if not with_interrupts:
            return await self._run(READ, threads.steps, self._ctx, t.thread_id, t.checkpoint_ns)
        scoped: RunnableConfig = {
            "configurable": {"thread_id": t.thread_id, "checkpoint_ns": t.checkpoint_ns}
        }
        tuples = (await self._oldest_first(scoped))[::-1]
        paths = await self._run(READ, threads.task_paths, self._ctx, t.thread_id, t.checkpoint_ns)
        return [views.step_of(t, paths) for t in tuples]

    async def adiff(self, a: RunnableConfig, b: RunnableConfig) -> list[views.Change]:
        """What changed, channel by channel, from checkpoint `a` to checkpoint `b`."""
        found = []
        for config in (a, b):
            t = await self._run(READ, plans.get_tuple, self._ctx, config)
            if t is None:
                where = target(self._ctx.namespace, config, "diff")
                raise InvalidConfigError(
                    f"no checkpoint at thread {where.thread_id!r}, namespace "
                    f"{where.checkpoint_ns!r}, checkpoint {where.checkpoint_id!r}"
                )
            found.append(t.checkpoint.get("channel_values", {}))
        return views.diff(found[0], found[1])

    async def asearch_messages(
        self, text: str, *, thread_id: str | None = None, limit: int = 20
    ) -> list[views.MessageHit]:
        """The checkpoints where a message containing `text` (any case) first appeared, in
        one thread or every thread of this saver's namespace."""
        if not isinstance(text, str) or not text:
            raise InvalidConfigError(f"search text must be a non-empty string, got {text!r}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidConfigError(f"limit must be a positive int, got {limit!r}")
        hits: list[views.MessageHit] = []
        async for tid in self._thread_ids(thread_id):
            steps = await self._oldest_first({"configurable": {"thread_id": tid}})
            for hit in views.first_mentions(tid, steps, text):
                hits.append(hit)
                if len(hits) == limit:
                    return hits
        return hits

    async def _thread_ids(self, only: str | None) -> AsyncIterator[str]:
        if only is not None:
            yield thread_id_of(only, "search_messages")
            return
        after = ""
        while page := await self._run(READ, threads.thread_ids, self._ctx, after, THREAD_PAGE):
            for tid in page:
                yield tid
            after = page[-1]

    async def aexport_thread(self, thread_id: str) -> threads.ThreadRows:
        """A thread's rows exactly as stored (see threads.to_lines for the file format)."""
        data = await self._run(SNAPSHOT, threads.export_thread, self._ctx, thread_id)
        if not data.checkpoints and data.record is None:
            raise InvalidConfigError(f"no thread {data.thread_id!r} here")
        return data

    async def aimport_thread(self, data: threads.ThreadRows, thread_id: str | None = None) -> int:
        """Store an exported thread as `thread_id` (default its own id); refuses a thread
        that already has checkpoints. Returns the number of checkpoints stored."""
        plan = partial(threads.import_thread, self._ctx, data, thread_id)
        return await self._run(WRITE, plan, repeat=False)  # a repeat after a lost commit fails
