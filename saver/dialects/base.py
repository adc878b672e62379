"""The dialect: statements.py rendered for one database. A subclass fills in the few places
where databases differ (placeholders, table names, how JSON is unpacked and compared, how a
join is kept to one index probe per row); the WHERE clauses of pages and filters are built
here too, so every piece of SQL text comes from this folder."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from saver.dialects import statements
from saver.dialects.statements import BLOB_COLUMNS, CHECKPOINT_COLUMNS, WRITE_COLUMNS

Leaf = tuple[tuple[str, ...], Any]  # a metadata filter's path and value (core/filters.py)


@dataclass(frozen=True)
class Stmt:
    """One statement: `many` runs it once per params row; `fetch=False` needs no rows back,
    so an executor may pipeline it."""

    sql: str
    params: Any = ()
    many: bool = False
    fetch: bool = True
    last: bool = False  # the plan's final statement: alone, it may run without a transaction
    # Planned for its parameters on every call, never from a cached generic plan: where the
    # best plan depends on the values (how many rows a filter matches).
    plan_each_call: bool = False
    # Run without JIT compilation (PostgreSQL): a page of many checkpoints is estimated at
    # 100 channels per checkpoint, which passes jit_above_cost while the work is small, and
    # compiling takes 30 ms where the query takes 3.
    jit_off: bool = False


def load_migrations(dialect: str) -> list[tuple[int, list[str]]]:
    """Numbered .sql files, split into statements on ';' at a line end."""
    folder = resources.files("saver.dialects").joinpath("migrations", dialect)
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        lines = [ln for ln in entry.read_text().splitlines() if not ln.strip().startswith("--")]
        statements = [s.strip() for s in "\n".join(lines).split(";\n") if s.strip()]
        out.append((int(entry.name.split("_", 1)[0]), [s.rstrip(";") for s in statements]))
    return out


@cache
def tidy(template: str) -> str:
    """A template on one line: runs of spaces and line breaks made one space, none just
    inside a parenthesis. Only the template's own text: a value put into it (a metadata key
    in a filter, say) goes in unchanged."""
    text = " ".join(template.split())
    # `{end:t}` brings its own leading space: on SQLite it is nothing at all.
    return text.replace("( ", "(").replace(" )", ")").replace(" {end", "{end")


class _Hook:
    """A field of a template that takes an argument: `{in_list:thread_id}`."""

    def __init__(self, apply: Callable[[str], str]) -> None:
        self.apply = apply

    def __format__(self, argument: str) -> str:
        return self.apply(argument)


class _Fields(dict[str, Any]):
    """What a template's fields name: the call's own, then fragments, then the dialect's."""

    def __init__(self, dialect: Dialect, own: Mapping[str, Any]) -> None:
        super().__init__(own)
        self.dialect = dialect

    def __missing__(self, name: str) -> Any:
        if name in statements.FRAGMENTS:
            return tidy(statements.FRAGMENTS[name]).format_map(self)
        return self.dialect.fields[name]


