"""Sync and async callers of the other kind: written once for every saver class.

`ThreadBridge` gives a sync saver its `a`-methods by running the sync one in a worker thread.
`LoopBridge` gives an async saver sync methods, run on its event loop from another thread.
`AsyncBackground` and `Background` run a loop beside the caller (a task, a thread) until
stopped: the one difference between the async and the sync sweeper.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any

OPERATIONS = (
    "get_tuple",
    "put",
    "put_writes",
    "delete_thread",
    "delete_for_runs",
    "copy_thread",
    "prune",
    "get_delta_channel_history",
)

# Methods beyond BaseCheckpointSaver, on every class under both names: an async class's plain
# names are coroutines too (seed code awaits `checkpointer.delete_checkpoints(...)`), and a
# sync class's a-names run the sync method in a worker thread.
EXTRAS = (
    "list_threads",
    "count_threads",
    "get_thread",
    "put_thread",
    "claim_thread",
    "release_thread",
    "head_version",
    "list_messages",
    "get_message",
    "history",
    "diff",
    "search_messages",
    "export_thread",
    "import_thread",
    "cleanup",
    "delete_checkpoints",
    "schema_version",
    "stop_sweeper",
    "close",
)


class ThreadBridge:
    async def alist(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        rows = await asyncio.to_thread(lambda: [*getattr(self, "list")(*args, **kwargs)])  # noqa: B009
        for item in rows:
            yield item

    async def astart_sweeper(self, *args: Any, **kwargs: Any) -> None:
        getattr(self, "start_sweeper")(*args, **kwargs)  # noqa: B009 (mixin): starts a thread


class AsyncLoopLock:
    """An asyncio.Lock for each event loop it is used in, in turn: a saver made before any
    loop runs (from_conn_string at module level) may serve one `asyncio.run` after another,
    and an asyncio.Lock that ever waited is bound to its first loop. (Its sync twin, for the
    generated code, is a plain threading.Lock: LoopLock.)"""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def __aenter__(self) -> None:
        await self._lock().acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock().release()


LoopLock = threading.Lock


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def let_exit(connecting: Any) -> None:
    """aiosqlite runs each connection in a thread that is not a daemon, so one nobody closed
    would keep the interpreter from exiting: a saver from from_conn_string used without
    `async with` makes its connection's thread a daemon before it starts."""
    thread = getattr(connecting, "_thread", None)  # aiosqlite >= 0.22
    if isinstance(thread, threading.Thread) and not thread.is_alive():
        thread.daemon = True


def close_abandoned(conn: Any) -> None:
    """Close, without an event loop, a connection a saver opened itself and nobody closed:
    run when the saver is collected or the interpreter exits, so neither a thread nor a
    ResourceWarning outlives it. (The async drivers close only on their loop, gone by then:
    psycopg's libpq connection is finished directly, aiosqlite's sqlite3 one closed.)"""
    pgconn = getattr(conn, "pgconn", None)
    if pgconn is not None:
        pgconn.finish()
    elif isinstance(conn, sqlite3.Connection):
        conn.close()
    elif isinstance(getattr(conn, "_connection", None), sqlite3.Connection):
        raw, conn._connection = conn._connection, None
        raw.close()
        with warnings.catch_warnings():  # stop() asks for an event loop, maybe long gone
            warnings.simplefilter("ignore")
            conn.stop()  # (aiosqlite >= 0.22) the worker thread ends once it reads this
    elif callable(getattr(conn, "close", None)) and not asyncio.iscoroutinefunction(conn.close):
        conn.close()  # a sync pool


class LoopBridge:
    loop: asyncio.AbstractEventLoop | None

    def _on_loop(self, coro: Coroutine[Any, Any, Any]) -> Any:
        running = running_loop()
        if self.loop is None or running is self.loop:
            coro.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to an async saver are only allowed from a different thread "
                "while its event loop runs; from the loop use the a-methods (ainvoke, "
                "aget_state, ...)"
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def __await__(self) -> Generator[Any, None, Any]:
        """`saver = await X.from_conn_string(...)`: the saver, opened."""
        return getattr(self, "__aenter__")().__await__()  # noqa: B009 (mixin)

    def list(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        async def collect() -> list[Any]:
            return [item async for item in getattr(self, "alist")(*args, **kwargs)]  # noqa: B009 (mixin)

        yield from self._on_loop(collect())

    async def astart_sweeper(self, *args: Any, **kwargs: Any) -> None:
        getattr(self, "start_sweeper")(*args, **kwargs)  # noqa: B009 (mixin): starts a task


class AsyncBackground:
    """A coroutine run as a task of the running loop; stop() cancels it where it waits."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def start(self, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._task = asyncio.get_running_loop().create_task(body(), name=self.name)

    def stopping(self) -> bool:
        return False  # a cancelled task stops where it awaits

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Background:
    """A function run in a daemon thread; stop() wakes its pause and waits for it to end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, body: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=body, name=self.name, daemon=True)
        self._thread.start()

    def stopping(self) -> bool:
        return self._stopping.is_set()

    def pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()


def _to_thread(name: str) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self, name), *args, **kwargs)

    method.__name__ = method.__qualname__ = "a" + name
    return method


def _on_loop(name: str) -> Callable[..., Any]:
    def method(self: LoopBridge, *args: Any, **kwargs: Any) -> Any:
        return self._on_loop(getattr(self, "a" + name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = name
    return method


def _as_coroutine(name: str) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await getattr(self, "a" + name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _name in OPERATIONS:
    setattr(ThreadBridge, "a" + _name, _to_thread(_name))
    setattr(LoopBridge, _name, _on_loop(_name))
for _name in EXTRAS:
    setattr(ThreadBridge, "a" + _name, _to_thread(_name))
    setattr(LoopBridge, _name, _as_coroutine(_name))
