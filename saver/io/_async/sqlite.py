"""The SQLite saver: a small executor for one connection, and the public class."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import aiosqlite
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import filters, plans
from saver.core.retry import DEFAULT_RETRY, RetryPolicy
from saver.dialects import sqlite as session
from saver.dialects.base import Stmt
from saver.dialects.sqlite import SQLITE, SqliteDialect
from saver.errors import SaverClosedError, StorageError, TransientStorageError
from saver.io import bridge  # unasync: remove
from saver.io._async.saver import OPENED_LATER, AsyncHistorySaver, drive
from saver.io.bridge import AsyncLoopLock, LoopBridge
from saver.io.errors import SQLITE_ERRORS, from_sqlite
from saver.io.modes import READ, RELAXED, SNAPSHOT
from saver.retention.policy import RetentionPolicy

BUSY_SECONDS = 30.0  # how long a writer waits for the write lock before giving up
SECURE_DELETE_ON = 1  # PRAGMA secure_delete reads 0 off, 1 on, 2 fast


class AsyncSqliteExecutor:
    """Runs plans on one connection, one at a time, each write in an immediate transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.lock = AsyncLoopLock()
        self.closed = False
        self.prepared = False
        self.secure_delete = 0  # the connection's own setting, restored after a cleanup batch

    async def sql(self, stmt: Stmt) -> plans.Rows:
        try:
            if stmt.many:
                await self.conn.executemany(stmt.sql, stmt.params)
                return []
            cursor = await self.conn.execute(stmt.sql, stmt.params)
            rows = await cursor.fetchall()
            await cursor.close()
            return list(rows)
        except SQLITE_ERRORS as exc:
            raise from_sqlite(exc) from exc

    async def patiently(self, stmt: Stmt) -> plans.Rows:
        """Run a statement that needs a lock, retrying every millisecond or two while the
        database is busy, up to BUSY_SECONDS: taking the write lock (BEGIN IMMEDIATE),
        switching a new file to WAL, which SQLite never waits for at all, and a read outside
        a transaction, which waits while another process recovers or resets the WAL."""
        deadline, delay = time.monotonic() + BUSY_SECONDS, 0.0005
        while True:
            try:
                return await self.sql(stmt)
            except TransientStorageError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.002)

    async def run(self, plan: plans.Plan[Any], mode: str) -> Any:
        if self.closed:
            plan.close()
            raise SaverClosedError("this saver was closed; open a new one to read or write")
        async with self.lock:
            if not self.prepared:
                for pragma in session.PRAGMAS:  # `synchronous` reads the file: it may be busy
                    await self.patiently(Stmt(pragma))
                found = await self.sql(Stmt(session.READ_SECURE_DELETE))
                self.secure_delete = int(found[0][0]) if found else 0
                await self.patiently(Stmt(session.JOURNAL_WAL))
                self.prepared = True
            if mode == READ:  # each statement on its own: one that found the file busy reruns
                return await drive(plan, self.patiently)
            try:
                if mode == RELAXED:  # WAL stays consistent; only the fsync at commit is skipped
                    await self.sql(Stmt(session.SYNCHRONOUS_NORMAL))
                    # A build with secure_delete on (Debian's) zero-fills every page a cleanup
                    # frees and writes it twice (WAL, then file); FAST keeps zeroing the
                    # pages that stay in use and skips the freed ones (VACUUM drops those).
                    if self.secure_delete == SECURE_DELETE_ON:
                        await self.sql(Stmt(session.SECURE_DELETE_FAST))
                await self.patiently(Stmt(session.BEGIN[mode]))
                # A snapshot's first read takes the read lock, and may find the file busy too.
                result = await drive(plan, self.patiently if mode == SNAPSHOT else self.sql)
                await self.sql(Stmt(session.COMMIT))
                return result
            except BaseException:
                # Also after a cancel: the connection runs statements in order, so this
                # ROLLBACK follows a BEGIN still in flight ("no transaction" is fine).
                with suppress(*SQLITE_ERRORS):
                    await self.conn.execute(session.ROLLBACK)
                raise
            finally:
                if mode == RELAXED:
                    with suppress(*SQLITE_ERRORS):
                        await self.conn.execute(session.SYNCHRONOUS_FULL)
                        if self.secure_delete == SECURE_DELETE_ON:
                            await self.conn.execute(session.SECURE_DELETE_RESTORED)


