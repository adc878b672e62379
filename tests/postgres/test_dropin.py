"""PostgresSaver and AsyncPostgresSaver take what LangGraph's PostgreSQL savers take, and say
clearly what went wrong when they cannot open or are used after being closed."""

from __future__ import annotations

import asyncio
import operator
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from typing_extensions import TypedDict

from saver import (
    AsyncPostgresSaver,
    InvalidConfigError,
    PostgresSaver,
    SaverClosedError,
    TransientStorageError,
)
from saver.core import plans

# What LangGraph's docs pass to psycopg for its PostgresSaver / AsyncPostgresSaver.
DOCUMENTED: dict[str, Any] = {"autocommit": True, "row_factory": dict_row, "prepare_threshold": 0}
# How the saver under test gets its storage: a connection or a pool the caller made (with
# LangGraph's documented settings, or with none of them), or a URL it opens itself.
HOW = ("conn-documented", "conn-bare", "pool-documented", "pool-bare", "url", "url-pool")
THREAD = {"configurable": {"thread_id": "chat"}}


# --- a small real graph ----------------------------------------------------------------


class State(TypedDict):
    log: Annotated[list[str], operator.add]
    turns: int


def greet(state: State) -> dict[str, Any]:
    return {"log": [f"hello #{state['turns']}"], "turns": state["turns"] + 1}


def reply(state: State) -> dict[str, Any]:
    return {"log": [f"{len(state['log'])} lines so far"]}


