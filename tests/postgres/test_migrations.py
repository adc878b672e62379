"""setup() from many processes at once on a fresh schema: one migration run, no errors."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import saver
from saver import PostgresSaver
from saver.dialects.postgres import PostgresDialect
from tests.pg import server_url
from tests.support import drop_schema

PROCESSES = 8
ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = Path(saver.__file__).parent / "dialects" / "migrations" / "postgres"

# Opens its saver first, then says "ready" and waits for "go", so that every process calls
# setup() at the same moment.
CHILD = """
import sys
from saver import PostgresSaver

url, schema = sys.argv[1], sys.argv[2]
with PostgresSaver.from_conn_string(url, schema=schema) as cp:
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(3)
    cp.setup()
print("done", flush=True)
"""


@pytest.fixture
def fresh_schema() -> Iterator[tuple[str, str]]:
    url, schema = server_url(), f"mig_{uuid.uuid4().hex[:12]}"
    yield url, schema
    drop_schema(url, schema)


def migration_rows(url: str, schema: str) -> list[tuple[int, float]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            f'SELECT version, applied_at FROM "{schema}".history_migrations ORDER BY version'
        ).fetchall()


def test_setup_from_eight_processes_at_once_migrates_once(fresh_schema: tuple[str, str]) -> None:
    url, schema = fresh_schema
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, url, schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for proc in procs:  # the start barrier: all connected and waiting
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                _, err = proc.communicate(timeout=30)
                pytest.fail(f"a child did not get ready: {line!r}\n{err}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [(proc.wait(timeout=30), *proc.communicate(timeout=30)) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    failed = [(code, out, err) for code, out, err in results if code != 0]
    assert not failed, f"{len(failed)} of {PROCESSES} setup() calls failed:\n" + "\n---\n".join(
        f"exit {code}\n{out}\n{err}" for code, out, err in failed
    )

    versions = [version for version, _ in PostgresDialect(schema).MIGRATIONS]
    rows = migration_rows(url, schema)
    assert [version for version, _ in rows] == versions, rows

    with psycopg.connect(url, autocommit=True) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        }
    assert {"history_checkpoints", "history_blobs", "history_writes"} <= tables

    # Once more, in this process: nothing to do, nothing recorded.
    with PostgresSaver.from_conn_string(url, schema=schema) as cp:
        cp.setup()
    assert migration_rows(url, schema) == rows


def test_migrations_do_not_use_concurrently() -> None:
    # CREATE INDEX CONCURRENTLY cannot run inside setup()'s transaction (which holds the
    # advisory lock that makes concurrent setup() calls safe).
    files = sorted(MIGRATIONS_DIR.glob("*.sql"))
    assert files, f"no migration files in {MIGRATIONS_DIR}"
    offenders = [
        f.name for f in files if re.search(r"\bconcurrently\b", f.read_text(), re.IGNORECASE)
    ]
    assert not offenders, f"migrations using CONCURRENTLY: {offenders}"
