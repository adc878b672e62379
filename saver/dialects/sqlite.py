"""SQLite: JSON travels as text and is read with json_each / json_extract."""

from __future__ import annotations

import json
from typing import Any

from saver.dialects.base import Dialect, load_migrations


def _path(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


class SqliteDialect(Dialect):
    name = "sqlite"
    PIN_JOIN = "CROSS JOIN"  # SQLite never reorders a CROSS JOIN: one index probe per row
    # A writer polls for the write lock every millisecond or two (executor); this gap
    # between two cleanup transactions is when it gets in.
    BATCH_PAUSE = 0.003
    MIGRATIONS = load_migrations("sqlite")
    PREPARE_SCHEMA = ()
    # SQLite drops the constant thread_id from the order and would then walk the namespace's
    # (namespace, checkpoint_id) index past every other thread's rows to skip a sort; `+`
    # (a no-op on the value) makes the order no index's, so it reads the thread by its key.
    THREAD_ORDER = "+checkpoint_id DESC, checkpoint_ns DESC"
    LOCK_MIGRATIONS = None  # BEGIN IMMEDIATE already serialises setup() across processes

    SELECT_HAS_TABLES = (
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'history_migrations'"
    )

    def entries(self, expr: str) -> str:
        return f"json_each({expr}) AS j"

    def unpack(self, width: int) -> str:
        if width == 1:
            return "SELECT value FROM json_each(?)"
        columns = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(width))
        return f"SELECT {columns} FROM json_each(?)"

    def json_get(self, column: str, path: tuple[str, ...]) -> str:
        return f"json_extract({column}, '{_path(path)}')"

    def is_object(self, expr: str) -> str:
        return f"(CASE WHEN json_valid({expr}) THEN json_type({expr}) = 'object' ELSE 0 END)"

    def leaf(self, path: tuple[str, ...], value: Any) -> tuple[str, list[Any]]:
        p = _path(path)
        if value is None:  # like InMemorySaver: a missing key matches None too
            return "COALESCE(json_type(metadata, ?), 'null') = 'null'", [p]
        if isinstance(value, (bool, int, float)):  # Python equality: True == 1, 2 == 2.0
            return (
                "(json_type(metadata, ?) IN ('integer', 'real', 'true', 'false') "
                "AND json_extract(metadata, ?) = ?)",
                [p, p, int(value) if isinstance(value, bool) else value],
            )
        if isinstance(value, str):
            return "(json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?)", [
                p,
                p,
                value,
            ]
        return "json_extract(metadata, ?) = json(?)", [p, json.dumps(value)]


SQLITE = SqliteDialect()