def _sqlite_path(conn_string: object) -> str:
    """The file a conn_string names, or a StorageError that says why it cannot be one."""
    path = conn_string.removeprefix("sqlite:///") if isinstance(conn_string, str) else None
    if not path:
        raise StorageError(f"expected a SQLite path or sqlite:/// URL, got {conn_string!r}")
    if os.path.isdir(path):
        raise StorageError(f"cannot open SQLite database {path!r}: it is a directory")
    folder = os.path.dirname(path)
    if path != ":memory:" and not path.startswith("file:") and folder and not os.path.isdir(folder):
        raise StorageError(f"cannot open SQLite database {path!r}: no folder {folder!r}")
    return path


class AsyncSqliteSaver(LoopBridge, AsyncHistorySaver):
    """Keeps every step of every thread in a SQLite file.

    Drop-in for `langgraph.checkpoint.sqlite.aio.AsyncSqliteSaver`; `namespace` keeps this
    saver's threads apart from other savers' in the same file.
    """

    dialect = SQLITE
    conn: aiosqlite.Connection

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        serde: SerializerProtocol | None = None,
        namespace: str = "",
        retention: RetentionPolicy | None = None,
        compress: bool = True,
        indexed_metadata: Sequence[str] = (),
        retry: RetryPolicy | int | None = DEFAULT_RETRY,
    ) -> None:
        keys = filters.index_keys(indexed_metadata)
        if keys:  # its own statements; every other saver shares one dialect
            self.dialect = SqliteDialect(keys)
        super().__init__(
            serde=serde, namespace=namespace, retention=retention, compress=compress, retry=retry
        )
        if conn is not OPENED_LATER:
            self.conn = conn
            self._executor = AsyncSqliteExecutor(conn)
        self.loop = bridge.running_loop()  # unasync: remove

    @classmethod
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        serde: SerializerProtocol | None = None,
        namespace: str = "",
        retention: RetentionPolicy | None = None,
        compress: bool = True,
        sweep_every: float | None = None,
        retry: RetryPolicy | int | None = DEFAULT_RETRY,
        indexed_metadata: Sequence[str] = (),
    ) -> AsyncSqliteSaver:
        """A saver of `conn_string` (a path, `:memory:` or `sqlite:///path`), which opens the
        file on first use: pass it to `compile()` as it is (and `aclose()` it when done), or
        use it in `async with`, which closes it on exit. An async saver can be awaited too,
        to open it now.

        With `retention` the policy's per-thread part is applied as threads are written;
        with `sweep_every` (seconds) too, a background sweep applies all of it.
        `indexed_metadata`: top-level metadata keys that `setup()` indexes, for fast
        `list(None, filter={key: value})` across threads."""
        path = _sqlite_path(conn_string)
        saver = cls(
            OPENED_LATER,
            serde=serde,
            namespace=namespace,
            retention=retention,
            compress=compress,
            indexed_metadata=indexed_metadata,
            retry=retry,
        )

        async def open_file() -> None:
            try:
                connecting = aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
                bridge.let_exit(connecting)  # unasync: remove
                conn = await connecting
            except SQLITE_ERRORS as exc:
                raise StorageError(f"cannot open SQLite database {path!r}: {exc}") from exc
            saver.conn = conn
            saver._hold(conn, AsyncSqliteExecutor(conn))

        saver._opener = open_file
        saver._sweep_every = sweep_every
        return saver

    async def _execute(self, plan: plans.Plan[Any], mode: str) -> Any:
        return await self._executor.run(plan, mode)
