"""Fixtures of the fault campaign: a fork server for killable writers, and a throwaway
PostgreSQL that a test may restart (tests/restartable.py, one per test process)."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.forker import Forker
from tests.faults.schemas import drop_schema
from tests.restartable import Server, restartable_postgres


@pytest.fixture(scope="session")
def forker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forker]:
    server = Forker(tmp_path_factory.mktemp("forker") / "stderr")
    yield server
    server.close()


@pytest.fixture
def fault_seed() -> int:
    """The seed of a test's random kill moments; SAVER_FAULT_SEED=N replays a run (the
    seed is in every failure message that depends on it)."""
    return int(os.environ.get("SAVER_FAULT_SEED") or random.randrange(2**32))


# --- a server of our own, to restart ------------------------------------------------------


@pytest.fixture(scope="session")
def restartable_server() -> Iterator[Server]:
    with restartable_postgres("saver-faults-") as server:
        yield server


@pytest.fixture
def restart_schema(restartable_server: Server) -> Iterator[str]:
    schema = f"fr_{uuid.uuid4().hex[:12]}"
    yield schema
    restartable_server.join()  # a restart a failed test started ends before the drop
    drop_schema(restartable_server.url, schema)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"
