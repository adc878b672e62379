"""SQLite: JSON travels as text and is read with json_each / json_extract."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from saver.dialects.base import Dialect, load_migrations

LANGGRAPH_TABLES = "('checkpoints', 'writes')"  # what LangGraph's SqliteSaver writes

# The executor's own statements (io/_async/sqlite.py): transactions and connection settings.
# WAL lets readers run beside a writer; the busy timeout makes writers queue, not fail;
# synchronous=FULL so a committed checkpoint survives a power cut, not only a crash.
# SQLite's own busy wait backs off to 100 ms naps and misses short gaps between another
# connection's transactions; so it waits briefly, and the executor polls for the rest.
PRAGMAS = ("PRAGMA busy_timeout = 20", "PRAGMA synchronous = FULL")
READ_SECURE_DELETE = "PRAGMA secure_delete"
JOURNAL_WAL = "PRAGMA journal_mode = WAL"
BEGIN = {
    "snapshot": "BEGIN",
    "write": "BEGIN IMMEDIATE",
    "batch": "BEGIN IMMEDIATE",
    "relaxed": "BEGIN IMMEDIATE",
}
COMMIT, ROLLBACK = "COMMIT", "ROLLBACK"
# The cleanup job's transactions (RELAXED): WAL stays consistent, only the fsync at commit
# is skipped; a build with secure_delete on (Debian's) zero-fills every page a cleanup frees
# and writes it twice, FAST skips the freed ones. Both are set back after.
SYNCHRONOUS_NORMAL, SYNCHRONOUS_FULL = "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = FULL"
SECURE_DELETE_FAST, SECURE_DELETE_RESTORED = (
    "PRAGMA secure_delete = FAST",
    "PRAGMA secure_delete = ON",
)


def _path(keys: tuple[str, ...]) -> str:
    # SQLite matches a label against the key as the JSON text spells it (a backslash
    # doubled), as stored with ensure_ascii off (codec.dump_json).
    return "$" + "".join("." + json.dumps(k, ensure_ascii=False) for k in keys)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class SqliteDialect(Dialect):
    """`indexed_metadata`: top-level metadata keys that get an index of their own (SQLite has
    none over JSON values), so a filter on one reads its matches newest first and stops at
    the limit instead of walking every checkpoint of the namespace."""

    name = "sqlite"
    # SQLite never reorders a CROSS JOIN: one index probe per row of its left side.
    ORDERED_JOIN = PIN = "CROSS JOIN"
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

    def __init__(self, indexed_metadata: Iterable[str] = ()) -> None:
        super().__init__()
        self.SELECT_LANGGRAPH_TABLES = (
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            f"AND name IN {LANGGRAPH_TABLES} "
            f"AND NOT EXISTS (SELECT 1 FROM {self.checkpoints}) ORDER BY name"
        )
        self.indexed = frozenset(indexed_metadata)
        # An expression index serves a query only where the same expression is written:
        # the key's path is a literal here and in `leaf`, never a parameter.
        self.METADATA_INDEXES = tuple(
            f"CREATE INDEX IF NOT EXISTS history_metadata_"
            f"{hashlib.sha1(key.encode()).hexdigest()[:16]} "
            f"ON {self.checkpoints} (namespace, {self._indexed(key)}, checkpoint_id)"
            for key in sorted(self.indexed)
        )

    def _indexed(self, key: str) -> str:
        return f"json_extract(metadata, {_literal(_path((key,)))})"

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

    def leaf(
        self, path: tuple[str, ...], value: Any, column: str = "metadata"
    ) -> tuple[str, list[Any]]:
        p = _path(path)
        scalar = isinstance(value, (str, bool, int, float))
        if isinstance(value, (bool, int)):
            value = int(value)
            if not -(2**63) <= value < 2**63:
                value = float(value)  # SQLite reads such a JSON integer as a real too
        if column == "metadata" and len(path) == 1 and path[0] in self.indexed and scalar:
            kinds = "('text')" if isinstance(value, str) else "('integer', 'real', 'true', 'false')"
            return f"({self._indexed(path[0])} = ? AND json_type(metadata, ?) IN {kinds})", [
                value,
                p,
            ]
        if value is None and len(path) == 1:  # like InMemorySaver: a missing key matches too
            return f"COALESCE(json_type({column}, ?), 'null') = 'null'", [p]
        if value is None:  # nested, as containment: the key is there, and null
            return f"json_type({column}, ?) = 'null'", [p]
        if isinstance(value, (bool, int, float)):  # Python equality: True == 1, 2 == 2.0
            return (
                f"(json_type({column}, ?) IN ('integer', 'real', 'true', 'false') "
                f"AND json_extract({column}, ?) = ?)",
                [p, p, value],
            )
        if isinstance(value, str):
            return f"(json_type({column}, ?) = 'text' AND json_extract({column}, ?) = ?)", [
                p,
                p,
                value,
            ]
        # Spelled as metadata is stored (codec.dump_json), so the two JSON texts compare equal.
        spelled = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return f"json_extract({column}, ?) = json(?)", [p, spelled]


SQLITE = SqliteDialect()
