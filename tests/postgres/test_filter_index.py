"""A metadata filter across all threads is answered by the GIN index on metadata."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint

from saver import PostgresSaver
from saver.core import filters, plans
from tests.pg import server_url
from tests.support import drop_schema

THREADS = 300
STEPS = 15  # checkpoints per thread: 4500 in all
USERS = [f"user{i}" for i in range(199)] + ["alice"]  # 1 checkpoint in 200 is alice's
INDEX = "history_checkpoints_metadata"


@pytest.fixture
def fresh_schema() -> Iterator[tuple[str, str]]:
    url, schema = server_url(), f"gin_{uuid.uuid4().hex[:12]}"
    yield url, schema
    drop_schema(url, schema)


def checkpoint_id(n: int) -> str:
    return f"1f000000-0000-6000-8000-{n:012d}"


def user_of(thread: int, step: int) -> str:
    return USERS[(thread * STEPS + step) % len(USERS)]


def fill(cp: PostgresSaver, thread: int) -> None:
    parent: str | None = None
    for step in range(STEPS):
        checkpoint = empty_checkpoint()
        checkpoint["id"] = checkpoint_id(thread * STEPS + step)
        conf: dict[str, Any] = {"thread_id": f"t{thread}", "checkpoint_ns": ""}
        if parent is not None:
            conf["checkpoint_id"] = parent
        metadata: Any = {"source": "loop", "step": step, "user_id": user_of(thread, step)}
        cp.put({"configurable": conf}, checkpoint, metadata, {})
        parent = checkpoint["id"]


def explain(url: str, sql: str, params: list[Any], generic: bool = False) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        # A test-sized table is small enough that a sequential scan can cost the same as the
        # index; with that option priced out, the plan shows whether the index applies.
        conn.execute("SET enable_seqscan = off")
        if generic:
            conn.execute("SET plan_cache_mode = force_generic_plan")
        rows = conn.execute(f"EXPLAIN {sql}", params).fetchall()
    return "\n".join(r[0] for r in rows)


def test_filter_across_threads_uses_gin_index(fresh_schema: tuple[str, str]) -> None:
    url, schema = fresh_schema
    with PostgresSaver.from_conn_string(url, schema=schema, pool_size=4) as cp:
        cp.setup()
        with ThreadPoolExecutor(4) as workers:
            list(workers.map(lambda t: fill(cp, t), range(THREADS)))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'ANALYZE "{schema}".history_checkpoints')

        filter = {"user_id": "alice"}
        found = list(cp.list(None, filter=filter))

        d = cp.dialect
        where, params = d.list_where(
            cp.namespace, None, None, None, None, filters.leaves(filter), None
        )
        sql = d.select_page(where)
        bound = [*params, plans.PAGE_SIZE]
        plan = explain(url, sql, bound)
        # The saver's connections prepare every statement (prepare_threshold=0), so after a
        # few runs PostgreSQL may switch to the generic plan: that one must use it too.
        generic_plan = explain(url, sql, bound, generic=True)

    expected = {
        (f"t{t}", checkpoint_id(t * STEPS + s))
        for t in range(THREADS)
        for s in range(STEPS)
        if user_of(t, s) == "alice"
    }
    got = [
        (c.config["configurable"]["thread_id"], c.config["configurable"]["checkpoint_id"])
        for c in found
    ]
    assert len(expected) == THREADS * STEPS // len(USERS)
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert all(c.metadata["user_id"] == "alice" for c in found)
    assert [cid for _, cid in got] == sorted((cid for _, cid in got), reverse=True)

    assert INDEX in plan, f"the filter does not use {INDEX}; plan:\n{plan}"
    assert INDEX in generic_plan, f"the generic plan does not use {INDEX}; plan:\n{generic_plan}"
