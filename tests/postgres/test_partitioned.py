"""The PostgreSQL spec passes on tables hash-partitioned by thread_id, as Citus would
distribute them: every key starts with thread_id and no statement needs two threads' rows.
(That each per-thread statement reads one partition: tests/savers/test_plans_at_scale.py.)

The modules run are those of the statements on the hot path and those that delete or move
rows (puts, pages, filters, thread rows, history, deltas, retention, doctor); the rest of
the spec (thread records, maintenance, parity, error paths) is left out for the suite's
time: each test makes a partitioned schema, so the cost goes with the number of tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = (
    "test_list",
    "test_thread_rows",
    "test_timetravel",
    "test_deltas",
    "test_retention",
    "test_doctor",
)


def test_the_postgres_spec_passes_on_tables_partitioned_by_thread_id(long_campaign: bool) -> None:
    if not long_campaign:  # a minute and a half, most of it making partitioned schemas
        pytest.skip("part of the long run: scripts/test --long")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
        + [f"tests/savers/_sync/{name}.py" for name in MODULES]
        + ["-k", "PostgresSaver"],
        cwd=ROOT,
        env={**os.environ, "SAVER_TEST_PARTITIONS": "4"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = run.stdout[-4000:]
    assert run.returncode == 0, tail
    assert " passed" in tail.splitlines()[-1] and "failed" not in tail.splitlines()[-1], tail
