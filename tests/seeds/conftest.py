"""Where the seeds' code runs: a folder of its own ("checkpoints.db" lands there), and a
PostgreSQL database of its own (the seeds name no schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.seeds import snippets


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # "checkpoints.db" lands here
    return tmp_path


@pytest.fixture
def database() -> Iterator[str]:
    with snippets.fresh_database() as url:
        yield url
