"""A plan PostgreSQL cached while the tables were empty does not outlive their growth: the
saver's connections drop their plans (DISCARD PLANS) on a schedule, so a prepared statement is
planned again for the tables as they are."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from langchain_core.messages import HumanMessage

from saver import PostgresSaver
from saver.dialects.postgres import REPLAN_EVERY, replan_due
from tests.savers.test_plans_at_scale import TABLES, chat, copy_threads, run_config

PAGE = "WITH page AS MATERIALIZED"


def test_plans_are_dropped_at_doubling_uses_then_every_128() -> None:
    due = [n for n in range(1, 3 * REPLAN_EVERY + 1) if replan_due(n)]
    assert due == [1, 2, 4, 8, 16, 32, 64, 128, 256, 384]


def cached_plan(conn: psycopg.Connection[Any]) -> str:
    """The plan the saver's connection would run its get_tuple page statement with."""
    name, text = next(
        (n, s)
        for n, s in conn.execute("SELECT name, statement FROM pg_prepared_statements")
        if s.startswith(PAGE)
    )
    count = len(set(re.findall(r"\$(\d+)", text)))
    found = conn.execute(f"EXPLAIN EXECUTE {name}({', '.join(['NULL'] * count)})")
    return "\n".join(r[0] for r in found)


def test_the_cached_plan_is_made_again_after_the_tables_grow(pg_url: str, schema: str) -> None:
    with PostgresSaver.from_conn_string(pg_url, schema=schema) as cp:
        chat(cp).invoke({"messages": [HumanMessage("hello")]}, run_config(0))
        for _ in range(10):  # past PostgreSQL's five custom plans: the generic one is kept
            cp.get_tuple(run_config(0))
        conn = cp.conn
        assert isinstance(conn, psycopg.Connection)
        with psycopg.connect(pg_url, autocommit=True) as raw:
            raw.execute(f'SET search_path TO "{schema}"')
            columns = {
                t: [c.name for c in raw.execute(f"SELECT * FROM {t} LIMIT 0").description or ()]
                for t in TABLES
            }
            for statement in copy_threads(columns, "metadata"):
                raw.execute(statement.replace("?", "%s"), (1, 2000))
        for _ in range(64):
            cp.get_tuple(run_config(0))
        late = cached_plan(conn)
    assert "Seq Scan" not in late, late
    assert "history_checkpoints_pkey" in late