class Dialect:
    """statements.py rendered for one database, from a subclass's hooks. Parameters are
    written `?`; `sql()` turns them into the driver's style."""

    name: str
    ORDERED_JOIN = "JOIN"  # a join whose left side must stay the outer loop
    PIN, PIN_ON = "JOIN", "ON"  # {pin} table alias {on} ... {end:alias}: see pin_end
    BATCH_PAUSE = 0.0  # seconds a cleanup waits between batches, to let writers in
    EMPTY_OBJECT = "'{}'"
    THREAD_ORDER = "checkpoint_id DESC, checkpoint_ns DESC"  # a page of one thread
    NEWEST = "checkpoint_id"  # what orders checkpoints across threads (see PostgresDialect)
    MIGRATIONS: list[tuple[int, list[str]]]
    LOCK_THREAD: str | None = None  # held by a transaction that writes or collects a thread
    LOCK_THREADS: str | None = None  # the same for a batch of threads, in a fixed order
    PREPARE_SCHEMA: tuple[str, ...]
    METADATA_INDEXES: tuple[str, ...] = ()  # made by every setup(), after the migrations
    LOCK_MIGRATIONS: str | None
    SELECT_HAS_TABLES: str
    # The tables LangGraph's own savers write, where this saver's hold no checkpoint yet: a
    # user who only changed the import sees no history, and is told about `saver migrate`.
    SELECT_LANGGRAPH_TABLES: str

    # --- hooks ---------------------------------------------------------------------------

    def sql(self, text: str) -> str:
        return text

    def table(self, name: str) -> str:
        return name

    def json_param(self) -> str:
        return "?"

    def entries(self, expr: str) -> str:
        """A FROM item `j` with text columns j.key, j.value: the members of a JSON object."""
        raise NotImplementedError

    def unpack(self, width: int) -> str:
        """A subquery of `width` text columns, from one JSON parameter (a list of lists)."""
        raise NotImplementedError

    def in_list(self, column: str) -> str:
        """`column` is one of the values of a list parameter (see `array`)."""
        return f"{column} IN ({self.unpack(1)})"

    def is_object(self, expr: str) -> str:
        """True when a JSON column holds an object (never an error, whatever it holds)."""
        raise NotImplementedError

    def json_text(self, expr: str) -> str:
        """A JSON column as text, where a union mixes it with text columns."""
        return expr

    def json_get(self, column: str, path: tuple[str, ...]) -> str:
        """The value at `path` in a JSON column, as text (objects as JSON text), or NULL."""
        raise NotImplementedError

    def graph_metadata(self, column: str) -> str:
        """What the lineage logic reads of metadata: whether it is readable, the root
        checkpoint of a subgraph call, and DeltaChannel counters."""
        meta = self.readable_json(column)
        return (
            f"CASE WHEN {self.is_object(column)} THEN '1' ELSE '' END, "
            f"{self.json_get(meta, ('parents', ''))}, "
            f"{self.json_get(meta, ('counters_since_delta_snapshot',))}"
        )

    def byte_length(self, expr: str) -> str:
        return f"LENGTH({expr})"

    def readable_json(self, expr: str) -> str:
        """The column, or an empty object when it is not one: a corrupt row must reach the
        reader, which names it, not fail inside the database."""
        return f"CASE WHEN {self.is_object(expr)} THEN {expr} ELSE {self.EMPTY_OBJECT} END"

    def contains(self, column: str) -> str:
        """`column` holds a text parameter, in any case (no LIKE: no wildcard to escape)."""
        return f"instr(lower({column}), lower(?)) > 0"

    def pin_end(self, alias: str, one: bool) -> str:
        """What closes `{pin} table alias {on} condition`; `one`: the condition names one row
        (its whole primary key)."""
        return ""

    def leaf(
        self, path: tuple[str, ...], value: Any, column: str = "metadata"
    ) -> tuple[str, list[Any]]:
        """A condition that the JSON `column` holds `value` at `path`, as InMemorySaver's
        metadata filter compares."""
        raise NotImplementedError

    def array(self, values: Sequence[Any]) -> Any:
        """A list parameter, as `unpack(1)` reads it."""
        return json.dumps(list(values))

    def keys(self, rows: Sequence[tuple[Any, ...]]) -> Any:
        """A list of key tuples, as `unpack(width)` reads it."""
        return json.dumps(rows)  # tuples serialise as arrays

    # --- rendering -----------------------------------------------------------------------

    def render(self, template: str, **own: Any) -> str:
        """A template of statements.py as this dialect's SQL, on one line (the line breaks
        and indents of the template are for its reader; what fills it goes in as it is)."""
        return self.sql(self._fill(template, **own).strip())

    def _fill(self, template: str, **own: Any) -> str:
        return tidy(template).format_map(_Fields(self, own))

    def rows(self, width: int, count: int = 1) -> str:
        """`count` rows of `width` placeholders, for a VALUES list."""
        return ", ".join(["(" + ", ".join(["?"] * width) + ")"] * count)

    def __init__(self) -> None:
        self._pages: dict[tuple[str, ...], str] = {}
        self.checkpoints, self.blobs, self.writes, self.threads = (
            self.table(t)
            for t in ("history_checkpoints", "history_blobs", "history_writes", "history_threads")
        )
        self.fields: dict[str, Any] = {
            "checkpoints": self.checkpoints,
            "blobs": self.blobs,
            "writes": self.writes,
            "threads": self.threads,
            "migrations": self.table("history_migrations"),
            "quarantine": self.table("history_quarantine"),
            "json": self.json_param(),
            "empty_object": self.EMPTY_OBJECT,
            "ordered_join": self.ORDERED_JOIN,
            "pin": self.PIN,
            "on": self.PIN_ON,
            "end": _Hook(lambda alias: self.pin_end(alias, one=False)),
            "end_one": _Hook(lambda alias: self.pin_end(alias, one=True)),
            "in_list": _Hook(self.in_list),
            "unpack": _Hook(lambda width: self.unpack(int(width))),
            "is_object": _Hook(self.is_object),
            "readable": _Hook(self.readable_json),
            "json_text": _Hook(self.json_text),
            "entries": _Hook(self.entries),
            "entries_readable": _Hook(lambda expr: self.entries(self.readable_json(expr))),
            "byte_length": _Hook(self.byte_length),
            "counters": _Hook(
                lambda expr: self.json_get(
                    self.readable_json(expr), ("counters_since_delta_snapshot",)
                )
            ),
            "graph_metadata": _Hook(self.graph_metadata),
            "step": _Hook(lambda expr: self.json_get(self.readable_json(expr), ("step",))),
        }
        r = self.render
        one_row = {"rows": self.rows(len(BLOB_COLUMNS.split(", ")))}
        a_write = {"rows": self.rows(len(WRITE_COLUMNS.split(", ")))}
        self.CREATE_MIGRATIONS_TABLE = r(statements.CREATE_MIGRATIONS_TABLE)
        self.SELECT_SCHEMA_VERSION = r(statements.SELECT_SCHEMA_VERSION)
        self.INSERT_SCHEMA_VERSION = r(statements.INSERT_SCHEMA_VERSION)
        self.UPSERT_CHECKPOINT = r(statements.UPSERT_CHECKPOINT)
        self.UPSERT_THREAD = r(statements.UPSERT_THREAD, otherwise="?")
        self.SET_HEAD_STATUS = r(statements.SET_HEAD_STATUS)
        self.UPSERT_THREAD_RECORD = r(statements.UPSERT_THREAD_RECORD)
        self.SELECT_THREAD_RECORD = r(statements.SELECT_THREAD_RECORD)
        self.CLAIM_THREAD = r(statements.CLAIM_THREAD)
        self.SELECT_THREAD_RUN = r(statements.SELECT_THREAD_RUN)
        self.SELECT_HEAD_WRITES = r(statements.SELECT_HEAD_WRITES)
        self.RELEASE_THREAD = r(statements.RELEASE_THREAD)
        self.DELETE_UNUSED_THREAD = r(statements.DELETE_UNUSED_THREAD)
        self.SELECT_HELD_THREADS = r(statements.SELECT_HELD_THREADS)
        self.SET_STATUS_IF_IDLE = r(statements.SET_STATUS_IF_IDLE)
        self.SELECT_LATEST_ID = r(statements.SELECT_LATEST_ID)
        self.COUNT_THREAD = r(statements.COUNT_THREAD)
        self.SELECT_RUN_CHECKPOINTS = r(statements.SELECT_RUN_CHECKPOINTS)
        self.SELECT_THREAD_GRAPH = r(statements.SELECT_THREAD_GRAPH)
        self.SELECT_THREAD_BLOB_KEYS = r(statements.SELECT_THREAD_BLOB_KEYS)
        self.SELECT_TASK_PATHS = r(statements.SELECT_TASK_PATHS)
        self.SELECT_STEPS = r(statements.SELECT_STEPS)
        self.SELECT_WRITE_CHANNELS = r(statements.SELECT_WRITE_CHANNELS)
        self.SELECT_TRIGGER_BLOBS = r(statements.SELECT_TRIGGER_BLOBS)
        self.SELECT_LINEAGE = r(statements.SELECT_LINEAGE)
        self.DELETE_WRITES_BY = r(statements.DELETE_WRITES_BY)
        self.DELETE_CHECKPOINTS_BY = r(statements.DELETE_CHECKPOINTS_BY)
        self.DELETE_BLOBS_BY = r(statements.DELETE_BLOBS_BY)
        self.DELETE_CHECKPOINTS = r(statements.DELETE_CHECKPOINTS)
        self.DELETE_WRITES_OF = r(statements.DELETE_WRITES_OF)
        self.DELETE_BLOBS = r(statements.DELETE_BLOBS)
        self.SELECT_ANCESTORS = r(statements.SELECT_ANCESTORS)
        self.SELECT_BLOB_KEYS_AMONG = r(statements.SELECT_BLOB_KEYS_AMONG)
        self.SELECT_BLOBS = r(statements.SELECT_BLOBS)
        self.SELECT_CHANNEL_WRITES = r(statements.SELECT_CHANNEL_WRITES)
        self.SELECT_GRAPHS_OF = r(statements.SELECT_GRAPHS_OF)
        self.SELECT_BLOB_SIZES_OF = r(statements.SELECT_BLOB_SIZES_OF)
        self.SELECT_WRITE_STATS_OF = r(statements.SELECT_WRITE_STATS_OF)
        self.SELECT_KEEP_BOUNDS_OF = r(statements.SELECT_KEEP_BOUNDS_OF)
        self.COUNT_BELOW = r(statements.COUNT_BELOW)
        self.DELETE_WRITES_BELOW = r(statements.DELETE_WRITES_BELOW)
        self.DELETE_CHECKPOINTS_BELOW = r(statements.DELETE_CHECKPOINTS_BELOW)
        self.DELETE_UNNAMED_BLOBS_OF = r(statements.DELETE_UNNAMED_BLOBS_OF)
        self.SELECT_THREAD_IDS = r(statements.SELECT_THREAD_IDS)
        self.SELECT_ANY_THREAD_IDS = r(statements.SELECT_ANY_THREAD_IDS)
        self.SELECT_QUARANTINED_CHECKPOINTS = r(statements.SELECT_QUARANTINED_CHECKPOINTS)
        self.QUARANTINE_ROW = r(statements.QUARANTINE_ROW)
        self.DELETE_WRITE_BY = r(statements.DELETE_WRITE_BY)
        self.INSERT_BLOB = r(statements.INSERT_BLOB, **one_row)
        self.UPSERT_WRITE = r(statements.UPSERT_WRITE, **a_write)
        self.INSERT_WRITE = r(statements.INSERT_WRITE, **a_write)
        tables = (self.writes, self.blobs, self.checkpoints, self.threads)
        self.DELETE_THREAD = tuple(r(statements.DELETE_THREAD_FROM, table=t) for t in tables)
        self.DELETE_THREADS = tuple(r(statements.DELETE_THREADS_FROM, table=t) for t in tables)
        self.COPY_THREAD = tuple(
            r(statements.COPY_THREAD_IN, table=t, columns=columns.split(", ", 1)[1])
            for t, columns in (
                (self.checkpoints, CHECKPOINT_COLUMNS),
                (self.blobs, BLOB_COLUMNS),
                (self.writes, WRITE_COLUMNS),
            )
        )
        self.EXPORT_THREAD = (
            r(statements.EXPORT_CHECKPOINTS),
            r(statements.EXPORT_BLOBS),
            r(statements.EXPORT_WRITES),
        )
        self.REFRESH_THREADS_OF = (
            r(statements.REFRESH_THREADS_OF, otherwise="'idle'"),
            r(statements.DELETE_THREADS_WITHOUT_ROOT),
            r(statements.EMPTY_THREADS_WITHOUT_ROOT),
        )
        self.SELECT_THREAD_STATS = r(
            statements.THREAD_STATS, walk="", source="(SELECT ? AS thread_id) p"
        )
        self.SELECT_THREADS_STATS = r(statements.THREAD_STATS, source="page p")

    # --- statements built per call -------------------------------------------------------

    def select_threads(self, where: list[str], newest: str = "last_at", order: str = "DESC") -> str:
        """Threads (core/threads.py), newest by `newest` (last_at or first_at) first (`order`
        ASC: oldest first): a page of history_threads filtered by `where` (threads_where),
        with whether each head waits on an interrupt. Parameters: where's, then the page's
        size and offset."""
        assert newest in ("last_at", "first_at") and order in ("ASC", "DESC")
        return self.render(
            statements.SELECT_THREADS, where=" AND ".join(where), newest=newest, order=order
        )

    def count_threads(self, where: list[str]) -> str:
        """How many threads `where` (threads_where) finds; parameters: where's."""
        return self.render(statements.COUNT_THREADS, where=" AND ".join(where))

    def threads_where(
        self,
        namespace: str,
        prefix: str | None,
        before: float | None,
        after: float | None,
        leaves: list[Leaf],
        search: str | None = None,
        status: tuple[str, float] | None = None,
        user_id: str | None = None,
        record_leaves: Sequence[Leaf] = (),
    ) -> tuple[list[str], list[Any]]:
        """list_threads' conditions: an id prefix, last activity before or at/after a time,
        metadata filter leaves on the head's metadata, text `search` in the thread id or its
        name (any case), a status as seen at a time, the user it belongs to."""
        where: list[str] = ["namespace = ?"]
        params: list[Any] = [namespace]
        if prefix:
            where.append("SUBSTR(thread_id, 1, ?) = ?")
            params.extend([len(prefix), prefix])
        if before is not None:
            where.append("last_at < ?")
            params.append(before)
        if after is not None:
            where.append("last_at >= ?")
            params.append(after)
        if search:
            named = self.contains("COALESCE(name, '')")
            where.append(f"({self.contains('thread_id')} OR {named})")
            params.extend([search, search])
        if status is not None:
            wanted, now = status
            if wanted == "busy":  # core/status.py: busy is a run's lease
                where.append("run_until > ?")
                params.append(now)
            elif wanted == "error":  # or a lease that ran out unreleased: its run died
                where.append("(run_until IS NULL OR run_until <= ?)")
                where.append("(status = 'error' OR run_id IS NOT NULL)")
                params.append(now)
            else:
                where.append("status = ? AND run_id IS NULL")
                params.append(wanted)
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        for path, value in record_leaves:  # the metadata put_thread gave the thread
            clause, args = self.leaf(path, value, "info")
            where.append(clause)
            params.extend(args)
        return self._with_leaves(where, params, leaves)

    def _with_leaves(
        self, where: list[str], params: list[Any], leaves: list[Leaf]
    ) -> tuple[list[str], list[Any]]:
        for path, value in leaves:
            clause, args = self.leaf(path, value)
            where.append(clause)
            params.extend(args)
        return where, params

    def put_statements(self, blob_rows: list[Any], row: Any, status: str = "idle") -> list[Stmt]:
        """A put: the new blobs, then the checkpoint (and its thread's row), in one
        transaction."""
        out = [Stmt(self.INSERT_BLOB, blob_rows, many=True)] if blob_rows else []
        return [*out, *self.checkpoint_statements(row, status)]

    def checkpoint_statements(self, row: Any, status: str = "idle") -> list[Stmt]:
        """The checkpoint row, then for a root checkpoint its thread's row (`status`: the
        thread's, where this checkpoint is its head)."""
        if row.checkpoint_ns != "":  # a subgraph's checkpoint: the thread's row follows the root's
            return [Stmt(self.UPSERT_CHECKPOINT, row, fetch=False, last=True)]
        key = (row.thread_id, row.namespace, row.checkpoint_id)
        thread = (row.created_at, row.created_at, row.metadata, status, *key)
        return [
            Stmt(self.UPSERT_THREAD, thread, fetch=False),
            Stmt(self.UPSERT_CHECKPOINT, row, fetch=False, last=True),
        ]

    def refresh_threads(self, namespace: str, tids: Sequence[str]) -> list[Stmt]:
        """The threads' rows again from their checkpoints (REFRESH_THREADS_OF)."""
        return [
            Stmt(sql, (namespace, self.array(tids)), fetch=False) for sql in self.REFRESH_THREADS_OF
        ]

    def write_statements(self, replace: list[Any], keep_first: list[Any]) -> list[Stmt]:
        """put_writes: special writes replace, regular ones never do."""
        out = [Stmt(self.UPSERT_WRITE, replace, many=True)] if replace else []
        if keep_first:
            out.append(Stmt(self.INSERT_WRITE, keep_first, many=True))
        return out

    def select_page(self, where: list[str], one: bool = False) -> str:
        """A page of checkpoints with the blobs they use (each once) and their writes, in
        one statement, in the row shape rows.TupleReader reads. Its last parameter is the
        page's size, unless `one`: a page of one, written as such so that a generic plan
        is made for one row too."""
        key = (*where, str(one))
        if key not in self._pages:  # get_tuple asks for the same few shapes every time
            if len(self._pages) > 256:  # filters of many shapes: keep the cache small
                self._pages.clear()
            self._pages[key] = self.render(
                statements.SELECT_PAGE,
                where=" AND ".join(where),
                order=self.page_order(where),
                limit="1" if one else "?",
                ctes=self._fill(statements.ONE_CTES if one else statements.MANY_CTES),
                blob_rows=self._fill(
                    statements.ONE_BLOB_ROWS if one else statements.MANY_BLOB_ROWS
                ),
            )
        return self._pages[key]

    def page_order(self, where: list[str]) -> str:
        """Newest first, written so that each kind of page has one index to read it by: one
        thread's (and checkpoint_ns's) page the primary key, in its order; a filter across
        threads the metadata index where there is one (by the bare column, which no index
        orders across threads); all threads the NEWEST index."""
        if "thread_id = ?" in where and "checkpoint_ns = ?" in where:
            return "thread_id DESC, namespace DESC, checkpoint_ns DESC, checkpoint_id DESC"
        if "thread_id = ?" in where:
            return self.THREAD_ORDER
        if any("metadata" in clause for clause in where):  # Dialect.leaf: a filter
            return "checkpoint_id DESC, checkpoint_ns DESC, thread_id DESC"
        return f"{self.NEWEST} DESC, checkpoint_ns DESC, thread_id DESC"

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
        newest = self.NEWEST if thread_id is None and not leaves else "checkpoint_id"
        if before_id is not None:
            where.append(f"{newest} < ?")
            params.append(before_id)
        if after is not None:  # the bound lets an index ordered by checkpoint_id seek to it
            where.append(f"{newest} <= ? AND (checkpoint_id, checkpoint_ns, thread_id) < (?, ?, ?)")
            params.extend([after[0], *after])
        return self._with_leaves(where, params, leaves)
