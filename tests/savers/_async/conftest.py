from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import opener


@pytest.fixture(
    params=[
        "AsyncSqliteSaver",
        "AsyncPostgresSaver",
        "AsyncPostgresSaver+asyncpg",  # unasync: remove
    ]
)
def open_saver(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return opener(request.param, tmp_path, request)


@pytest.fixture(params=["AsyncSqliteSaver"])
def open_sqlite_saver(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """`open_saver` for what only SQLite has: file paths and sqlite:/// URLs."""
    return opener(request.param, tmp_path, request)


@pytest.fixture(
    params=[
        "AsyncPostgresSaver",
        "AsyncPostgresSaver+asyncpg",  # unasync: remove
    ]
)
def open_postgres_saver(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """`open_saver` for what only PostgreSQL has: server URLs, conninfo strings, jsonb."""
    return opener(request.param, tmp_path, request)


@pytest.fixture(params=["AsyncPostgresSaver"])
def open_postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """`open_postgres_saver` for what from_conn_string does with a URL (the asyncpg kind
    opens its own connection, as a user of asyncpg does)."""
    return opener(request.param, tmp_path, request)


@pytest.fixture(params=["AsyncSqliteSaver", "AsyncPostgresSaver"])
def open_lazy(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """`open_saver` of the classes' own from_conn_string: a saver not yet opened."""
    return opener(request.param, tmp_path, request)
