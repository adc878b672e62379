"""Statements whose estimates pass jit_above_cost while their work is small (a page of many
checkpoints, cleanup's batches) run with JIT off, for their own transaction only: compiling
takes 30 ms where such a query takes 3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from saver import PostgresSaver
from saver.dialects.base import Stmt
from saver.io.modes import READ, SNAPSHOT, WRITE

SHOW_JIT = "SELECT current_setting('jit')"


def jit_seen_by(cp: PostgresSaver, stmt: Stmt, mode: str = READ) -> str:
    def plan() -> Iterator[Stmt]:
        found = yield stmt
        return found[0][0]  # type: ignore[no-any-return]

    return cp._execute(plan(), mode)  # type: ignore[arg-type, no-any-return]


@pytest.fixture(params=[True, False], ids=["autocommit", "transaction"])
def saver_on_jit(request: pytest.FixtureRequest, pg_url: str, schema: str) -> Iterator[Any]:
    """A saver on a connection of the user's whose session has JIT on."""
    with psycopg.connect(pg_url, autocommit=request.param) as conn:
        conn.execute("SET jit = on")
        if not request.param:
            conn.commit()
        cp = PostgresSaver(conn, schema=schema)
        cp.setup()
        yield cp


def test_a_statement_marked_jit_off_is_planned_with_jit_off(saver_on_jit: Any) -> None:
    assert jit_seen_by(saver_on_jit, Stmt(SHOW_JIT, jit_off=True)) == "off"


@pytest.mark.parametrize("mode", [SNAPSHOT, WRITE])
def test_jit_off_holds_in_a_transaction_of_any_mode(saver_on_jit: Any, mode: str) -> None:
    # a dry-run cleanup reads in SNAPSHOT, whose isolation level must be set first
    assert jit_seen_by(saver_on_jit, Stmt(SHOW_JIT, jit_off=True), mode) == "off"


def test_jit_is_back_on_for_the_next_statement(saver_on_jit: Any) -> None:
    jit_seen_by(saver_on_jit, Stmt(SHOW_JIT, jit_off=True))
    assert jit_seen_by(saver_on_jit, Stmt(SHOW_JIT)) == "on"