def graph(checkpointer: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("greet", greet)
    builder.add_node("reply", reply)
    builder.add_edge(START, "greet")
    builder.add_edge("greet", "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=checkpointer)


INPUTS: list[dict[str, Any]] = [{"log": ["user: hi"], "turns": 0}, {"log": ["user: again"]}]


def seen(history: list[Any]) -> list[tuple[Any, ...]]:
    """What get_state_history shows a user, minus ids and timestamps."""
    return [(s.values, s.next, s.metadata["step"], s.metadata["source"]) for s in history]


def in_memory_history() -> list[tuple[Any, ...]]:
    app = graph(InMemorySaver())
    for value in INPUTS:
        app.invoke(value, THREAD)
    return seen(list(app.get_state_history(THREAD)))


# --- opening the saver every way LangGraph users do -------------------------------------


@contextmanager
def sync_saver(how: str, url: str, schema: str) -> Iterator[PostgresSaver]:
    settings = DOCUMENTED if how.endswith("documented") else {}
    if how.startswith("conn"):
        with psycopg.Connection.connect(url, **settings) as conn:
            yield PostgresSaver(conn, schema=schema)
    elif how.startswith("pool"):
        with ConnectionPool(url, min_size=1, max_size=2, kwargs=settings, open=False) as pool:
            yield PostgresSaver(pool, schema=schema)
    else:
        size = {"pool_size": 4} if how == "url-pool" else {}
        with PostgresSaver.from_conn_string(url, schema=schema, **size) as cp:
            yield cp


@asynccontextmanager
async def async_saver(how: str, url: str, schema: str) -> AsyncIterator[AsyncPostgresSaver]:
    settings = DOCUMENTED if how.endswith("documented") else {}
    if how.startswith("conn"):
        async with await psycopg.AsyncConnection.connect(url, **settings) as conn:
            yield AsyncPostgresSaver(conn, schema=schema)
    elif how.startswith("pool"):
        pool = AsyncConnectionPool(url, min_size=1, max_size=2, kwargs=settings, open=False)
        async with pool:
            yield AsyncPostgresSaver(pool, schema=schema)
    else:
        size = {"pool_size": 4} if how == "url-pool" else {}
        async with AsyncPostgresSaver.from_conn_string(url, schema=schema, **size) as cp:
            yield cp


@pytest.mark.parametrize("how", HOW)
def test_sync_saver_runs_a_graph_like_in_memory_saver(how: str, pg_url: str, schema: str) -> None:
    with sync_saver(how, pg_url, schema) as cp:
        cp.setup()
        app = graph(cp)
        for value in INPUTS:
            app.invoke(value, THREAD)
        history = list(app.get_state_history(THREAD))
    assert seen(history) == in_memory_history()
    assert len(history) == 8  # input, greet, reply, end of turn: twice


@pytest.mark.parametrize("how", HOW)
async def test_async_saver_runs_a_graph_like_in_memory_saver(
    how: str, pg_url: str, schema: str
) -> None:
    async with async_saver(how, pg_url, schema) as cp:
        await cp.setup()
        app = graph(cp)
        for value in INPUTS:
            await app.ainvoke(value, THREAD)
        history = [s async for s in app.aget_state_history(THREAD)]
    assert seen(history) == in_memory_history()
    assert len(history) == 8


# --- list() on one shared connection -----------------------------------------------------


def step(thread_id: str, n: int, parent: str | None) -> tuple[Any, ...]:
    """put() arguments for checkpoint `n` of a thread, a child of `parent`."""
    checkpoint = empty_checkpoint()
    checkpoint["id"] = f"1f000000-0000-6000-8000-{n:012d}"
    checkpoint["channel_values"] = {"n": n}
    checkpoint["channel_versions"] = {"n": n}
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if parent is not None:
        conf["checkpoint_id"] = parent
    return {"configurable": conf}, checkpoint, {"source": "loop", "step": n}, {"n": n}


# Past one page, so list() also reads a page after the loop body has used the connection.
LISTED = plans.PAGE_SIZE + 2


@pytest.mark.timeout(120)
def test_sync_calls_inside_a_list_loop_on_one_connection_do_not_deadlock(
    pg_url: str, schema: str
) -> None:
    with psycopg.Connection.connect(pg_url, **DOCUMENTED) as conn:
        cp = PostgresSaver(conn, schema=schema)
        parent = None
        for n in range(LISTED):
            parent = cp.put(*step("listed", n, parent))["configurable"]["checkpoint_id"]
        listed = []
        for item in cp.list({"configurable": {"thread_id": "listed"}}):
            listed.append(item.checkpoint["id"])
            assert cp.get_tuple(item.config).checkpoint["id"] == listed[-1]
            cp.put(*step("written-while-listing", len(listed), None))
        assert listed == sorted(listed, reverse=True) and len(set(listed)) == LISTED
        written = list(cp.list({"configurable": {"thread_id": "written-while-listing"}}))
        assert len(written) == LISTED


@pytest.mark.timeout(120)
async def test_async_calls_inside_a_list_loop_on_one_connection_do_not_deadlock(
    pg_url: str, schema: str
) -> None:
    async with await psycopg.AsyncConnection.connect(pg_url, **DOCUMENTED) as conn:
        cp = AsyncPostgresSaver(conn, schema=schema)
        parent = None
        for n in range(LISTED):
            parent = (await cp.aput(*step("listed", n, parent)))["configurable"]["checkpoint_id"]
        listed = []
        async for item in cp.alist({"configurable": {"thread_id": "listed"}}):
            listed.append(item.checkpoint["id"])
            assert (await cp.aget_tuple(item.config)).checkpoint["id"] == listed[-1]
            await cp.aput(*step("written-while-listing", len(listed), None))
        assert listed == sorted(listed, reverse=True) and len(set(listed)) == LISTED
        config = {"configurable": {"thread_id": "written-while-listing"}}
        assert len([t async for t in cp.alist(config)]) == LISTED


# --- errors --------------------------------------------------------------------------------

PASSWORD = "s3cret-pw"
MALFORMED = {  # a pool is tried once: a URL that cannot parse fails the same way for both
    "unknown-parameter": (f"postgresql://u:{PASSWORD}@127.0.0.1:5432/db?bogus=1", None),
    "unknown-parameter-pool": (f"postgresql://u:{PASSWORD}@127.0.0.1:5432/db?bogus=1", 2),
    "unclosed-ipv6-bracket": (f"postgresql://u:{PASSWORD}@[::1:5432/db", None),
}
CLASSES = pytest.mark.parametrize(
    "cls", [PostgresSaver, AsyncPostgresSaver], ids=lambda c: c.__name__
)


def open_and_close(cls: Any, url: str, **kwargs: Any) -> None:
    """Enter and leave `cls.from_conn_string(url, **kwargs)`, sync or async alike."""
    if cls is PostgresSaver:
        with cls.from_conn_string(url, **kwargs):
            return

    async def enter() -> None:
        async with cls.from_conn_string(url, **kwargs):
            return

    asyncio.run(enter())


def everything_shown(error: BaseException) -> str:
    """The whole traceback a log would show, causes included."""
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("url", "pool_size"), MALFORMED.values(), ids=MALFORMED.keys())
@CLASSES
def test_malformed_url_is_invalid_config_naming_the_url_without_password(
    cls: Any, url: str, pool_size: int | None
) -> None:
    with pytest.raises(InvalidConfigError) as raised:
        open_and_close(cls, url, pool_size=pool_size)
    assert url.replace(PASSWORD, "***") in str(raised.value)
    assert PASSWORD not in everything_shown(raised.value)


@CLASSES
def test_unreachable_server_is_transient_without_password(cls: Any) -> None:
    url = f"postgresql://u:{PASSWORD}@127.0.0.1:1/db?connect_timeout=5"
    with pytest.raises(TransientStorageError) as raised:
        open_and_close(cls, url)
    assert url.replace(PASSWORD, "***") in str(raised.value)
    assert PASSWORD not in everything_shown(raised.value)


@pytest.mark.parametrize("pool_size", [None, 2], ids=["conn", "pool"])
def test_sync_saver_used_after_its_block_raises_saver_closed(
    pool_size: int | None, pg_url: str, schema: str
) -> None:
    with PostgresSaver.from_conn_string(pg_url, schema=schema, pool_size=pool_size) as cp:
        saved = cp.put(*step("t", 1, None))
    with pytest.raises(SaverClosedError):
        cp.get_tuple(saved)
    with pytest.raises(SaverClosedError):
        cp.put(*step("t", 2, None))
    with pytest.raises(SaverClosedError):
        list(cp.list(None))


@pytest.mark.parametrize("pool_size", [None, 2], ids=["conn", "pool"])
async def test_async_saver_used_after_its_block_raises_saver_closed(
    pool_size: int | None, pg_url: str, schema: str
) -> None:
    async with AsyncPostgresSaver.from_conn_string(
        pg_url, schema=schema, pool_size=pool_size
    ) as cp:
        saved = await cp.aput(*step("t", 1, None))
    with pytest.raises(SaverClosedError):
        await cp.aget_tuple(saved)
    with pytest.raises(SaverClosedError):
        await cp.aput(*step("t", 2, None))
    with pytest.raises(SaverClosedError):
        [t async for t in cp.alist(None)]
