"""How tests open each saver class on fresh, real storage: a SQLite file per test, or a
PostgreSQL schema per test on the server tests/pg.py finds."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest

import saver
from tests.pg import PARTITIONS, partition_by_thread, server_url

# AsyncPostgresSaver on an asyncpg connection (or pool, with pool_size), instead of psycopg's.
ASYNCPG = "AsyncPostgresSaver+asyncpg"
SQLITE_CLASSES = ("SqliteSaver", "AsyncSqliteSaver")
POSTGRES_CLASSES = ("PostgresSaver", "AsyncPostgresSaver")
ALL_CLASSES = SQLITE_CLASSES + POSTGRES_CLASSES


def opener(class_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """`open_saver(**kwargs)` opens the class on the same storage each time it is called,
    as a process restart would; the result is a context manager (async for Async*).
    `open_saver.path` is the SQLite file, or the PostgreSQL URL; `.schema` the schema."""
    cls = getattr(saver, class_name.split("+")[0])
    if class_name in SQLITE_CLASSES:
        where: dict[str, Any] = {}
        target = str(tmp_path / "history.sqlite")
        schema = None
    else:
        target = server_url()
        schema = f"t_{uuid.uuid4().hex[:16]}"
        where = {"schema": schema}
        request.addfinalizer(lambda: drop_schema(target, schema))
        if PARTITIONS:
            partition_by_thread(target, schema, PARTITIONS)

    def open_saver(**kwargs: Any) -> Any:
        if class_name == ASYNCPG:
            return on_asyncpg(target, **{**where, **kwargs})
        return cls.from_conn_string(target, **{**where, **kwargs})

    open_saver.path = target  # type: ignore[attr-defined]
    open_saver.schema = schema  # type: ignore[attr-defined]
    open_saver.class_name = class_name  # type: ignore[attr-defined]
    return open_saver


@asynccontextmanager
async def on_asyncpg(
    url: str,
    *,
    pool_size: int | None = None,
    sweep_every: float | None = None,
    pipeline: bool = False,
    **kwargs: Any,
) -> AsyncIterator[saver.AsyncPostgresSaver]:
    """What from_conn_string gives, on asyncpg: one connection, or a pool of `pool_size`."""
    conn: Any = (
        await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
        if pool_size
        else await asyncpg.connect(url)
    )
    try:
        async with saver.AsyncPostgresSaver(conn, **kwargs) as checkpointer:
            if sweep_every is not None:
                checkpointer.start_sweeper(sweep_every)
            yield checkpointer
    finally:
        await conn.close()


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def raw_rows(store: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL (written with `?` placeholders) behind the saver's back, on the storage of an
    `open_saver` from `opener`: its SQLite file, or its PostgreSQL schema."""
    if store.schema is None:
        conn = sqlite3.connect(store.path)
        try:
            with conn:
                cur = conn.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()
    with psycopg.connect(store.path, autocommit=True) as pg:
        pg.execute(f'SET search_path TO "{store.schema}"')
        cur = pg.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []


def primary_keys(store: Any) -> dict[str, list[str]]:
    """{table: primary-key columns in key order} for every table with a thread_id column."""
    if store.schema is None:
        tables = [
            r[0] for r in raw_rows(store, "SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        out = {}
        for table in tables:
            info = raw_rows(store, f"PRAGMA table_info({table})")
            if any(col[1] == "thread_id" for col in info):
                out[table] = [col[1] for col in sorted(info, key=lambda c: c[5]) if col[5] > 0]
        return out
    found = raw_rows(
        store,
        "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON TRUE "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE i.indisprimary AND NOT c.relispartition AND n.nspname = ? AND EXISTS (SELECT 1 FROM pg_attribute t "
        "WHERE t.attrelid = c.oid AND t.attname = 'thread_id') ORDER BY c.relname, k.pos",
        (store.schema,),
    )
    keys: dict[str, list[str]] = {}
    for table, column in found:
        keys.setdefault(table, []).append(column)
    return keys
