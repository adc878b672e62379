"""Through a real pgbouncer in transaction pooling mode: savers opened with
prepare_threshold=None (or ?prepare_threshold=none, or by default, which finds the pooler) run
a LangGraph graph and every operation, with nothing depending on a server session outliving a
transaction; prepared statements forced on fail with a StorageError that says what to do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from saver import AsyncPostgresSaver, PostgresSaver, StorageError, TransientStorageError
from saver.retention.policy import RetentionPolicy
from tests.postgres.pgbouncer import Bouncer, running_pgbouncer
from tests.postgres.test_dropin import INPUTS, graph, seen
from tests.postgres.test_round_trips import at, checkpoint_id, operations

TURNS: list[dict[str, Any]] = [*INPUTS, {"log": ["user: once more"]}]
# How the saver is told not to prepare: the argument, the URL, or not at all (it finds out).
OPENED = ("argument", "url", "default")


def config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def in_memory_history() -> list[tuple[Any, ...]]:
    app = graph(InMemorySaver())
    for value in TURNS:
        app.invoke(value, config("chat"))
    return seen(list(app.get_state_history(config("chat"))))


@pytest.fixture
def bouncer(tmp_path: Path) -> Iterator[Bouncer]:
    """Two server connections, each wiped (DISCARD ALL) after every transaction: whatever a
    transaction leaves on its server session is gone before the next one, on either."""
    with running_pgbouncer(
        tmp_path / "pgbouncer", server_pool_size=2, reset_after_every_transaction=True
    ) as running:
        yield running


@pytest.fixture
def shared_bouncer(tmp_path: Path) -> Iterator[Bouncer]:
    """One server connection that every client's transactions share, never reset."""
    with running_pgbouncer(tmp_path / "pgbouncer", server_pool_size=1) as running:
        yield running


def open_args(opened: str, bouncer: Bouncer, schema: str) -> tuple[str, dict[str, Any]]:
    if opened == "argument":
        return bouncer.url, {"schema": schema, "prepare_threshold": None}
    if opened == "url":
        return bouncer.with_query(f"prepare_threshold=none&schema={schema}"), {}
    return bouncer.url, {"schema": schema}


def threshold_of(cp: Any) -> Any:
    """The prepare_threshold the saver's connections were made with."""
    conn = cp.conn
    if isinstance(conn, (psycopg.Connection, psycopg.AsyncConnection)):
        return conn.prepare_threshold
    return conn.kwargs["prepare_threshold"]


# --- the fixture is what it says --------------------------------------------------------


def test_shared_bouncer_gives_every_client_the_same_server_session(
    shared_bouncer: Bouncer,
) -> None:
    with (
        psycopg.connect(shared_bouncer.url, autocommit=True, prepare_threshold=None) as one,
        psycopg.connect(shared_bouncer.url, autocommit=True, prepare_threshold=None) as other,
    ):
        one.execute("PREPARE left_behind AS SELECT 1")
        names = other.execute("SELECT name FROM pg_prepared_statements").fetchall()
        assert ("left_behind",) in names
        one.execute("DEALLOCATE left_behind")


def test_bouncer_wipes_the_server_session_after_every_transaction(bouncer: Bouncer) -> None:
    with psycopg.connect(bouncer.url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("PREPARE left_behind AS SELECT 1")
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)


# --- a real graph, a few turns ------------------------------------------------------------


@pytest.mark.parametrize("opened", OPENED)
def test_sync_saver_runs_a_graph_through_pgbouncer(
    opened: str, bouncer: Bouncer, schema: str
) -> None:
    url, kwargs = open_args(opened, bouncer, schema)
    with PostgresSaver.from_conn_string(url, **kwargs) as cp:
        cp.setup()
        app = graph(cp)
        for value in TURNS:
            app.invoke(value, config("chat"))
        history = list(app.get_state_history(config("chat")))
        assert threshold_of(cp) is None
    assert seen(history) == in_memory_history()
    assert len(history) == 4 * len(TURNS)


@pytest.mark.parametrize("opened", OPENED)
async def test_async_saver_runs_graphs_at_once_through_pgbouncer(
    opened: str, bouncer: Bouncer, schema: str
) -> None:
    """Three threads at once on a pool of three connections over two server connections."""
    url, kwargs = open_args(opened, bouncer, schema)
    async with AsyncPostgresSaver.from_conn_string(url, pool_size=3, **kwargs) as cp:
        await cp.setup()
        app = graph(cp)

        async def chat(thread_id: str) -> list[Any]:
            for value in TURNS:
                await app.ainvoke(value, config(thread_id))
            return [s async for s in app.aget_state_history(config(thread_id))]

        histories = await asyncio.gather(*(chat(f"chat-{n}") for n in range(3)))
        assert threshold_of(cp) is None
    for history in histories:
        assert seen(history) == in_memory_history()


# --- every operation, each plan mode -------------------------------------------------------


