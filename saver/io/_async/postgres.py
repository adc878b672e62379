"""The PostgreSQL saver: an executor that takes a pooled connection per operation, and the
public class."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from langgraph.checkpoint.serde.base import SerializerProtocol
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from saver.core import plans
from saver.core.retry import DEFAULT_RETRY, RetryPolicy
from saver.dialects import postgres as session
from saver.dialects.base import Stmt
from saver.dialects.postgres import PostgresDialect, replan_due
from saver.errors import SaverClosedError, StorageError, TransientStorageError
from saver.io import bridge  # unasync: remove
from saver.io._async.saver import OPENED_LATER, AsyncHistorySaver, drive
from saver.io.bridge import AsyncLoopLock, LoopBridge
from saver.io.errors import from_postgres, open_error, postgres_errors
from saver.io.modes import BATCH, READ, RELAXED, SNAPSHOT
from saver.io.urls import AUTO, PrepareThreshold, postgres_options
from saver.retention.policy import RetentionPolicy

# A pooler (pgbouncer, ...) gives its client a made-up backend pid, not the server process's.
BACKEND_PID = "SELECT pg_backend_pid()"
# What psycopg names the statements it prepares; the server connection holds them, so behind a
# pooler in transaction mode another client's statement of that name can be there instead.
PREPARED_BY_PSYCOPG = 'prepared statement "_pg3_'
PREPARED_ELSEWHERE = (
    "the server connection did not hold the statements psycopg had prepared (it had none, or "
    "another client's of the same name): a connection pooler in transaction mode (pgbouncer "
    "before 1.21, or without max_prepared_statements) stands between the saver and "
    "PostgreSQL. Open the saver with prepare_threshold=None (?prepare_threshold=none in the "
    "URL), or give it connections made with prepare_threshold=None"
)


async def through_pooler(conn: AsyncConnection[Any]) -> bool:
    """Whether a connection pooler answers on `conn` rather than PostgreSQL itself: one round
    trip, nothing prepared."""
    cur = await conn.execute(BACKEND_PID, prepare=False)
    row = await cur.fetchone()
    return row is not None and row[0] != conn.info.backend_pid


POSTGRES_ERRORS = postgres_errors()


class AsyncPostgresExecutor:
    """Runs each plan on its own connection from the pool (a lone connection is shared under
    a lock), pipelined, so a put is one round trip and a pool works in parallel."""

    def __init__(
        self,
        conn: AsyncConnection[Any] | AsyncConnectionPool[Any],
        reopen: Callable[[], Any] | None = None,
    ) -> None:
        self.pool = conn if isinstance(conn, AsyncConnectionPool) else None
        self.conn = conn if isinstance(conn, AsyncConnection) else None
        self.reopen = reopen  # set when the saver opened the connection itself
        self.lock = AsyncLoopLock()
        self.closed = False
        self.uses: weakref.WeakKeyDictionary[AsyncConnection[Any], int] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        if self.pool is not None:
            async with self.pool.connection() as conn:
                yield conn
        else:
            assert self.conn is not None
            async with self.lock:
                if self.conn.broken and self.reopen is not None:
                    with suppress(*POSTGRES_ERRORS):
                        await self.conn.close()
                    self.conn = await self.reopen()
                elif self.conn.closed:
                    raise SaverClosedError("the PostgreSQL connection was closed under this saver")
                yield self.conn

    async def sql(self, conn: AsyncConnection[Any], stmt: Stmt) -> plans.Rows:
        # A cursor per statement: in a pipeline one cursor would only hold the last result.
        # Rows come back binary (no text parsing of bytea); writes go as text, which
        # executemany sends faster.
        cur = conn.cursor(row_factory=tuple_row, binary=stmt.fetch and not stmt.many)
        if stmt.many:
            await cur.executemany(stmt.sql, stmt.params)
            return []
        await cur.execute(
            stmt.sql, stmt.params or None, prepare=False if stmt.plan_each_call else None
        )
        return list(await cur.fetchall()) if stmt.fetch else []

    async def run(self, plan: plans.Plan[Any], mode: str) -> Any:
        if self.closed:
            plan.close()
            raise SaverClosedError("this saver was closed; open a new one to read or write")
        try:
            async with self.connection() as conn:

                async def execute(stmt: Stmt) -> plans.Rows:
                    return await self.sql(conn, stmt)

                uses = self.uses[conn] = self.uses.get(conn, 0) + 1
                # Only prepared statements keep plans: a connection that never prepares (as
                # behind pgbouncer) has none to drop, and is spared the round trip.
                if conn.autocommit and conn.prepare_threshold is not None and replan_due(uses):
                    await conn.execute(session.DISCARD_PLANS)

                try:
                    first = next(plan)
                except StopIteration as nothing:
                    return nothing.value
                if mode == READ and conn.autocommit and first.jit_off:
                    async with conn.pipeline():
                        await conn.execute(session.JIT_OFF)
                        return await drive(plan, execute, first)
                if mode == READ and conn.autocommit:
                    return await drive(plan, execute, first)
                if mode == BATCH and conn.autocommit:
                    if first.last:  # one statement is atomic by itself: no pipeline needed
                        return await drive(plan, execute, first)
                    # Up to the pipeline's one Sync, PostgreSQL runs every statement in one
                    # implicit transaction: atomic, and a single round trip.
                    async with conn.pipeline():
                        return await drive(plan, execute, first)
                async with conn.pipeline(), conn.transaction():
                    if mode == SNAPSHOT:  # before any query, as PostgreSQL requires
                        await conn.execute(session.REPEATABLE_READ)
                    if first.jit_off:
                        await conn.execute(session.JIT_OFF)
                    if mode == RELAXED:  # transaction-scoped, so nothing leaks to the session
                        await conn.execute(session.NO_COMMIT_WAIT)
                        # The cleanup's list parameters inflate the planner's estimates past
                        # jit_above_cost, and compiling would cost more than the queries.
                        await conn.execute(session.JIT_OFF_IN_TRANSACTION)
                    return await drive(plan, execute, first)
        except POSTGRES_ERRORS as exc:
            if PREPARED_BY_PSYCOPG in str(exc):
                raise StorageError(f"{PREPARED_ELSEWHERE} ({exc})") from exc
            error = from_postgres(exc, can_reconnect=self.pool is not None or bool(self.reopen))
            if isinstance(error, TransientStorageError) and self.pool is not None:
                # A restart breaks every idle connection too: replace them now, so the
                # next call works instead of failing once per stale connection.
                with suppress(*POSTGRES_ERRORS):
                    await self.pool.check()
            raise error from exc


class AsyncPostgresSaver(LoopBridge, AsyncHistorySaver):
    """Keeps every step of every thread in PostgreSQL.

    Drop-in for `langgraph.checkpoint.postgres.aio.AsyncPostgresSaver`. Takes a connection or
    a pool; with a pool each operation runs on its own connection, in parallel. `schema` puts
    the tables in that schema; `namespace` keeps this saver's threads apart from others'.
    """

    def __init__(
        self,
        conn: AsyncConnection[Any] | AsyncConnectionPool[Any],
        pipe: Any = None,
        serde: SerializerProtocol | None = None,
        *,
        namespace: str = "",
        schema: str | None = None,
        retention: RetentionPolicy | None = None,
        compress: bool = True,
        retry: RetryPolicy | int | None = DEFAULT_RETRY,
    ) -> None:
        super().__init__(
            serde=serde, namespace=namespace, retention=retention, compress=compress, retry=retry
        )
        self.dialect = PostgresDialect(schema)
        if conn is not OPENED_LATER:
            self._executor = AsyncPostgresExecutor(conn)
        if type(conn).__module__.startswith("asyncpg."):  # unasync: remove
            from saver.io.asyncpg import MAX_PARAMS, AsyncpgExecutor  # unasync: remove

            self._executor = AsyncpgExecutor(conn)  # unasync: remove
            self.dialect = PostgresDialect(schema, MAX_PARAMS)  # unasync: remove
        self.loop = bridge.running_loop()  # unasync: remove

    @classmethod
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        serde: SerializerProtocol | None = None,
        namespace: str = "",
        schema: str | None = None,
        pool_size: int | None = None,
        retention: RetentionPolicy | None = None,
        compress: bool = True,
        sweep_every: float | None = None,
        retry: RetryPolicy | int | None = DEFAULT_RETRY,
        prepare_threshold: PrepareThreshold = AUTO,
        pool_timeout: float = 30.0,
    ) -> AsyncPostgresSaver:
        """A saver of `conn_string`, which connects on first use (with `pool_size`, a pool of
        that many connections, of which a call waits `pool_timeout` seconds for one before
        a TransientStorageError): pass it to `compile()` as it is (and `aclose()` it when
        done), or use it in `async with`, which closes it on exit. An async saver can be
        awaited too, to connect now.

        With `retention` the policy's per-thread part is applied as threads are written;
        with `sweep_every` (seconds) too, a background sweep applies all of it.

        A URL may end in `?schema=name` (as the `schema` argument) and `?prepare_threshold=`
        (`none`, `auto` or a number; as the argument); a URL and an argument that disagree are
        an InvalidConfigError. `prepare_threshold` is psycopg's: 0 prepares every statement,
        None never prepares, which pgbouncer in transaction pooling mode needs (before 1.21,
        or without `max_prepared_statements`). "auto", the default, is 0 unless the first
        connection finds a pooler between the saver and the server (one query at open),
        then None."""
        conn_string, schema, prepare_threshold = postgres_options(
            conn_string, schema, prepare_threshold
        )
        threshold = 0 if prepare_threshold == AUTO else prepare_threshold
        settings: dict[str, Any] = {"autocommit": True, "prepare_threshold": threshold}
        try:
            conninfo_to_dict(conn_string)  # a malformed URL fails now, not on first use
        except (psycopg.Error, ValueError) as exc:
            raise open_error(conn_string, exc) from None  # the driver's text may hold a password
        saver = cls(
            OPENED_LATER,
            serde=serde,
            namespace=namespace,
            schema=schema,
            retention=retention,
            compress=compress,
            retry=retry,
        )

        async def reopen() -> AsyncConnection[Any]:
            return await AsyncConnection.connect(conn_string, **settings)

        async def connect() -> None:
            try:
                # One direct connection first: an unreachable server fails now, not after a
                # pool's start-up timeout; and it tells whether a pooler answers for the server.
                first = await reopen()
                if prepare_threshold == AUTO:
                    try:
                        pooled = await through_pooler(first)
                    except BaseException:
                        await first.close()
                        raise
                    if pooled:  # its transaction pooling would mix up prepared statements
                        settings["prepare_threshold"] = first.prepare_threshold = None
                if pool_size:
                    await first.close()
                    pool = AsyncConnectionPool(
                        conn_string,
                        min_size=1,
                        max_size=pool_size,
                        kwargs=settings,
                        check=AsyncConnectionPool.check_connection,
                        timeout=pool_timeout,
                        open=False,
                    )
                    await pool.open(wait=True, timeout=30)
                    conn: Any = pool
                else:
                    conn = first
            except (psycopg.Error, ValueError) as exc:
                raise open_error(conn_string, exc) from None
            saver._hold(conn, AsyncPostgresExecutor(conn, reopen))

        saver._opener = connect
        saver._sweep_every = sweep_every
        return saver

    async def _close(self) -> None:
        executor: AsyncPostgresExecutor | None = getattr(self, "_executor", None)
        if self._owned is not None and executor is not None:
            if executor.conn is not None and executor.conn is not self._owned:
                await executor.conn.close()  # the one it reconnected with
        await super()._close()

    @property
    def conn(self) -> AsyncConnection[Any] | AsyncConnectionPool[Any]:
        """The pool, or the connection (a new one after the saver reconnected)."""
        executor = self._executor
        return executor.pool if executor.pool is not None else executor.conn

    async def _execute(self, plan: plans.Plan[Any], mode: str) -> Any:
        return await self._executor.run(plan, mode)
