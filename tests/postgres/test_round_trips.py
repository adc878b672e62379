"""What the PostgreSQL savers send over a connection: a write is one round trip, a read one
Execute, and nothing outlives an operation on the session (so pgbouncer's transaction
pooling, which hands each transaction a different server connection, is safe)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from psycopg import pq
from psycopg.rows import tuple_row

from saver import AsyncPostgresSaver, PostgresSaver

THREAD = "chat"


def checkpoint_id(n: int) -> str:
    return f"1f000000-0000-6000-8000-{n:012d}"


def put_args(n: int, parent: str | None) -> tuple[Any, ...]:
    """put() arguments for checkpoint `n` with three channels, all new at this step."""
    checkpoint = empty_checkpoint()
    checkpoint["id"] = checkpoint_id(n)
    checkpoint["channel_values"] = {"a": n, "b": f"b{n}", "c": [n]}
    checkpoint["channel_versions"] = {"a": n, "b": n, "c": n}
    conf: dict[str, Any] = {"thread_id": THREAD, "checkpoint_ns": ""}
    if parent is not None:
        conf["checkpoint_id"] = parent
    metadata = {"source": "loop", "step": n, "run_id": f"run-{n}"}
    return {"configurable": conf}, checkpoint, metadata, {"a": n, "b": n, "c": n}


def at(n: int | None = None) -> dict[str, Any]:
    """The config of checkpoint `n`, or of the latest one."""
    conf: dict[str, Any] = {"thread_id": THREAD, "checkpoint_ns": ""}
    if n is not None:
        conf["checkpoint_id"] = checkpoint_id(n)
    return {"configurable": conf}


# Writes to a regular channel and to a special one, which are stored by two statements.
WRITES = [("a", 100), ("b", "later"), ("__error__", "boom")]


# --- round trips, read from libpq's own trace of the protocol ---------------------------


@contextmanager
def frontend_messages(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    """The type of every message the client sends inside the block ("Parse", "Sync"...)."""
    sent: list[str] = []
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield sent
        finally:
            conn.pgconn.untrace()  # flushes libpq's buffer into the file
            trace.seek(0)
            for line in trace.read().splitlines():
                if line.startswith("F\t"):
                    sent.append(line.split("\t")[2].strip())


@pytest.fixture(params=["prepare_threshold=0", "prepare_threshold=None"])
def warm_saver(request: pytest.FixtureRequest, pg_url: str, schema: str) -> Iterator[Any]:
    """A PostgresSaver on one connection, after one of each traced operation, as it opens
    (prepared statements) or as pgbouncer wants it (never prepared)."""
    with PostgresSaver.from_conn_string(pg_url, schema=schema) as cp:
        if request.param.endswith("None"):
            cp.conn.prepare_threshold = None
        saved = cp.put(*put_args(1, None))
        cp.put_writes(saved, WRITES, "task-1")
        assert cp.get_tuple(at()) is not None
        yield cp


def test_put_is_one_round_trip(warm_saver: Any) -> None:
    with frontend_messages(warm_saver.conn) as sent:
        saved = warm_saver.put(*put_args(2, checkpoint_id(1)))
    assert sent.count("Sync") == 1, sent
    assert saved["configurable"]["checkpoint_id"] == checkpoint_id(2)
    assert warm_saver.get_tuple(at(2)).checkpoint["channel_values"] == {"a": 2, "b": "b2", "c": [2]}


def test_put_writes_is_one_round_trip(warm_saver: Any) -> None:
    with frontend_messages(warm_saver.conn) as sent:
        warm_saver.put_writes(at(1), WRITES, "task-2")
    assert sent.count("Sync") == 1, sent
    stored = [w for w in warm_saver.get_tuple(at(1)).pending_writes if w[0] == "task-2"]
    assert sorted(w[1] for w in stored) == ["__error__", "a", "b"]


def test_get_tuple_is_one_execute_in_one_round_trip(warm_saver: Any) -> None:
    with frontend_messages(warm_saver.conn) as sent:
        found = warm_saver.get_tuple(at())
    assert sent.count("Execute") == 1, sent
    assert sent.count("Sync") <= 1, sent
    assert found.checkpoint["id"] == checkpoint_id(1)
    assert len(found.pending_writes) == len(WRITES)


# --- no session state left behind --------------------------------------------------------

ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
)
STATE = (
    "SHOW search_path",
    "SHOW transaction_isolation",
    ADVISORY_LOCKS,
    "SELECT count(*) FROM pg_prepared_statements",
)
# Not the server's default, so a saver that set it and then "reset" it would be caught.
SEARCH_PATH = "SET search_path TO pg_catalog, public"


def operations() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """(method, args, kwargs): every operation, each plan mode (read, snapshot, write, batch)."""
    return [
        ("setup", (), {}),
        ("put", put_args(1, None), {}),
        ("put", put_args(2, checkpoint_id(1)), {}),
        ("put", put_args(3, checkpoint_id(2)), {}),
        ("put_writes", (at(3), WRITES, "task"), {}),
        ("get_tuple", (at(),), {}),
        ("get_tuple", (at(2),), {}),
        ("list", ({"configurable": {"thread_id": THREAD}},), {"filter": {"step": 2}}),
        ("get_delta_channel_history", (), {"config": at(3), "channels": ["a", "b"]}),
        ("copy_thread", (THREAD, "copy"), {}),
        ("delete_for_runs", (["run-1"],), {}),
        ("prune", ([THREAD],), {}),
        ("delete_thread", ("copy",), {}),
    ]


def sync_session_state(conn: psycopg.Connection[Any]) -> list[Any]:
    cur = conn.cursor(row_factory=tuple_row)
    state = [cur.execute(sql).fetchone()[0] for sql in STATE]
    if not conn.autocommit:
        conn.rollback()  # end the transaction these reads opened
    return state


async def async_session_state(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
    cur = conn.cursor(row_factory=tuple_row)
    state = [(await (await cur.execute(sql)).fetchone())[0] for sql in STATE]
    if not conn.autocommit:
        await conn.rollback()
    return state


@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "transactions"])
def test_sync_saver_leaves_no_session_state_behind(
    autocommit: bool, pg_url: str, schema: str
) -> None:
    with psycopg.Connection.connect(pg_url, autocommit=autocommit, prepare_threshold=None) as conn:
        conn.execute(SEARCH_PATH)
        conn.commit()
        before = sync_session_state(conn)
        cp = PostgresSaver(conn, schema=schema)
        for name, args, kwargs in operations():
            result = getattr(cp, name)(*args, **kwargs)
            if name == "list":
                assert [t.checkpoint["id"] for t in result] == [checkpoint_id(2)]
            assert conn.info.transaction_status == pq.TransactionStatus.IDLE, name
        assert cp.get_tuple(at()).checkpoint["id"] == checkpoint_id(3)  # it all ran
        assert sync_session_state(conn) == before
    assert before[2:] == [0, 0]  # no advisory lock, no prepared statement to begin with


@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "transactions"])
async def test_async_saver_leaves_no_session_state_behind(
    autocommit: bool, pg_url: str, schema: str
) -> None:
    async with await psycopg.AsyncConnection.connect(
        pg_url, autocommit=autocommit, prepare_threshold=None
    ) as conn:
        await conn.execute(SEARCH_PATH)
        await conn.commit()
        before = await async_session_state(conn)
        cp = AsyncPostgresSaver(conn, schema=schema)
        for name, args, kwargs in operations():
            if name == "list":
                found = [t.checkpoint["id"] async for t in cp.alist(*args, **kwargs)]
                assert found == [checkpoint_id(2)]
            else:
                await getattr(cp, name if name == "setup" else "a" + name)(*args, **kwargs)
            assert conn.info.transaction_status == pq.TransactionStatus.IDLE, name
        assert (await cp.aget_tuple(at())).checkpoint["id"] == checkpoint_id(3)
        assert await async_session_state(conn) == before
    assert before[2:] == [0, 0]  # no advisory lock, no prepared statement to begin with
