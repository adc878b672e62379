"""asyncpg under AsyncPostgresSaver: the same plans and PostgreSQL statements, on an asyncpg
pool or connection (seed 004, agentflow's PgCheckpointer). Async only, so written here by
hand rather than generated.

asyncpg sends each statement on its own (no pipeline), with `$1` placeholders; it prepares
and caches every statement, so plans follow the same DISCARD PLANS schedule as psycopg's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from saver.core import plans
from saver.dialects import postgres as session
from saver.dialects.base import Stmt
from saver.dialects.postgres import replan_due
from saver.errors import SaverClosedError, StorageError, TransientStorageError
from saver.io._async.saver import drive
from saver.io.bridge import AsyncLoopLock
from saver.io.errors import by_sqlstate, said
from saver.io.modes import READ, RELAXED, SNAPSHOT

PLACEHOLDER = re.compile(r"%s|%%")
LOST = (asyncpg.exceptions.ConnectionDoesNotExistError, OSError, asyncio.TimeoutError)
# asyncpg's own limit on a statement's parameters (PostgreSQL's is 65535).
MAX_PARAMS = 32767


def dollar_placeholders(text: str) -> str:
    """A statement in psycopg's style (`%s`, `%%`) in asyncpg's (`$1`, `$2`, ..., `%`)."""
    numbers = iter(range(1, 65536))
    return PLACEHOLDER.sub(lambda m: f"${next(numbers)}" if m.group() == "%s" else "%", text)


def from_asyncpg(exc: BaseException) -> StorageError:
    """An asyncpg error as psycopg's would be (io/errors.py classifies by SQLSTATE)."""
    text = said(exc)
    if isinstance(exc, asyncpg.exceptions.InterfaceError) and "closed" in text:
        return SaverClosedError(f"the PostgreSQL connection or pool is closed: {text}")
    if isinstance(exc, LOST):
        return TransientStorageError(f"PostgreSQL connection lost or unavailable ({text}); retry")
    state = getattr(exc, "sqlstate", None)
    if not state:
        return StorageError(f"PostgreSQL error ({type(exc).__name__}): {text}")
    return by_sqlstate(state, text, "retry", type(exc).__name__)


class AsyncpgExecutor:
    """Runs each plan on a connection of the pool (or the one connection, under a lock), in
    a transaction where the plan's mode needs one."""

    def __init__(self, conn: asyncpg.Pool | asyncpg.Connection) -> None:
        self.pool = conn if isinstance(conn, asyncpg.Pool) else None
        self.conn = conn if isinstance(conn, asyncpg.Connection) else None
        self.lock = AsyncLoopLock()
        self.closed = False
        self.uses: dict[int, int] = {}  # by server process id: a pool hands out proxies
        self.texts: dict[str, str] = {}

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        if self.pool is not None:
            async with self.pool.acquire() as conn:
                yield conn
        else:
            assert self.conn is not None
            async with self.lock:
                if self.conn.is_closed():
                    raise SaverClosedError("the PostgreSQL connection was closed under this saver")
                yield self.conn

    def text(self, sql: str) -> str:
        if sql not in self.texts:
            if len(self.texts) > 1024:  # filters of many shapes: keep the cache small
                self.texts.clear()
            self.texts[sql] = dollar_placeholders(sql)
        return self.texts[sql]

    async def sql(self, conn: Any, stmt: Stmt) -> plans.Rows:
        # Without parameters a statement goes as written, as psycopg sends it: a migration's
        # format('... %s ...') is PL/pgSQL's, not a placeholder.
        text = self.text(stmt.sql) if stmt.params else stmt.sql
        if stmt.many:
            await conn.executemany(text, stmt.params)
            return []
        if stmt.plan_each_call:  # prepared afresh, so planned for these values
            rows = await (await conn.prepare(text)).fetch(*stmt.params)
        else:
            rows = await conn.fetch(text, *stmt.params)
        return [tuple(row) for row in rows]

    async def run(self, plan: plans.Plan[Any], mode: str) -> Any:
        if self.closed:
            plan.close()
            raise SaverClosedError("this saver was closed; open a new one to read or write")
        try:
            async with self.connection() as conn:

                async def execute(stmt: Stmt) -> plans.Rows:
                    return await self.sql(conn, stmt)

                pid = conn.get_server_pid()
                uses = self.uses[pid] = self.uses.get(pid, 0) + 1
                if replan_due(uses):
                    await conn.execute(session.DISCARD_PLANS)
                if len(self.uses) > 4096:  # connections come and go: forget the old ones
                    self.uses = {pid: uses}

                try:
                    first = next(plan)
                except StopIteration as nothing:
                    return nothing.value
                if mode == READ and not first.jit_off:
                    return await drive(plan, execute, first)
                isolation = "repeatable_read" if mode == SNAPSHOT else "read_committed"
                async with conn.transaction(isolation=isolation):
                    if first.jit_off or mode == RELAXED:
                        await conn.execute(session.JIT_OFF_IN_TRANSACTION)
                    if mode == RELAXED:
                        await conn.execute(session.NO_COMMIT_WAIT)
                    return await drive(plan, execute, first)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, *LOST) as exc:
            raise from_asyncpg(exc) from exc
