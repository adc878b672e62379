"""How tests open each saver class on fresh, real storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import saver

SQLITE_CLASSES = ("SqliteSaver", "AsyncSqliteSaver")
ALL_CLASSES = SQLITE_CLASSES


def opener(class_name: str, tmp_path: Path) -> Callable[..., Any]:
    """`open_saver(**kwargs)` opens the class on the same storage each time it is called,
    as a process restart would; the result is a context manager (async for Async*)."""
    cls = getattr(saver, class_name)
    path = str(tmp_path / "history.sqlite")

    def open_saver(**kwargs: Any) -> Any:
        return cls.from_conn_string(path, **kwargs)

    open_saver.path = path  # type: ignore[attr-defined]
    open_saver.class_name = class_name  # type: ignore[attr-defined]
    return open_saver
