"""Seed 004 (checkpointers): the async classes in `async with`, on a connection of one's
own, awaited in a FastAPI lifespan, and `await checkpointer.delete_checkpoints(...)`."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import saver
from tests.seeds import snippets

PLACEHOLDER_URL = "postgresql://user:pass@localhost/dbname"

FROM_CONN_STRING = """
from saver import AsyncSqliteSaver

# File-based (persistent)
async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as checkpointer:
    app = graph.compile(checkpointer=checkpointer)
    config = {"configurable": {"thread_id": "user-123"}}
    result = await app.ainvoke(state, config)

# In-memory (testing)
async with AsyncSqliteSaver.from_conn_string(":memory:") as checkpointer:
    app = graph.compile(checkpointer=checkpointer)
"""

CUSTOM_CONNECTION = """
import aiosqlite

async with aiosqlite.connect("checkpoints.db") as conn:
    checkpointer = AsyncSqliteSaver(conn)
    await checkpointer.setup()  # Create tables

    app = graph.compile(checkpointer=checkpointer)
    # Use app...
"""

SETUP = """
# Explicit table creation
async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as checkpointer:
    await checkpointer.setup()  # Creates checkpoint/writes tables if needed
    app = graph.compile(checkpointer=checkpointer)
"""

POSTGRES = """
from saver import AsyncPostgresSaver

# From connection string
async with AsyncPostgresSaver.from_conn_string(
    "postgresql://user:pass@localhost/dbname"
) as checkpointer:
    app = graph.compile(checkpointer=checkpointer)
"""

TTL = """
from datetime import timedelta

# Postgres with TTL
async with AsyncPostgresSaver.from_conn_string(conn_string) as checkpointer:
    await checkpointer.setup()

    # Delete old checkpoints
    await checkpointer.delete_checkpoints(
        before=datetime.now() - timedelta(days=30)
    )
"""

SHARED_CONNECTION = """
import aiosqlite

# Share connection across graphs
async with aiosqlite.connect("checkpoints.db") as conn:
    checkpointer = AsyncSqliteSaver(conn)
    await checkpointer.setup()

    app1 = graph1.compile(checkpointer=checkpointer)
    app2 = graph2.compile(checkpointer=checkpointer)

    # Both use same checkpoint storage
    await app1.ainvoke(state1, config1)
    await app2.ainvoke(state2, config2)
"""

FASTAPI = """
from fastapi import FastAPI
from contextlib import asynccontextmanager

@asynccontextmanager
async def lifespan(app: FastAPI):
    # Startup - create shared checkpointer
    app.state.checkpointer = await AsyncSqliteSaver.from_conn_string("checkpoints.db")
    await app.state.checkpointer.setup()
    yield
    # Shutdown - close connection
    await app.state.checkpointer.conn.close()

app = FastAPI(lifespan=lifespan)

@app.post("/workflow")
async def run_workflow(request: Request):
    graph_app = graph.compile(checkpointer=request.app.state.checkpointer)
    config = {"configurable": {"thread_id": request.headers["X-Thread-ID"]}}
    result = await graph_app.ainvoke(request.json(), config)
    return result
"""


def names(**more: Any) -> dict[str, Any]:
    """What seed 004's prose assumes: `graph` is a StateGraph builder, `state` its input."""
    return {
        "graph": snippets.builder(),
        "state": {"input": "hi"},
        "AsyncSqliteSaver": saver.AsyncSqliteSaver,
        "AsyncPostgresSaver": saver.AsyncPostgresSaver,
        "datetime": datetime,
        **more,
    }


def saver_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if name.startswith("history_")}


async def test_async_sqlite_from_conn_string_in_async_with(in_tmp: Path) -> None:
    ns = await snippets.run(FROM_CONN_STRING, names())
    assert ns["result"]["seen"] == ["hi", "approved"]


async def test_async_sqlite_saver_on_a_connection_of_ones_own(in_tmp: Path) -> None:
    await snippets.run(CUSTOM_CONNECTION, names())
    assert "history_checkpoints" in saver_tables(in_tmp / "checkpoints.db")


async def test_setup_inside_async_with_creates_the_tables(in_tmp: Path) -> None:
    await snippets.run(SETUP, names())
    assert "history_checkpoints" in saver_tables(in_tmp / "checkpoints.db")


async def test_async_postgres_from_conn_string_in_async_with(database: str) -> None:
    ns = await snippets.run(POSTGRES.replace(PLACEHOLDER_URL, database), names())
    assert ns["app"].checkpointer is ns["checkpointer"]


async def test_delete_checkpoints_is_awaited_on_an_async_saver(database: str) -> None:
    ns = await snippets.run(TTL, names(conn_string=database))
    assert isinstance(ns["checkpointer"], saver.AsyncPostgresSaver)


