"""PostgreSQL orders version strings as Python does, under the database's own collation and
the common others: a delta chain's links are found by comparing versions in SQL
(dialects/base.py `chains`)."""

from __future__ import annotations

import psycopg

from saver.core.versions import next_version

OLDER = ["0000000042.1f0c9a3e77b2", "0" * 31 + "7.0.123"]
COLLATIONS = ("default", "C", "und-x-icu", "en-x-icu", "en_US.utf8", "en_US")


def test_the_database_collation_sorts_versions_as_python_does(pg_url: str) -> None:
    versions, version = list(OLDER), None
    for _ in range(3000):
        version = next_version(version)
        versions.append(version)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE v (version TEXT)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO v VALUES (%s)", [(v,) for v in versions])
        present = {row[0] for row in conn.execute("SELECT collname FROM pg_collation")}
        checked = [c for c in COLLATIONS if c in present]
        for collation in checked:
            ordered = conn.execute(f'SELECT version FROM v ORDER BY version COLLATE "{collation}"')
            assert [row[0] for row in ordered] == sorted(versions), collation
    assert "default" in checked
