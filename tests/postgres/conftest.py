"""Shared fixtures for the PostgreSQL tests: the server's URL and a fresh schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.pg import server_url
from tests.support import drop_schema


@pytest.fixture
def pg_url() -> str:
    return server_url()


@pytest.fixture
def schema(pg_url: str) -> Iterator[str]:
    """A schema name no other test uses; dropped (with everything in it) after the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    drop_schema(pg_url, name)
