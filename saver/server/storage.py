"""The saver a `saver serve` process opens from its URL: SQLite or PostgreSQL, async, with
its tables made if they are missing."""

from __future__ import annotations

from typing import Any

from saver.errors import InvalidConfigError
from saver.io import AsyncSqliteSaver
from saver.io.errors import redact
from saver.io.urls import scheme_of

POOL_SIZE = 8  # PostgreSQL connections per server process: requests and runs read in parallel
POOL_TIMEOUT = 5.0  # seconds a request waits for a connection before it is answered 503


async def open_saver(url: str, namespace: str = "") -> Any:
    scheme = scheme_of(url)
    saver: Any
    if scheme == "sqlite":
        saver = AsyncSqliteSaver.from_conn_string(url, namespace=namespace)
    elif scheme in ("postgresql", "postgres"):
        from saver.io import AsyncPostgresSaver  # here: a SQLite-only install has no psycopg

        saver = AsyncPostgresSaver.from_conn_string(
            url, namespace=namespace, pool_size=POOL_SIZE, pool_timeout=POOL_TIMEOUT
        )
    else:
        raise InvalidConfigError(
            f"cannot serve {redact(url)!r}: expected sqlite:///path.db or postgresql://..."
        )
    await saver.setup()
    return saver
