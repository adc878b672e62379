"""Which errors are worth a retry: TransientStorageError only when the same call can work
again (a lost connection, a lock timeout); everything else a plain StorageError saying what
to do, and ids the database could not index refused before any SQL."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

import saver
from saver.core.config import MAX_CHECKPOINT_NS_BYTES, MAX_THREAD_ID_BYTES
from saver.errors import InvalidConfigError, StorageError, TransientStorageError
from tests.savers._async.spec_helpers import (
    TABLES,
    checkpoint_id,
    config,
    count_rows,
    count_statements,
    put_counter_chain,
    put_step,
)

# What a new user tried: PostgreSQL said "index row requires 10040 bytes, maximum size is 8191".
TOO_LONG = "t" * 10_000


def incompressible(size: int, seed: int) -> str:
    """`size` UTF-8 bytes of random two-byte letters (and one ASCII letter if `size` is odd),
    which neither PostgreSQL nor anything else can compress into less."""
    rng = random.Random(seed)
    letters = "".join(chr(rng.randrange(0x410, 0x450)) for _ in range(size // 2))
    return letters + "a" * (size % 2)


def every_row(store: Any) -> dict[str, int]:
    return {table: count_rows(store, table) for table in TABLES}


def assert_permanent(error: BaseException) -> None:
    assert isinstance(error, StorageError)
    assert not isinstance(error, TransientStorageError), f"a retry cannot help, yet: {error}"


@contextmanager
def table_locked(store: Any, table: str) -> Iterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on `table` of `store` from another connection."""
    with psycopg.connect(store.path) as locker:
        locker.execute(f'SET search_path TO "{store.schema}"')
        locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
        locker.rollback()


# --- ids too long for the index: refused before any SQL, on every backend -------------------


async def test_put_refuses_a_thread_id_too_long_for_the_index_before_any_sql(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        before = every_row(open_saver)
        async with count_statements(cp) as statements:
            with pytest.raises(InvalidConfigError, match=r"thread_id is 10000 bytes") as caught:
                await put_step(cp, TOO_LONG, 1, {"count": 1}, {"count": 1})
        assert str(MAX_THREAD_ID_BYTES) in str(caught.value)
        assert statements == []
        assert every_row(open_saver) == before


async def test_get_tuple_of_a_thread_id_too_long_to_store_finds_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        assert await cp.aget_tuple(config(TOO_LONG)) is None


async def test_list_of_a_thread_id_too_long_to_store_finds_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        assert [t async for t in cp.alist(config(TOO_LONG))] == []


async def test_put_refuses_a_checkpoint_ns_too_long_for_the_index_before_any_sql(
    open_saver: Any,
) -> None:
    ns = "child:" + "n" * MAX_CHECKPOINT_NS_BYTES
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        before = every_row(open_saver)
        async with count_statements(cp) as statements:
            with pytest.raises(InvalidConfigError, match=r"checkpoint_ns is \d+ bytes") as caught:
                await put_step(cp, "kept", 9, {"count": 9}, {"count": 9}, checkpoint_ns=ns)
        assert str(MAX_CHECKPOINT_NS_BYTES) in str(caught.value)
        assert statements == []
        assert every_row(open_saver) == before


async def test_a_thread_id_and_checkpoint_ns_at_their_limits_round_trip(open_saver: Any) -> None:
    thread_id = incompressible(MAX_THREAD_ID_BYTES, seed=1)
    ns = "child:" + incompressible(MAX_CHECKPOINT_NS_BYTES - len("child:"), seed=2)
    assert len(thread_id.encode()) == MAX_THREAD_ID_BYTES
    assert len(ns.encode()) == MAX_CHECKPOINT_NS_BYTES
    async with open_saver() as cp:
        stored = await put_counter_chain(cp, thread_id, 2, checkpoint_ns=ns, with_writes=True)
        got = await cp.aget_tuple(config(thread_id, ns))
        listed = [t async for t in cp.alist(config(thread_id, ns))]
    assert got is not None
    assert got.config == stored[-1]
    assert got.checkpoint["channel_values"] == {"topic": f"topic-of-{thread_id}", "count": 2}
    assert got.pending_writes == [("task-2", "count", 3)]
    assert [t.config for t in listed] == stored[::-1]


# --- PostgreSQL: permanent errors are plain StorageErrors ------------------------------------


async def test_an_index_row_postgres_cannot_hold_is_a_permanent_storage_error(
    open_postgres_saver: Any,
) -> None:
    channel = incompressible(3000, seed=3)  # a channel name is part of history_blobs' key
    async with open_postgres_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with pytest.raises(StorageError, match=r"index row") as caught:
            await put_step(cp, "kept", 3, {channel: 1}, {channel: 1})
        assert_permanent(caught.value)
        assert "INSERT" not in str(caught.value)
        assert channel not in str(caught.value)


async def test_a_table_dropped_behind_the_saver_is_a_permanent_storage_error_asking_for_setup(
    open_postgres_saver: Any,
) -> None:
    async with open_postgres_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with psycopg.connect(open_postgres_saver.path, autocommit=True) as conn:
            conn.execute(f'DROP TABLE "{open_postgres_saver.schema}".history_blobs CASCADE')
        with pytest.raises(StorageError, match=r"setup\(\)") as caught:
            await cp.aget_tuple(config("kept"))
        assert_permanent(caught.value)


async def test_a_statement_timeout_is_a_permanent_storage_error(
    open_postgres_saver: Any,
) -> None:
    async with open_postgres_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        await cp.conn.execute("SET statement_timeout = 200")  # the saver's one connection
        with table_locked(open_postgres_saver, "history_checkpoints"):
            with pytest.raises(StorageError, match="statement timeout") as caught:
                await cp.aget_tuple(config("kept"))
        assert_permanent(caught.value)


async def test_a_lock_timeout_is_a_transient_storage_error(open_postgres_saver: Any) -> None:
    async with open_postgres_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        await cp.conn.execute("SET lock_timeout = 200")
        with table_locked(open_postgres_saver, "history_checkpoints"):
            with pytest.raises(TransientStorageError, match="lock timeout"):
                await cp.aget_tuple(config("kept"))


async def test_opening_a_missing_postgres_database_is_a_permanent_storage_error_naming_it(
    open_postgres_url: Any,
) -> None:
    name = f"saver_missing_{uuid.uuid4().hex[:12]}"
    cls = getattr(saver, open_postgres_url.class_name)
    with pytest.raises(StorageError) as caught:
        async with cls.from_conn_string(make_conninfo(open_postgres_url.path, dbname=name)) as cp:
            await cp.aget_tuple(config("t"))
    assert_permanent(caught.value)
    assert f'database "{name}" does not exist' in str(caught.value)


# --- SQLite: a damaged file is a permanent StorageError --------------------------------------


async def test_a_sqlite_file_damaged_on_disk_is_a_permanent_storage_error(
    open_sqlite_saver: Any,
) -> None:
    async with open_sqlite_saver() as cp:
        await put_counter_chain(cp, "kept", 3)
    file = Path(open_sqlite_saver.path)
    data = file.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    page = 65536 if page == 1 else page
    file.write_bytes(data[:page] + b"\xff" * (len(data) - page))  # every page but the schema's
    async with open_sqlite_saver() as cp:
        with pytest.raises(StorageError, match="corrupt") as caught:
            await cp.aget_tuple(config("kept", cid=checkpoint_id(3)))
    assert_permanent(caught.value)
