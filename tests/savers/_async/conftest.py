from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import opener


@pytest.fixture(params=["AsyncSqliteSaver", "AsyncPostgresSaver"])
def open_saver(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return opener(request.param, tmp_path, request)
