"""`schema="name"` puts every table of a saver in that schema, creating it if needed, so
savers with different schemas share a database without seeing each other's threads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from psycopg.conninfo import make_conninfo

from saver import AsyncPostgresSaver, InvalidConfigError, PostgresSaver
from tests.support import drop_schema

TABLES = ["history_blobs", "history_checkpoints", "history_migrations", "history_writes"]
CLASSES = pytest.mark.parametrize(
    "cls", [PostgresSaver, AsyncPostgresSaver], ids=lambda c: c.__name__
)
LATEST = {"configurable": {"thread_id": "same", "checkpoint_ns": ""}}


@asynccontextmanager
async def opened(cls: Any, url: str, **kwargs: Any) -> AsyncIterator[Any]:
    """`cls.from_conn_string(url, **kwargs)`, entered the way its class wants."""
    if cls is PostgresSaver:
        with cls.from_conn_string(url, **kwargs) as cp:
            yield cp
    else:
        async with cls.from_conn_string(url, **kwargs) as cp:
            yield cp


async def call(cp: Any, name: str, *args: Any) -> Any:
    """`cp.name(*args)` on a sync saver, its `a`-twin awaited on an async one."""
    if isinstance(cp, PostgresSaver):
        return getattr(cp, name)(*args)
    return await getattr(cp, name if name == "setup" else "a" + name)(*args)


async def put_value(cp: Any, value: str) -> None:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"value": value}
    checkpoint["channel_versions"] = {"value": 1}
    await call(cp, "put", LATEST, checkpoint, {"source": "input", "step": -1}, {"value": 1})


async def value_of(cp: Any) -> Any:
    found = await call(cp, "get_tuple", LATEST)
    return None if found is None else found.checkpoint["channel_values"]["value"]


def query(url: str, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def fresh_database(pg_url: str) -> Iterator[str]:
    """A new, empty database (from template0) on the test server; its conninfo."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    try:
        query(pg_url, f'CREATE DATABASE "{name}" TEMPLATE template0')
        yield make_conninfo(pg_url, dbname=name)
    finally:
        query(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def other_schema(pg_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    drop_schema(pg_url, name)


@CLASSES
async def test_every_table_lives_in_the_schema_which_setup_creates(
    cls: Any, fresh_database: str
) -> None:
    url, schema = fresh_database, "history"
    tables = (
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    )
    schema_exists = "SELECT count(*) FROM pg_namespace WHERE nspname = %s"
    assert query(url, tables) == []
    assert query(url, schema_exists, (schema,)) == [(0,)]
    async with opened(cls, url, schema=schema) as cp:
        await call(cp, "setup")
        await put_value(cp, "stored")
        assert await value_of(cp) == "stored"
    assert query(url, schema_exists, (schema,)) == [(1,)]
    found = query(url, tables)
    assert {where for where, _ in found} == {schema}  # nothing in public, nor anywhere else
    assert set(TABLES) <= {table for _, table in found}
    indexes = query(
        url, "SELECT DISTINCT schemaname FROM pg_indexes WHERE tablename LIKE 'history%'"
    )
    assert indexes == [(schema,)]


@CLASSES
async def test_two_schemas_on_one_database_keep_the_same_thread_apart(
    cls: Any, pg_url: str, schema: str, other_schema: str
) -> None:
    async with (
        opened(cls, pg_url, schema=schema) as a,
        opened(cls, pg_url, schema=other_schema) as b,
    ):
        await put_value(a, "in-a")
        assert await value_of(b) is None
        await put_value(b, "in-b")
        assert (await value_of(a), await value_of(b)) == ("in-a", "in-b")
        await call(b, "delete_thread", "same")
        assert (await value_of(a), await value_of(b)) == ("in-a", None)


@CLASSES
async def test_the_same_schema_reopened_sees_the_data(cls: Any, pg_url: str, schema: str) -> None:
    async with opened(cls, pg_url, schema=schema) as cp:
        await put_value(cp, "kept")
    async with opened(cls, pg_url, schema=schema) as cp:
        assert await value_of(cp) == "kept"


# An injection, a quote that would end the quoted name, a name PostgreSQL would truncate.
BAD_SCHEMAS = ["x; drop table", 'quote"inside', "x" * 64]


@pytest.mark.parametrize("bad", BAD_SCHEMAS)
@CLASSES
async def test_a_schema_that_is_not_a_plain_identifier_is_invalid_config(
    cls: Any, bad: str, pg_url: str
) -> None:
    with pytest.raises(InvalidConfigError, match="schema"):
        async with opened(cls, pg_url, schema=bad):
            pass
    if cls is PostgresSaver:
        with psycopg.connect(pg_url) as conn, pytest.raises(InvalidConfigError, match="schema"):
            cls(conn, schema=bad)
    else:
        async with await psycopg.AsyncConnection.connect(pg_url) as conn:
            with pytest.raises(InvalidConfigError, match="schema"):
                cls(conn, schema=bad)
    assert query(pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (bad,)) == [(0,)]
