"""PostgreSQL: JSON is jsonb, lists travel as one jsonb parameter, tables may sit in a schema."""

from __future__ import annotations

import json
import re
from typing import Any

from saver.core.filters import nest
from saver.dialects.base import Dialect, Stmt, load_migrations
from saver.errors import InvalidConfigError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _literal(identifier: str) -> str:
    return "'" + identifier + "'"  # an IDENTIFIER-checked name: no quote can be inside


def _many_rows(insert: str, count: int) -> str:
    """An INSERT ... VALUES (...) statement with its row of placeholders repeated."""
    head, rest = insert.split(" VALUES ", 1)
    row, tail = rest.split(") ", 1)
    return f"{head} VALUES {', '.join([row + ')'] * count)} {tail}"


class PostgresDialect(Dialect):
    name = "postgres"

    def __init__(self, schema: str | None = None) -> None:
        if schema is not None and not IDENTIFIER.fullmatch(schema):
            raise InvalidConfigError(
                f"schema must be a plain identifier (letters, digits, _), got {schema!r}"
            )
        self.schema = schema
        prefix = f'"{schema}".' if schema else ""
        self.MIGRATIONS = [
            (version, [sql.replace("{schema}", prefix) for sql in statements])
            for version, statements in load_migrations("postgres")
        ]
        self.PREPARE_SCHEMA = (f'CREATE SCHEMA IF NOT EXISTS "{schema}"',) if schema else ()
        # Held to the end of setup()'s transaction, so processes migrate one at a time.
        self.LOCK_MIGRATIONS = (
            f"SELECT pg_advisory_xact_lock(hashtext('langgraph-checkpoint-history:{schema or ''}'))"
        )
        self.SELECT_HAS_TABLES = (
            f"SELECT COUNT(*) FROM pg_tables WHERE schemaname = {_literal(schema or 'public')} "
            "AND tablename = 'history_migrations'"
            if schema
            else "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'history_migrations' "
            "AND schemaname = ANY(current_schemas(false))"
        )
        super().__init__()

    def put_statements(self, blob_rows: list[Any], row: Any) -> list[Stmt]:
        # One statement (a data-modifying CTE), so a put needs no transaction or pipeline.
        if not blob_rows:
            return [Stmt(self.UPSERT_CHECKPOINT, row, fetch=False, last=True)]
        blobs = _many_rows(self.INSERT_BLOB, len(blob_rows))
        params = [value for blob in blob_rows for value in blob]
        sql = f"WITH new_blobs AS ({blobs}) {self.UPSERT_CHECKPOINT}"
        return [Stmt(sql, (*params, *row), fetch=False, last=True)]

    def write_statements(self, replace: list[Any], keep_first: list[Any]) -> list[Stmt]:
        parts = [(self.UPSERT_WRITE, replace), (self.INSERT_WRITE, keep_first)]
        parts = [(_many_rows(sql, len(rows)), rows) for sql, rows in parts if rows]
        params = [value for _, rows in parts for row in rows for value in row]
        if len(parts) == 1:
            return [Stmt(parts[0][0], params, fetch=False, last=True)]
        return [
            Stmt(f"WITH special AS ({parts[0][0]}) {parts[1][0]}", params, fetch=False, last=True)
        ]

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.schema else name

    def json_param(self) -> str:
        return "?::jsonb"

    EMPTY_OBJECT = "'{}'::jsonb"
    # Collectors of one thread (prune, cleanup) take turns, in thread order, so two of them
    # never deadlock (SQLite gets the same from BEGIN IMMEDIATE). A put needs no lock: it
    # builds on a kept checkpoint, whose blobs no collector deletes.
    LOCK_THREAD = "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))"
    LOCK_THREADS = (
        "SELECT pg_advisory_xact_lock(hashtext(t), hashtext(%s)) FROM "
        "(SELECT jsonb_array_elements_text(%s::jsonb) AS t ORDER BY 1) AS threads"
    )

    def json_get(self, column: str, path: tuple[str, ...]) -> str:
        keys = ",".join(f'"{k}"' for k in path)
        return f"{column} #>> '{{{keys}}}'"

    def byte_length(self, expr: str) -> str:
        return f"octet_length({expr})"

    def is_object(self, expr: str) -> str:
        return f"(jsonb_typeof({expr}) = 'object')"

    def in_list(self, column: str) -> str:
        # An ARRAY lets the planner probe the primary key; IN (set-returning function)
        # would hash-join a scan of the whole table.
        return f"{column} = ANY(ARRAY({self.unpack(1)}))"

    def json_text(self, expr: str) -> str:
        return f"{expr}::text"

    def entries(self, expr: str) -> str:
        return f"jsonb_each_text({expr}) AS j"

    def unpack(self, width: int) -> str:
        if width == 1:
            return "SELECT jsonb_array_elements_text(?::jsonb)"
        columns = ", ".join(f"e->>{i}" for i in range(width))
        return f"SELECT {columns} FROM jsonb_array_elements(?::jsonb) AS e"

    def leaf(self, path: tuple[str, ...], value: Any) -> tuple[str, list[Any]]:
        # Containment (@>) is what the GIN index on metadata answers.
        if value is None:  # like InMemorySaver: a missing key matches None too
            return "COALESCE(jsonb_typeof(metadata #> %s::text[]), 'null') = 'null'", [list(path)]
        if isinstance(value, (bool, int, float)):  # Python equality: True == 1, 2 == 2.0
            same: list[Any] = [value]
            if isinstance(value, bool):
                same.append(int(value))
            elif value in (0, 1):
                same.append(bool(value))
            clause = " OR ".join(["metadata @> %s::jsonb"] * len(same))
            return f"({clause})", [json.dumps(nest(path, v)) for v in same]
        if isinstance(value, str):
            return "metadata @> %s::jsonb", [json.dumps(nest(path, value))]
        return "(metadata @> %s::jsonb AND metadata #> %s::text[] = %s::jsonb)", [
            json.dumps(nest(path, value)),
            list(path),
            json.dumps(value),
        ]
