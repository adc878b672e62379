"""Hand-built checkpoints, a graph with a subgraph, and direct row counts shared by the
behaviour specifications."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # unasync: remove
import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from tests.support import raw_rows

TABLES = ("history_checkpoints", "history_blobs", "history_writes", "history_threads")
# Transaction and session control, which count_statements leaves out.
CONTROL = ("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SET", "SAVEPOINT", "RELEASE")


def checkpoint_id(n: int) -> str:
    """A uuid6-shaped id that sorts by `n`, so tests control which checkpoint is latest."""
    return f"1f000000-0000-6000-8000-{n:012d}"


def make_checkpoint(
    n: int, values: Mapping[str, Any], versions: Mapping[str, int | str]
) -> Checkpoint:
    cp = empty_checkpoint()
    cp["id"] = checkpoint_id(n)
    cp["channel_values"] = dict(values)
    cp["channel_versions"] = dict(versions)
    return cp


def config(thread_id: str, checkpoint_ns: str = "", cid: str | None = None) -> RunnableConfig:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns}
    if cid is not None:
        conf["checkpoint_id"] = cid
    return {"configurable": conf}


def whole_thread(thread_id: str) -> RunnableConfig:
    """A list() config for every checkpoint_ns of a thread."""
    return {"configurable": {"thread_id": thread_id}}


async def put_step(
    cp: Any,
    thread_id: str,
    n: int,
    values: Mapping[str, Any],
    versions: Mapping[str, int | str],
    *,
    changed: Mapping[str, int | str] | None = None,
    parent: str | None = None,
    checkpoint_ns: str = "",
    metadata: dict[str, Any] | None = None,
) -> RunnableConfig:
    """Put checkpoint `n`; `changed` (default: all `versions`) are the new_versions."""
    return await cp.aput(
        config(thread_id, checkpoint_ns, parent),
        make_checkpoint(n, values, versions),
        metadata if metadata is not None else {"source": "loop", "step": n},
        dict(versions if changed is None else changed),
    )


async def put_counter_chain(
    cp: Any,
    thread_id: str,
    steps: int,
    *,
    checkpoint_ns: str = "",
    with_writes: bool = False,
    first: int = 1,
    metadata: dict[str, Any] | None = None,
) -> list[RunnableConfig]:
    """A parent chain where channel `count` changes every step and `topic` only at the first.

    Checkpoint k (from `first`) holds count=k; with `with_writes`, each gets one pending write.
    """
    stored: list[RunnableConfig] = []
    parent: str | None = None
    for n in range(first, first + steps):
        changed: dict[str, int | str] = {"count": n}
        if n == first:
            changed["topic"] = 1
        saved = await put_step(
            cp,
            thread_id,
            n,
            {"topic": f"topic-of-{thread_id}", "count": n},
            {"topic": 1, "count": n},
            changed=changed,
            parent=parent,
            checkpoint_ns=checkpoint_ns,
            metadata={"source": "loop", "step": n, **(metadata or {})},
        )
        if with_writes:
            await cp.aput_writes(saved, [("count", n + 1)], task_id=f"task-{n}")
        stored.append(saved)
        parent = saved["configurable"]["checkpoint_id"]
    return stored


def count_rows(store: Any, table: str, where: str = "", params: tuple[Any, ...] = ()) -> int:
    """Rows in `table`, read behind the saver's back."""
    sql = f"SELECT COUNT(*) FROM {table}" + (f" WHERE {where}" if where else "")
    return int(raw_rows(store, sql, params)[0][0])


def thread_rows(store: Any, thread_id: str, namespace: str = "") -> dict[str, int]:
    """{table: rows of this thread in this saver namespace} for the three history tables."""
    return {
        table: count_rows(store, table, "thread_id = ? AND namespace = ?", (thread_id, namespace))
        for table in TABLES
    }


def execute(store: Any, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the storage behind the saver's back (to corrupt a row, say)."""
    raw_rows(store, sql, params)


# Bytes no serializer reads: 0xc1 is the one byte msgpack never uses.
GARBAGE = b"\xc1\xc1\xc1"


class Sql(str):
    """A value `damage` writes into the statement as SQL, not as a bound parameter."""


def damage(store: Any, table: str, column: str, value: Any, thread_id: str, **key: Any) -> None:
    """Overwrite `column` with `value` (bound, or `Sql` text written as is) in the rows of
    `table` of one thread, narrowed by `key` (column=value, e.g. checkpoint_id=...), behind
    the saver's back: a row as a bug, a disk or an older saver could leave it."""
    new = value if isinstance(value, Sql) else "?"
    where = " AND ".join(f"{name} = ?" for name in ("thread_id", *key))
    params = (thread_id, *key.values())
    execute(
        store,
        f"UPDATE {table} SET {column} = {new} WHERE {where}",
        params if isinstance(value, Sql) else (value, *params),
    )


def corrupt_json(store: Any, column: str, thread_id: str, cid: str) -> None:
    """Make a JSON column (`metadata`, `blob_versions`) of one checkpoint row unreadable as
    the object it must be, behind the saver's back: text that is not JSON on SQLite; on
    PostgreSQL, whose jsonb holds only valid JSON, a JSON array where the object belongs."""
    bad = "{not json" if store.schema is None else '["not", "an", "object"]'
    damage(store, "history_checkpoints", column, bad, thread_id, checkpoint_id=cid)


class State(TypedDict):
    x: str


def build_graph_with_subgraph(checkpointer: Any, *, suffix: str) -> Any:
    """A graph whose one node is a compiled subgraph (checkpoint_ns "child:<task id>"): its
    node `inner` appends `suffix` to x."""

    def inner(state: State) -> dict[str, str]:
        return {"x": state["x"] + suffix}

    sub = StateGraph(State)
    sub.add_node("inner", inner)
    sub.add_edge(START, "inner")
    sub.add_edge("inner", END)
    graph = StateGraph(State)
    graph.add_node("child", sub.compile())
    graph.add_edge(START, "child")
    graph.add_edge("child", END)
    return graph.compile(checkpointer=checkpointer)


def ids(tuples: list[Any]) -> list[str]:
    return [t.config["configurable"]["checkpoint_id"] for t in tuples]


@asynccontextmanager
async def count_statements(cp: Any) -> AsyncIterator[list[str]]:
    """The statements `cp` sends to its database inside the block, as the driver sees them,
    transaction control left out: SQLite's trace callback, or, on PostgreSQL, a cursor class
    that notes each execute (the saver takes a cursor from `cp.conn` per statement)."""
    statements: list[str] = []

    def note(sql: Any) -> None:
        text = str(sql)
        head = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
        if head not in CONTROL:
            statements.append(text)

    conn = cp.conn
    if isinstance(conn, asyncpg.Connection):  # unasync: remove
        conn.add_query_logger(lambda logged: note(logged.query))  # unasync: remove
        yield statements  # unasync: remove
        return  # unasync: remove
    if not isinstance(conn, psycopg.AsyncConnection):
        await conn.set_trace_callback(note)
        try:
            yield statements
        finally:
            await conn.set_trace_callback(None)
        return

    class CountingCursor(psycopg.AsyncCursor):  # type: ignore[type-arg]
        async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            note(query)
            return await super().execute(query, params, **kwargs)

        async def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            note(query)
            return await super().executemany(query, params_seq, **kwargs)

    previous = conn.cursor_factory
    conn.cursor_factory = CountingCursor
    try:
        yield statements
    finally:
        conn.cursor_factory = previous
