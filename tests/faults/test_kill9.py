"""kill -9 during puts, on a SQLite file and on a PostgreSQL schema.

A forked child runs the counter graph (tests/faults/graph.py) through a real saver and
reports each put and put_writes once it has returned. The parent kills it with SIGKILL
after a random number of reported lines (so the signal lands wherever the child has got
to: inside a put, between statements, mid-commit, in a node), then reopens the storage
and requires: every reported checkpoint reads back whole with its parent and its pending
writes, the thread's history is one unbroken chain of whole checkpoints, and the thread
goes on (an unfinished step finishes, a new step commits). The next child continues the
same thread for a few rounds, so it also starts from what a killed writer left.

Default: KILLS kills per backend; `--long`: LONG_KILLS.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from saver import PostgresSaver, SqliteSaver
from tests.faults.checks import check_chain, check_reported, go_on
from tests.faults.forker import Forker
from tests.faults.schemas import drop_schema
from tests.pg import server_url

KILLS, LONG_KILLS = 5, 200
MOST_LINES = 16  # a child is killed after 0..MOST_LINES reported lines
ROUNDS_PER_THREAD = 5  # children that continue one thread before the next thread starts
STEPS = 4  # graph steps per invoke in a child


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Where the children write: {"backend", "target", "schema"}, set up and empty."""
    if request.param == "sqlite":
        path = str(tmp_path / "history.sqlite")
        with SqliteSaver.from_conn_string(path) as cp:
            cp.setup()
        yield {"backend": "sqlite", "target": path, "schema": None}
        return
    url, schema = server_url(), f"fk_{uuid.uuid4().hex[:12]}"
    try:
        with PostgresSaver.from_conn_string(url, schema=schema) as cp:
            cp.setup()
        yield {"backend": "postgres", "target": url, "schema": schema}
    finally:
        drop_schema(url, schema)


@contextmanager
def reopen(storage: dict[str, Any]) -> Iterator[Any]:
    if storage["backend"] == "sqlite":
        with sqlite3.connect(storage["target"]) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.close()
        with SqliteSaver.from_conn_string(storage["target"]) as cp:
            yield cp
    else:
        with PostgresSaver.from_conn_string(storage["target"], schema=storage["schema"]) as cp:
            yield cp


@pytest.mark.timeout(1800)  # --long; each wait on a child is bounded far lower
def test_sigkill_during_graph_puts_loses_no_committed_step(
    forker: Forker, storage: dict[str, Any], fault_seed: int, long_campaign: bool
) -> None:
    rng = random.Random(fault_seed)
    kills = LONG_KILLS if long_campaign else KILLS
    mid_run = 0  # kills that came after at least one reported put
    committed: dict[str, set[str]] = {}  # thread: every checkpoint known committed so far
    for round_ in range(kills):
        thread = f"t{round_ // ROUNDS_PER_THREAD}"
        # Even rounds: LangGraph's durability="sync" on one connection; odd: its default
        # "async" (the next step runs while a checkpoint is saved), on a pool if PostgreSQL.
        durability = "sync" if round_ % 2 == 0 else "async"
        job = {"job": "graph", "thread": thread, "steps": STEPS, "invokes": 1000, **storage}
        job["durability"] = durability
        if storage["backend"] == "postgres" and round_ % 2:
            job["pool_size"] = 2
        pid = forker.start(job)
        at = rng.randint(0, MOST_LINES)
        where = (
            f"round {round_} on {storage['backend']}, durability={durability}, killed after "
            f"{at} lines (SAVER_FAULT_SEED={fault_seed})"
        )
        said: list[tuple[str, Any]] = []
        while sum(kind in ("put", "writes") for kind, _ in said) < at:
            kind, payload = forker.next()
            assert kind != "exited", f"{where}: the child ended by itself: {forker.describe()}"
            said.append((kind, payload))
        rest, code = forker.kill(pid)
        said += rest
        assert code == -signal.SIGKILL, f"{where}: exit {code}: {forker.describe()}"
        assert ("done", None) not in said, f"{where}: the child finished before the kill"
        puts = [payload for kind, payload in said if kind == "put"]
        writes = [payload for kind, payload in said if kind == "writes"]
        mid_run += bool(puts)
        known = committed.setdefault(thread, set())
        with reopen(storage) as saver:
            try:
                orphans = check_reported(saver, thread, puts, writes)
                assert not known & set(orphans), f"committed checkpoints gone: {orphans}"
                listed = check_chain(saver, thread)
                ids = {t.checkpoint["id"] for t in listed}
                assert known <= ids, f"committed checkpoints gone: {sorted(known - ids)}"
                assert {p["id"] for p in puts} <= ids
                go_on(saver, thread)
                known |= {t.checkpoint["id"] for t in check_chain(saver, thread)}
            except AssertionError as exc:
                lines = "\n".join(f"  {kind} {payload}" for kind, payload in said)
                raise AssertionError(f"{where}: {exc}\nthe child said:\n{lines}") from exc
    assert mid_run >= kills // 2, f"only {mid_run} of {kills} kills came after a put"
