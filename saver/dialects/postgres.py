"""PostgreSQL: JSON is jsonb, lists travel as one jsonb parameter, tables may sit in a schema."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from saver.dialects import statements
from saver.dialects.base import Dialect, Stmt, load_migrations
from saver.errors import InvalidConfigError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _literal(identifier: str) -> str:
    return "'" + identifier + "'"  # an IDENTIFIER-checked name: no quote can be inside


# What LangGraph's PostgresSaver writes (in the connection's search path, where it puts them).
LANGGRAPH_TABLES = "('checkpoints', 'checkpoint_blobs', 'checkpoint_writes')"
DISCARD_PLANS = "DISCARD PLANS"  # the statements stay prepared; their plans go
# Sent before a statement in the same pipeline, so in the same transaction (until the Sync),
# and gone with it: unlike SET LOCAL it needs no BEGIN, and so no extra round trip.
JIT_OFF = "SELECT set_config('jit', 'off', true)"
REPEATABLE_READ = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"  # a SNAPSHOT plan
# The cleanup job's transactions (RELAXED): transaction-scoped, so nothing leaks to the
# session; its list parameters inflate the planner's estimates past jit_above_cost.
NO_COMMIT_WAIT = "SET LOCAL synchronous_commit TO OFF"
JIT_OFF_IN_TRANSACTION = "SET LOCAL jit TO OFF"
REPLAN_EVERY = 128  # operations on a connection between two DISCARD PLANS, once it is old


def replan_due(uses: int) -> bool:
    """PostgreSQL keeps a prepared statement's generic plan, made once, however much the tables
    grow after it (until ANALYZE): made on a new database, it reads them whole. So plans are
    dropped (the statements stay prepared) at a connection's 1st, 2nd, 4th, ... operation,
    then every REPLAN_EVERY: a plan outlives its tables' growth by 128 operations at most."""
    return uses & (uses - 1) == 0 if uses <= REPLAN_EVERY else uses % REPLAN_EVERY == 0


def nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """The smallest document holding `value` at `path` (for JSON containment)."""
    doc: Any = value
    for key in reversed(path):
        doc = {key: doc}
    return doc


MAX_PARAMS = 65535  # PostgreSQL's limit of parameters in one statement


def replace_last(stmt: Stmt) -> Stmt:
    return dataclasses.replace(stmt, last=True)


class PostgresDialect(Dialect):
    name = "postgres"

    def __init__(self, schema: str | None = None, max_params: int = MAX_PARAMS) -> None:
        self.max_params = max_params  # what one statement may bind (asyncpg allows fewer)
        if schema is not None and not IDENTIFIER.fullmatch(schema):
            raise InvalidConfigError(
                f"schema must be a plain identifier (letters, digits, _), got {schema!r}"
            )
        self.schema = schema
        prefix = f'"{schema}".' if schema else ""
        self.MIGRATIONS = [
            (version, [text.replace("{schema}", prefix) for text in texts])
            for version, texts in load_migrations("postgres")
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
        self.SELECT_LANGGRAPH_TABLES = (
            "SELECT tablename FROM pg_tables WHERE schemaname = ANY(current_schemas(false)) "
            f"AND tablename IN {LANGGRAPH_TABLES} "
            f"AND NOT EXISTS (SELECT 1 FROM {self.checkpoints}) ORDER BY tablename"
        )

    def put_statements(self, blob_rows: list[Any], row: Any, status: str = "idle") -> list[Stmt]:
        # The shared thread lock keeps a collector (exclusive) from deleting this thread, or
        # a blob this checkpoint reuses, between its reads and its deletes. Pipelined with
        # the multi-row inserts: one round trip, one implicit transaction.
        out = [Stmt(self.LOCK_THREAD_SHARED, (row.thread_id, row.namespace), fetch=False)]
        out += self._chunked(statements.INSERT_BLOB, blob_rows)
        return [*out, *self.checkpoint_statements(row, status)]

    def write_statements(self, replace: list[Any], keep_first: list[Any]) -> list[Stmt]:
        out = self._chunked(statements.UPSERT_WRITE, replace) + self._chunked(
            statements.INSERT_WRITE, keep_first
        )
        return [*out[:-1], replace_last(out[-1])] if out else []

    def _chunked(self, insert: str, rows: list[Any]) -> list[Stmt]:
        """Multi-row INSERTs (`insert` a template with `{rows}`), each within the parameter
        limit."""
        if not rows:
            return []
        width = len(rows[0])
        size = self.max_params // width
        return [
            Stmt(
                self.render(insert, rows=self.rows(width, len(chunk))),
                [value for row in chunk for value in row],
                fetch=False,
            )
            for chunk in (rows[i : i + size] for i in range(0, len(rows), size))
        ]

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.schema else name

    def json_param(self) -> str:
        return "?::jsonb"

    EMPTY_OBJECT = "'{}'::jsonb"
    # All threads newest first: by the expression history_checkpoints_newest indexes. One
    # thread's pages, and filters, order by the bare column, which that index cannot serve.
    NEWEST = "(checkpoint_id || '')"
    # Collectors of a thread (prune, cleanup) hold its lock exclusively, taken in thread
    # order so two never deadlock; puts hold it shared (SQLite gets both from BEGIN
    # IMMEDIATE).
    LOCK_THREAD = "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))"
    LOCK_THREAD_SHARED = "SELECT pg_advisory_xact_lock_shared(hashtext(%s), hashtext(%s))"
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

    # {pin} table alias {on} ... {end:alias}. PostgreSQL guesses 100 rows per list parameter
    # and would hash-join a scan of the whole table; LATERAL with OFFSET 0 (which it does not
    # flatten) probes the index. LIMIT 1 on a key probe, because with statistics of a smaller
    # table it guesses dozens of rows per key, and those guesses multiply through the chains.
    PIN, PIN_ON = "CROSS JOIN LATERAL (SELECT * FROM", "WHERE"

    def contains(self, column: str) -> str:
        return f"strpos(lower({column}), lower(?)) > 0"

    def pin_end(self, alias: str, one: bool) -> str:
        return f" {'LIMIT 1' if one else 'OFFSET 0'}) AS {alias}"

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

    def leaf(
        self, path: tuple[str, ...], value: Any, column: str = "metadata"
    ) -> tuple[str, list[Any]]:
        # Containment (@>) is what the GIN index on metadata answers.
        if value is None and len(path) == 1:  # like InMemorySaver: a missing key matches too
            return f"COALESCE(jsonb_typeof({column} #> %s::text[]), 'null') = 'null'", [list(path)]
        if value is None:  # nested, as containment: the key is there, and null
            return f"jsonb_typeof({column} #> %s::text[]) = 'null'", [list(path)]
        if isinstance(value, (bool, int, float)):  # Python equality: True == 1, 2 == 2.0
            same: list[Any] = [value]
            if isinstance(value, bool):
                same.append(int(value))
            elif value in (0, 1):
                same.append(bool(value))
            clause = " OR ".join([f"{column} @> %s::jsonb"] * len(same))
            return f"({clause})", [json.dumps(nest(path, v)) for v in same]
        if isinstance(value, str):
            return f"{column} @> %s::jsonb", [json.dumps(nest(path, value))]
        return f"({column} @> %s::jsonb AND {column} #> %s::text[] = %s::jsonb)", [
            json.dumps(nest(path, value)),
            list(path),
            json.dumps(value),
        ]
