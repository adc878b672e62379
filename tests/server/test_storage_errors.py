"""When the database is away: 503 with Retry-After and a message that names no URL, and
/healthz says so; the server answers again once the database is back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tests.pg import server_url
from tests.server.serving import Server, graph_options, serving


def database_url(name: str) -> str:
    found = conninfo_to_dict(server_url())
    user = f"{found['user']}@" if found.get("user") else ""
    return f"postgresql://{user}{found.get('host', '127.0.0.1')}:{found.get('port', 5432)}/{name}"


@pytest.fixture
def own_database() -> Iterator[str]:
    name = f"serve_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(server_url(), autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def shut_out(name: str, allow: bool) -> None:
    """Refuse (or allow again) new connections to the database, and end the open ones."""
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("true" if allow else "false")
            )
        )
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def test_a_database_that_is_away_is_a_503_with_retry_after(
    own_database: str, tmp_path: Path
) -> None:
    url = database_url(own_database)
    with serving(url, *graph_options(["echo"]), log_dir=tmp_path) as server:
        tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
        shut_out(own_database, allow=False)
        away = httpx.get(f"{server.url}/threads/{tid}", timeout=30)  # the pool waits 5 s
        health = httpx.get(f"{server.url}/healthz", timeout=30)
        shut_out(own_database, allow=True)
        back = _until_answered(server, f"/threads/{tid}")
    assert away.status_code == 503 and away.headers["retry-after"] == "1"
    assert own_database not in away.text and "postgresql://" not in away.text
    assert health.status_code == 503
    assert back.status_code == 200 and back.json()["thread_id"] == tid


def _until_answered(server: Server, path: str) -> httpx.Response:
    """The pool reconnects in its own time: ask until it has (a few tries at most)."""
    for _ in range(50):
        found = httpx.get(f"{server.url}{path}", timeout=30)
        if found.status_code != 503:
            return found
    return found
