"""Dropping a test's PostgreSQL schema (as tests/support.py does; not imported from there,
so type-checking tests/faults does not take in the rest of the suite's helpers)."""

from __future__ import annotations

import psycopg


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
