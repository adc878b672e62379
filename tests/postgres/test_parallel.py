"""With a pool, an operation stuck on a lock does not hold up the saver's other operations;
with one shared connection it does (they queue behind it), which is the expected contrast.

The test blocks a `put` by holding, in its own transaction, a row lock on the very
history_checkpoints row that put upserts. No sleeps: the test waits (bounded) until
PostgreSQL reports the saver's backend as blocked by the test's, and waits on futures/tasks
with timeouts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import psycopg
import pytest

from saver import AsyncPostgresSaver, PostgresSaver
from tests.pg import server_url
from tests.savers._async.spec_helpers import checkpoint_id, config, make_checkpoint
from tests.support import drop_schema

POOL = 4
DONE_WITHIN = 10.0  # seconds an operation that must not wait gets
STILL_WAITING = 0.5  # seconds during which an operation that must wait has to stay waiting

BLOCKED_SQL = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"


@pytest.fixture
def fresh_schema() -> Iterator[tuple[str, str]]:
    url, schema = server_url(), f"par_{uuid.uuid4().hex[:12]}"
    yield url, schema
    drop_schema(url, schema)


def lock_row_sql(schema: str) -> str:
    return (
        f'SELECT 1 FROM "{schema}".history_checkpoints '
        "WHERE thread_id = %s AND checkpoint_id = %s FOR UPDATE"
    )


def wait_until_blocked(url: str, locker_pid: int) -> None:
    """Bounded: until some backend waits on a lock the test's connection holds."""
    deadline = time.monotonic() + DONE_WITHIN
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute(BLOCKED_SQL, (locker_pid,)).fetchone()[0] == 0:  # type: ignore[index]
            assert time.monotonic() < deadline, "the saver's put never reached the row lock"


async def await_until_blocked(url: str, locker_pid: int) -> None:
    deadline = time.monotonic() + DONE_WITHIN
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            cur = await conn.execute(BLOCKED_SQL, (locker_pid,))
            if (await cur.fetchone())[0]:  # type: ignore[index]
                return
            assert time.monotonic() < deadline, "the saver's put never reached the row lock"


@pytest.mark.parametrize("pool_size", [POOL, None], ids=["pool", "single-connection"])
def test_sync_blocked_operation(fresh_schema: tuple[str, str], pool_size: int | None) -> None:
    url, schema = fresh_schema
    with PostgresSaver.from_conn_string(url, schema=schema, pool_size=pool_size) as cp:
        cp.put(config("stuck"), make_checkpoint(1, {}, {}), {"step": 1}, {})
        cp.put(config("free"), make_checkpoint(2, {}, {}), {"step": 2}, {})

        with psycopg.connect(url) as locker, ThreadPoolExecutor(2) as threads:
            # Not autocommit: the row lock lasts until the rollback below.
            locker.execute(lock_row_sql(schema), ("stuck", checkpoint_id(1)))
            try:
                stuck = threads.submit(
                    cp.put, config("stuck"), make_checkpoint(1, {}, {}), {"step": "again"}, {}
                )
                wait_until_blocked(url, locker.info.backend_pid)

                def other_thread() -> tuple[object, object]:
                    got = cp.get_tuple(config("free"))
                    put = cp.put(config("other"), make_checkpoint(3, {}, {}), {"step": 3}, {})
                    return got, put

                other = threads.submit(other_thread)
                if pool_size:
                    got, _ = other.result(timeout=DONE_WITHIN)
                    assert got is not None and got.metadata["step"] == 2
                    assert not stuck.done(), "the blocked put finished while the lock was held"
                else:
                    # One shared connection: the second operation queues behind the first.
                    with pytest.raises(FutureTimeout):
                        other.result(timeout=STILL_WAITING)
                    assert not stuck.done()
            finally:
                locker.rollback()

            stuck.result(timeout=DONE_WITHIN)
            got, _ = other.result(timeout=DONE_WITHIN)
            assert got is not None and got.metadata["step"] == 2

        again = cp.get_tuple(config("stuck"))
        assert again is not None and again.metadata["step"] == "again"
        assert cp.get_tuple(config("other")) is not None


@pytest.mark.parametrize("pool_size", [POOL, None], ids=["pool", "single-connection"])
async def test_async_blocked_operation(
    fresh_schema: tuple[str, str], pool_size: int | None
) -> None:
    url, schema = fresh_schema
    async with AsyncPostgresSaver.from_conn_string(url, schema=schema, pool_size=pool_size) as cp:
        await cp.aput(config("stuck"), make_checkpoint(1, {}, {}), {"step": 1}, {})
        await cp.aput(config("free"), make_checkpoint(2, {}, {}), {"step": 2}, {})

        async with await psycopg.AsyncConnection.connect(url) as locker:
            await locker.execute(lock_row_sql(schema), ("stuck", checkpoint_id(1)))
            try:
                stuck = asyncio.create_task(
                    cp.aput(config("stuck"), make_checkpoint(1, {}, {}), {"step": "again"}, {})
                )
                await await_until_blocked(url, locker.info.backend_pid)

                async def other_task() -> tuple[object, object]:
                    got = await cp.aget_tuple(config("free"))
                    put = await cp.aput(
                        config("other"), make_checkpoint(3, {}, {}), {"step": 3}, {}
                    )
                    return got, put

                other = asyncio.create_task(other_task())
                if pool_size:
                    got, _ = await asyncio.wait_for(other, DONE_WITHIN)
                    assert got is not None and got.metadata["step"] == 2
                    assert not stuck.done(), "the blocked put finished while the lock was held"
                else:
                    # One shared connection: the second operation queues behind the first.
                    done, _ = await asyncio.wait({other}, timeout=STILL_WAITING)
                    assert not done, "the second operation did not wait for the shared connection"
                    assert not stuck.done()
            finally:
                await locker.rollback()

            await asyncio.wait_for(stuck, DONE_WITHIN)
            got, _ = await asyncio.wait_for(other, DONE_WITHIN)
            assert got is not None and got.metadata["step"] == 2

        again = await cp.aget_tuple(config("stuck"))
        assert again is not None and again.metadata["step"] == "again"
        assert await cp.aget_tuple(config("other")) is not None
