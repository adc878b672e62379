"""SQLite's text for every statement. Lists travel as one JSON parameter read by json_each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from saver.core.filters import Leaf
from saver.dialects.base import Dialect, load_migrations

_COLUMNS = (
    "thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, "
    "checkpoint, blob_versions, metadata, run_id, created_at"
)
_BLOB_COLUMNS = "thread_id, namespace, checkpoint_ns, channel, version, format, type, data"
_WRITE_COLUMNS = (
    "thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, "
    "type, data"
)
_PAIRS = "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)"
_TRIPLES = (
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]') FROM json_each(?)"
)
_LIST = "SELECT value FROM json_each(?)"


def _path(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


class SqliteDialect(Dialect):
    name = "sqlite"
    MIGRATIONS = load_migrations("sqlite")
    CREATE_MIGRATIONS_TABLE = (
        "CREATE TABLE IF NOT EXISTS history_migrations "
        "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    LOCK_MIGRATIONS = None  # BEGIN IMMEDIATE already serialises setup() across processes
    SELECT_SCHEMA_VERSION = "SELECT MAX(version) FROM history_migrations"
    INSERT_SCHEMA_VERSION = "INSERT INTO history_migrations (version, applied_at) VALUES (?, ?)"

    UPSERT_CHECKPOINT = (
        f"INSERT INTO history_checkpoints ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id) DO UPDATE SET "
        "parent_checkpoint_id = excluded.parent_checkpoint_id, type = excluded.type, "
        "checkpoint = excluded.checkpoint, blob_versions = excluded.blob_versions, "
        "metadata = excluded.metadata, run_id = excluded.run_id"
    )
    INSERT_BLOB = (
        f"INSERT INTO history_blobs ({_BLOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING"
    )
    UPSERT_WRITE = (
        f"INSERT INTO history_writes ({_WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx) "
        "DO UPDATE SET task_path = excluded.task_path, channel = excluded.channel, "
        "type = excluded.type, data = excluded.data"
    )
    INSERT_WRITE = (
        f"INSERT INTO history_writes ({_WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING"
    )
    SELECT_LATEST_ID = (
        "SELECT MAX(checkpoint_id) FROM history_checkpoints "
        "WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?"
    )
    DELETE_THREAD = tuple(
        f"DELETE FROM {table} WHERE thread_id = ? AND namespace = ?"
        for table in ("history_writes", "history_blobs", "history_checkpoints")
    )
    COUNT_THREAD = "SELECT COUNT(*) FROM history_checkpoints WHERE thread_id = ? AND namespace = ?"
    COPY_THREAD = tuple(
        f"INSERT INTO {table} ({cols}) SELECT ?, {cols.split(', ', 1)[1]} FROM {table} "
        "WHERE thread_id = ? AND namespace = ?"
        for table, cols in (
            ("history_checkpoints", _COLUMNS),
            ("history_blobs", _BLOB_COLUMNS),
            ("history_writes", _WRITE_COLUMNS),
        )
    )
    SELECT_RUN_CHECKPOINTS = (
        "SELECT thread_id, checkpoint_ns, checkpoint_id FROM history_checkpoints "
        f"WHERE namespace = ? AND run_id IN ({_LIST})"
    )
    SELECT_THREAD_GRAPH = (
        "SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, blob_versions, metadata "
        "FROM history_checkpoints WHERE thread_id = ? AND namespace = ?"
    )
    SELECT_THREAD_BLOB_KEYS = (
        "SELECT checkpoint_ns, channel, version FROM history_blobs "
        "WHERE thread_id = ? AND namespace = ?"
    )
    DELETE_CHECKPOINTS = (
        "DELETE FROM history_checkpoints WHERE thread_id = ? AND namespace = ? "
        f"AND (checkpoint_ns, checkpoint_id) IN ({_PAIRS})"
    )
    DELETE_WRITES_OF = (
        "DELETE FROM history_writes WHERE thread_id = ? AND namespace = ? "
        f"AND (checkpoint_ns, checkpoint_id) IN ({_PAIRS})"
    )
    DELETE_BLOBS = (
        "DELETE FROM history_blobs WHERE thread_id = ? AND namespace = ? "
        f"AND (checkpoint_ns, channel, version) IN ({_TRIPLES})"
    )
    # CROSS JOIN keeps the chain as the outer loop: one primary-key probe per step.
    SELECT_ANCESTORS = (
        "WITH RECURSIVE chain(checkpoint_id, parent_checkpoint_id, blob_versions, depth) AS ("
        "SELECT checkpoint_id, parent_checkpoint_id, blob_versions, 0 FROM history_checkpoints "
        "WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND checkpoint_id = ? "
        "UNION ALL "
        "SELECT c.checkpoint_id, c.parent_checkpoint_id, c.blob_versions, chain.depth + 1 "
        "FROM chain CROSS JOIN history_checkpoints c "
        "ON c.thread_id = ? AND c.namespace = ? AND c.checkpoint_ns = ? "
        "AND c.checkpoint_id = chain.parent_checkpoint_id WHERE chain.depth < 1000000"
        ") SELECT checkpoint_id, parent_checkpoint_id, blob_versions FROM chain"
    )
    SELECT_BLOB_KEYS_AMONG = (
        "SELECT channel, version FROM history_blobs "
        "WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? "
        f"AND (channel, version) IN ({_PAIRS})"
    )
    SELECT_BLOBS = (
        "SELECT channel, version, format, type, data FROM history_blobs "
        "WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? "
        f"AND (channel, version) IN ({_PAIRS})"
    )
    SELECT_CHANNEL_WRITES = (
        "SELECT checkpoint_id, task_id, idx, task_path, channel, type, data FROM history_writes "
        "WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? "
        f"AND checkpoint_id IN ({_LIST}) AND channel IN ({_LIST})"
    )

    def array(self, values: list[Any]) -> Any:
        return json.dumps(values)

    def keys(self, rows: Sequence[tuple[str, ...]]) -> Any:
        return json.dumps(rows)

    def select_page(self, where: list[str]) -> str:
        # One statement returns the page's checkpoints, the blobs they use (each once) and
        # their writes, in the shape rows.TupleReader reads.
        return (
            "WITH page AS MATERIALIZED ("
            "SELECT thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
            "type, checkpoint, metadata, blob_versions, created_at FROM history_checkpoints "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY checkpoint_id DESC, checkpoint_ns DESC, thread_id DESC LIMIT ?), "
            "wanted AS (SELECT DISTINCT p.thread_id, p.namespace, p.checkpoint_ns, "
            "j.key AS channel, j.value AS version FROM page p, json_each(CASE WHEN "
            "json_valid(p.blob_versions) THEN p.blob_versions ELSE '{}' END) j) "
            "SELECT 'c', thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
            "json_valid(blob_versions), "
            "created_at, type, checkpoint, metadata, blob_versions FROM page "
            "UNION ALL "
            "SELECT 'b', b.thread_id, b.checkpoint_ns, b.channel, b.version, NULL, b.format, "
            "b.type, b.data, NULL, NULL FROM wanted k CROSS JOIN history_blobs b "
            "ON b.thread_id = k.thread_id AND b.namespace = k.namespace "
            "AND b.checkpoint_ns = k.checkpoint_ns AND b.channel = k.channel "
            "AND b.version = k.version "
            "UNION ALL "
            "SELECT 'w', w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, "
            "w.idx, w.type, w.data, w.channel, NULL FROM page p CROSS JOIN history_writes w "
            "ON w.thread_id = p.thread_id AND w.namespace = p.namespace "
            "AND w.checkpoint_ns = p.checkpoint_ns AND w.checkpoint_id = p.checkpoint_id"
        )

    def list_where(
        self,
        namespace: str,
        thread_id: str | None,
        checkpoint_ns: str | None,
        checkpoint_id: str | None,
        before_id: str | None,
        leaves: list[Leaf],
        after: tuple[str, str, str] | None,
    ) -> tuple[list[str], list[Any]]:
        where, params = ["namespace = ?"], [namespace]
        for column, value in (
            ("thread_id", thread_id),
            ("checkpoint_ns", checkpoint_ns),
            ("checkpoint_id", checkpoint_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if before_id is not None:
            where.append("checkpoint_id < ?")
            params.append(before_id)
        if after is not None:
            where.append("(checkpoint_id, checkpoint_ns, thread_id) < (?, ?, ?)")
            params.extend(after)
        for path, value in leaves:
            clause, args = self._leaf(_path(path), value)
            where.append(clause)
            params.extend(args)
        return where, params

    @staticmethod
    def _leaf(path: str, value: Any) -> tuple[str, list[Any]]:
        if value is None:  # like InMemorySaver: a missing key matches None too
            return "COALESCE(json_type(metadata, ?), 'null') = 'null'", [path]
        if isinstance(value, (bool, int, float)):  # Python equality: True == 1, 2 == 2.0
            return (
                "(json_type(metadata, ?) IN ('integer', 'real', 'true', 'false') "
                "AND json_extract(metadata, ?) = ?)",
                [path, path, int(value) if isinstance(value, bool) else value],
            )
        if isinstance(value, str):
            return (
                "(json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?)",
                [path, path, value],
            )
        return "json_extract(metadata, ?) = json(?)", [path, json.dumps(value)]


SQLITE = SqliteDialect()