async def test_two_graphs_share_one_aiosqlite_connection(in_tmp: Path) -> None:
    one, two = snippets.config(), snippets.config()
    more = {
        "graph1": snippets.builder(),
        "graph2": snippets.builder(),
        "state1": {"input": "first"},
        "state2": {"input": "second"},
        "config1": one,
        "config2": two,
    }
    ns = await snippets.run(SHARED_CONNECTION, names(**more))
    async with saver.AsyncSqliteSaver.from_conn_string("checkpoints.db") as checkpointer:
        first = await checkpointer.aget_tuple(one)
        second = await checkpointer.aget_tuple(two)
    assert first is not None and first.checkpoint["channel_values"]["seen"] == [
        "first",
        "approved",
    ]
    assert second is not None and second.checkpoint["channel_values"]["seen"][0] == "second"
    assert ns["app1"].checkpointer is ns["app2"].checkpointer


async def test_a_fastapi_lifespan_awaits_from_conn_string_and_closes_its_conn(
    in_tmp: Path,
) -> None:
    from fastapi import Request

    ns = await snippets.run(FASTAPI, names(Request=Request))
    app = ns["app"]
    async with ns["lifespan"](app):
        checkpointer = app.state.checkpointer
        graph_app = snippets.builder().compile(checkpointer=checkpointer)
        config = snippets.config()
        result = await graph_app.ainvoke({"input": "from a request"}, config)
    assert result["seen"] == ["from a request", "approved"]
    assert "history_checkpoints" in saver_tables(in_tmp / "checkpoints.db")


ASYNCPG_POOL = """
# With custom pool
import asyncpg

pool = await asyncpg.create_pool(
    "postgresql://user:pass@localhost/dbname",
    min_size=5,
    max_size=20
)

async with AsyncPostgresSaver(pool) as checkpointer:
    await checkpointer.setup()
    app = graph.compile(checkpointer=checkpointer)
"""

ASYNCPG_POOL_SHARING = """
import asyncpg

pool = await asyncpg.create_pool(
    "postgresql://localhost/checkpoints",
    min_size=5,
    max_size=20
)

# Multiple checkpointers share pool
async with AsyncPostgresSaver(pool) as checkpointer1, \\
           AsyncPostgresSaver(pool) as checkpointer2:

    app1 = graph1.compile(checkpointer=checkpointer1)
    app2 = graph2.compile(checkpointer=checkpointer2)
"""


def asyncpg_url(conninfo: str) -> str:
    """asyncpg takes URLs only: the test database's conninfo as one."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(conninfo)
    return f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"


async def test_async_postgres_saver_on_an_asyncpg_pool_in_async_with(database: str) -> None:
    text = ASYNCPG_POOL.replace(PLACEHOLDER_URL, asyncpg_url(database))
    ns = await snippets.run(text, names())
    try:
        async with saver.AsyncPostgresSaver(ns["pool"]) as checkpointer:
            app = snippets.builder().compile(checkpointer=checkpointer)
            result = await app.ainvoke({"input": "hi"}, snippets.config())
        assert result["seen"] == ["hi", "approved"]
        with pytest.raises(saver.SaverClosedError):  # the snippet's saver, after its block
            await ns["app"].ainvoke({"input": "late"}, snippets.config())
    finally:
        await ns["pool"].close()


async def test_two_savers_share_an_asyncpg_pool_and_leave_it_open(database: str) -> None:
    text = ASYNCPG_POOL_SHARING.replace("postgresql://localhost/checkpoints", asyncpg_url(database))
    ns = await snippets.run(text, names(graph1=snippets.builder(), graph2=snippets.builder()))
    try:
        assert await ns["pool"].fetchval("SELECT 1") == 1  # the savers left it open
    finally:
        await ns["pool"].close()


POOL_SHARING = """
# Multiple checkpointers share pool
async with AsyncPostgresSaver(pool) as checkpointer1, \\
           AsyncPostgresSaver(pool) as checkpointer2:

    app1 = graph1.compile(checkpointer=checkpointer1)
    app2 = graph2.compile(checkpointer=checkpointer2)
"""


async def test_two_savers_in_async_with_share_a_pool_they_leave_open(database: str) -> None:
    # The seed makes its pool with asyncpg.create_pool; here it is psycopg's.
    from psycopg_pool import AsyncConnectionPool

    async with AsyncConnectionPool(
        database, kwargs={"autocommit": True}, min_size=1, max_size=4, open=False
    ) as pool:
        more = {"pool": pool, "graph1": snippets.builder(), "graph2": snippets.builder()}
        ns = await snippets.run(POOL_SHARING, names(**more))
        assert ns["app1"].checkpointer is not ns["app2"].checkpointer
        async with pool.connection() as conn:  # the savers left the pool open
            await conn.execute("SELECT 1")
        with pytest.raises(saver.SaverClosedError):
            await ns["checkpointer1"].aget_tuple(snippets.config())