def test_sync_saver_runs_every_operation_through_pgbouncer(bouncer: Bouncer, schema: str) -> None:
    with PostgresSaver.from_conn_string(bouncer.url, schema=schema) as cp:
        for name, args, kwargs in operations():
            result = getattr(cp, name)(*args, **kwargs)
            if name == "list":
                assert [t.checkpoint["id"] for t in result] == [checkpoint_id(2)]
        assert cp.get_tuple(at()).checkpoint["id"] == checkpoint_id(3)
        report = cp.cleanup(RetentionPolicy(keep_last=1))
        assert report is not None
        assert [t.checkpoint["id"] for t in cp.list(at())] == [checkpoint_id(3)]


async def test_async_saver_runs_every_operation_through_pgbouncer(
    bouncer: Bouncer, schema: str
) -> None:
    async with AsyncPostgresSaver.from_conn_string(bouncer.url, schema=schema) as cp:
        for name, args, kwargs in operations():
            if name == "list":
                found = [t.checkpoint["id"] async for t in cp.alist(*args, **kwargs)]
                assert found == [checkpoint_id(2)]
            else:
                await getattr(cp, name if name == "setup" else "a" + name)(*args, **kwargs)
        assert (await cp.aget_tuple(at())).checkpoint["id"] == checkpoint_id(3)
        await cp.acleanup(RetentionPolicy(keep_last=1))
        assert [t.checkpoint["id"] async for t in cp.alist(at())] == [checkpoint_id(3)]


SESSION = (
    "SHOW search_path",
    "SHOW transaction_isolation",
    "SHOW jit",
    "SHOW synchronous_commit",
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    "SELECT count(*) FROM pg_prepared_statements",
)


def session_state(url: str) -> list[Any]:
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        return [conn.execute(sql).fetchone() for sql in SESSION]


def test_nothing_is_left_on_the_server_session_other_clients_get(
    shared_bouncer: Bouncer, schema: str
) -> None:
    before = session_state(shared_bouncer.url)
    with PostgresSaver.from_conn_string(shared_bouncer.url, schema=schema) as cp:
        for name, args, kwargs in operations():
            result = getattr(cp, name)(*args, **kwargs)
            if name == "list":
                list(result)
        cp.cleanup(RetentionPolicy(keep_last=1))
        assert session_state(shared_bouncer.url) == before
    assert before[-2:] == [(0,), (0,)]  # no advisory lock, no prepared statement


# --- prepared statements forced on -------------------------------------------------------


@pytest.mark.parametrize("given", ["from_conn_string", "connections"])
def test_prepared_statements_through_pgbouncer_fail_saying_what_to_do(
    given: str, shared_bouncer: Bouncer, schema: str
) -> None:
    """Two clients each prepare their first statement as _pg3_0 on the one server session."""
    if given == "from_conn_string":
        first = PostgresSaver.from_conn_string(
            shared_bouncer.url, schema=schema, prepare_threshold=0
        )
        second = PostgresSaver.from_conn_string(
            shared_bouncer.with_query(f"prepare_threshold=0&schema={schema}")
        )
        conns: list[psycopg.Connection[Any]] = []
    else:  # LangGraph's documented settings, on connections the caller made
        conns = [
            psycopg.connect(shared_bouncer.url, autocommit=True, prepare_threshold=0)
            for _ in range(2)
        ]
        first, second = (PostgresSaver(conn, schema=schema) for conn in conns)
    try:
        first.setup()
        with pytest.raises(StorageError) as caught:
            second.get_tuple(at())
        assert not isinstance(caught.value, TransientStorageError)
        assert "prepare_threshold=None" in str(caught.value)
        assert "?prepare_threshold=none" in str(caught.value)
    finally:
        for saver in (first, second):
            saver.close()
        for conn in conns:
            conn.close()


def test_prepared_statements_on_a_server_session_reset_between_transactions_fail(
    bouncer: Bouncer, schema: str
) -> None:
    """One client alone: its statements prepared in one transaction are gone in the next."""
    with PostgresSaver.from_conn_string(bouncer.url, schema=schema, prepare_threshold=0) as cp:
        with pytest.raises(StorageError, match=r"prepare_threshold=None \(\?prepare_threshold"):
            cp.setup()
            app = graph(cp)
            for value in TURNS:
                app.invoke(value, config("chat"))


def test_discard_plans_goes_through_pgbouncer(shared_bouncer: Bouncer, schema: str) -> None:
    """The one client of a pgbouncer may prepare: its DISCARD PLANS (at its 1st, 2nd, 4th, 8th
    operation...) pass, the statements stay prepared, and the graph runs."""
    with PostgresSaver.from_conn_string(
        shared_bouncer.url, schema=schema, prepare_threshold=0
    ) as cp:
        cp.setup()
        app = graph(cp)
        for value in TURNS:
            app.invoke(value, config("chat"))
        history = list(app.get_state_history(config("chat")))
        conn = cp.conn
        assert isinstance(conn, psycopg.Connection)
        assert cp._executor.uses[conn] >= 8  # DISCARD PLANS was sent 4 times or more
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements", prepare=False)
        assert prepared.fetchone()[0] > 0  # type: ignore[index]
    assert seen(history) == in_memory_history()
