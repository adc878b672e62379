"""Every statement, written once. A dialect fills in the few places where databases differ:
placeholders, table names, and how JSON is unpacked and compared."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

Leaf = tuple[tuple[str, ...], Any]  # a metadata filter's path and value (core/filters.py)

CHECKPOINT_COLUMNS = (
    "thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, "
    "checkpoint, blob_versions, metadata, run_id, created_at"
)
BLOB_COLUMNS = "thread_id, namespace, checkpoint_ns, channel, version, format, type, data, base"
THREAD_COLUMNS = "thread_id, namespace, head_id, checkpoints, first_at, last_at, metadata"
WRITE_COLUMNS = (
    "thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, "
    "type, data"
)


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


class Dialect:
    """The statements, built from a subclass's hooks. Parameters are written `?`; `sql()`
    turns them into the driver's style."""

    name: str
    PIN_JOIN = "JOIN"  # a join whose left side must stay the outer loop
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

    def graph_metadata(self, column: str = "metadata") -> str:
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

    def leaf(self, path: tuple[str, ...], value: Any) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def array(self, values: Sequence[Any]) -> Any:
        """A list parameter, as `unpack(1)` reads it."""
        return json.dumps(list(values))

    def keys(self, rows: Sequence[tuple[Any, ...]]) -> Any:
        """A list of key tuples, as `unpack(width)` reads it."""
        return json.dumps(rows)  # tuples serialise as arrays

    # --- statements ----------------------------------------------------------------------

    def __init__(self) -> None:
        self._pages: dict[tuple[str, ...], str] = {}
        c, b, w = (
            self.table(t) for t in ("history_checkpoints", "history_blobs", "history_writes")
        )
        m, s = self.table("history_migrations"), self.sql
        scope = "WHERE thread_id = ? AND namespace = ?"
        in_ns = f"{scope} AND checkpoint_ns = ?"
        self.checkpoints, self.blobs, self.writes = c, b, w
        t = self.threads = self.table("history_threads")
        self.CREATE_MIGRATIONS_TABLE = (
            f"CREATE TABLE IF NOT EXISTS {m} (version INTEGER PRIMARY KEY, applied_at "
            "DOUBLE PRECISION NOT NULL)"
        )
        self.SELECT_SCHEMA_VERSION = f"SELECT MAX(version) FROM {m}"
        self.INSERT_SCHEMA_VERSION = s(f"INSERT INTO {m} (version, applied_at) VALUES (?, ?)")
        j = self.json_param()
        self.UPSERT_CHECKPOINT = s(
            f"INSERT INTO {c} ({CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, {j}, {j}, ?, ?) "
            "ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id) DO UPDATE SET "
            "parent_checkpoint_id = excluded.parent_checkpoint_id, type = excluded.type, "
            "checkpoint = excluded.checkpoint, blob_versions = excluded.blob_versions, "
            "metadata = excluded.metadata, run_id = excluded.run_id"
        )
        self.INSERT_BLOB = s(
            f"INSERT INTO {b} ({BLOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING"
        )
        insert_write = f"INSERT INTO {w} ({WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        self.UPSERT_WRITE = s(
            insert_write + "ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id, "
            "task_id, idx) DO UPDATE SET task_path = excluded.task_path, "
            "channel = excluded.channel, type = excluded.type, data = excluded.data"
        )
        self.INSERT_WRITE = s(insert_write + "ON CONFLICT DO NOTHING")
        # A put of a root checkpoint, before its row is written: the thread's row follows its
        # newest checkpoint and counts it, unless it is stored already (a put again), when
        # it keeps the time stored with it.
        newer = "excluded.head_id >= history_threads.head_id"
        self.UPSERT_THREAD = s(
            f"INSERT INTO {t} ({THREAD_COLUMNS}) SELECT ?, ?, ?, "
            "CASE WHEN old.created_at IS NULL THEN 1 ELSE 0 END, "
            f"COALESCE(old.created_at, ?), COALESCE(old.created_at, ?), {j} "
            f"FROM (SELECT 1 AS one) AS one LEFT JOIN {c} old ON old.thread_id = ? "
            "AND old.namespace = ? AND old.checkpoint_ns = '' AND old.checkpoint_id = ? "
            "WHERE 1 = 1 ON CONFLICT (thread_id, namespace) DO UPDATE SET "
            "checkpoints = history_threads.checkpoints + excluded.checkpoints, "
            f"head_id = CASE WHEN {newer} THEN excluded.head_id ELSE history_threads.head_id END, "
            f"metadata = CASE WHEN {newer} THEN excluded.metadata "
            "ELSE history_threads.metadata END, "
            "first_at = CASE WHEN excluded.first_at < history_threads.first_at "
            "THEN excluded.first_at ELSE history_threads.first_at END, "
            "last_at = CASE WHEN excluded.last_at > history_threads.last_at "
            "THEN excluded.last_at ELSE history_threads.last_at END"
        )
        self.SELECT_LATEST_ID = s(f"SELECT MAX(checkpoint_id) FROM {c} {in_ns}")
        self.DELETE_THREAD = tuple(s(f"DELETE FROM {x} {scope}") for x in (w, b, c, t))
        self.COUNT_THREAD = s(f"SELECT COUNT(*) FROM {c} {scope}")
        self.COPY_THREAD = tuple(
            s(f"INSERT INTO {x} ({cols}) SELECT ?, {cols.split(', ', 1)[1]} FROM {x} {scope}")
            for x, cols in ((c, CHECKPOINT_COLUMNS), (b, BLOB_COLUMNS), (w, WRITE_COLUMNS))
        )
        self.SELECT_RUN_CHECKPOINTS = s(
            f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM {c} "
            f"WHERE namespace = ? AND {self.in_list('run_id')}"
        )
        self.SELECT_THREAD_GRAPH = s(
            "SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
            f"{self.json_text('blob_versions')}, created_at, "
            f"{self.graph_metadata()} FROM {c} {scope}"
        )
        self.SELECT_THREAD_BLOB_KEYS = s(
            f"SELECT checkpoint_ns, channel, version, base FROM {b} {scope}"
        )
        # The cleanup job reads and deletes a batch of threads with one statement each; the
        # reads walk the list and probe the primary key per thread (`rows_of_threads`).
        of_threads = f"WHERE namespace = ? AND {self.in_list('thread_id')}"
        self.SELECT_GRAPHS_OF = s(
            self.rows_of_threads(
                c,
                "x.thread_id, x.checkpoint_ns, x.checkpoint_id, x.parent_checkpoint_id, "
                f"{self.json_text('x.blob_versions')}, x.created_at, "
                f"{self.graph_metadata('x.metadata')}",
            )
        )
        self.SELECT_BLOB_SIZES_OF = s(
            self.rows_of_threads(
                b,
                "x.thread_id, x.checkpoint_ns, x.channel, x.version, "
                f"{self.byte_length('x.data')}, x.base",
            )
        )
        self.SELECT_WRITE_STATS_OF = s(
            self.rows_of_threads(
                w,
                "x.thread_id, x.checkpoint_ns, x.checkpoint_id, COUNT(*), "
                "SUM(CASE WHEN x.channel = '__interrupt__' THEN 1 ELSE 0 END)",
            )
            + " GROUP BY x.thread_id, x.checkpoint_ns, x.checkpoint_id"
        )
        self.DELETE_THREADS = tuple(s(f"DELETE FROM {x} {of_threads}") for x in (w, b, c, t))
        # After checkpoints of these threads went or came in bulk: their rows again from
        # what is stored (an upsert, so columns not derived from checkpoints stay), and no
        # row for a thread left without root checkpoints.
        self.REFRESH_THREADS_OF = (
            s(
                f"INSERT INTO {t} ({THREAD_COLUMNS}) "
                "SELECT s.thread_id, s.namespace, s.head_id, s.checkpoints, s.first_at, "
                "s.last_at, h.metadata FROM (SELECT thread_id, namespace, "
                "MAX(checkpoint_id) AS head_id, COUNT(*) AS checkpoints, "
                "MIN(created_at) AS first_at, MAX(created_at) AS last_at "
                f"FROM {c} WHERE namespace = ? AND checkpoint_ns = '' "
                f"AND {self.in_list('thread_id')} GROUP BY thread_id, namespace) s "
                + self.pinned(
                    c,
                    "h",
                    "h.thread_id = s.thread_id AND h.namespace = s.namespace "
                    "AND h.checkpoint_ns = '' AND h.checkpoint_id = s.head_id",
                )
                + " WHERE 1 = 1 ON CONFLICT (thread_id, namespace) DO UPDATE SET "
                "head_id = excluded.head_id, checkpoints = excluded.checkpoints, "
                "first_at = excluded.first_at, "
                "last_at = excluded.last_at, metadata = excluded.metadata"
            ),
            s(
                f"DELETE FROM {t} WHERE namespace = ? AND {self.in_list('thread_id')} "
                f"AND NOT EXISTS (SELECT 1 FROM {c} x WHERE x.thread_id = history_threads.thread_id "
                "AND x.namespace = history_threads.namespace AND x.checkpoint_ns = '')"
            ),
        )
        # Run once per key (many=True): a primary-key probe each, no list to unpack.
        by_checkpoint = f"{in_ns} AND checkpoint_id = ?"
        self.DELETE_WRITES_BY = s(f"DELETE FROM {w} {by_checkpoint}")
        self.DELETE_CHECKPOINTS_BY = s(f"DELETE FROM {c} {by_checkpoint}")
        self.DELETE_BLOBS_BY = s(f"DELETE FROM {b} {in_ns} AND channel = ? AND version = ?")
        # keep_last by range (retention/sweep.py): per thread and checkpoint_ns, the oldest
        # of the newest N (each found by one index seek), the newest time, and how many of
        # the N are unreadable or carry DeltaChannel counters (the thread then goes row by row).
        self.SELECT_KEEP_BOUNDS_OF = s(
            f"WITH pairs AS (SELECT DISTINCT thread_id, checkpoint_ns FROM {c} {of_threads}), "
            "bounds AS MATERIALIZED (SELECT p.thread_id, p.checkpoint_ns, COALESCE(("
            f"SELECT y.checkpoint_id FROM {c} y WHERE y.thread_id = p.thread_id "
            "AND y.namespace = ? AND y.checkpoint_ns = p.checkpoint_ns "
            "ORDER BY y.checkpoint_id DESC LIMIT 1 OFFSET ?), '') AS low FROM pairs p), "
            "kept AS (SELECT p.thread_id, p.checkpoint_ns, k.checkpoint_id, k.created_at, "
            "k.blob_versions, k.metadata FROM bounds p "
            + self.pinned(
                c,
                "k",
                "k.thread_id = p.thread_id AND k.namespace = ? "
                "AND k.checkpoint_ns = p.checkpoint_ns AND k.checkpoint_id >= p.low",
            )
            + ") SELECT thread_id, checkpoint_ns, MIN(checkpoint_id), MAX(created_at), "
            f"SUM(CASE WHEN {self.is_object('blob_versions')} AND {self.is_object('metadata')} "
            "THEN 0 ELSE 1 END), COUNT("
            f"{self.json_get(self.readable_json('metadata'), ('counters_since_delta_snapshot',))}"
            ") FROM kept GROUP BY thread_id, checkpoint_ns"
        )
        below = (
            "x.thread_id = k.thread_id AND x.namespace = ? AND x.checkpoint_ns = k.checkpoint_ns "
            "AND x.checkpoint_id < k.checkpoint_id"
        )
        self.COUNT_BELOW = s(
            f"WITH bounds(thread_id, checkpoint_ns, checkpoint_id) AS ({self.unpack(3)}) "
            f"SELECT (SELECT COUNT(*) FROM bounds k {self.pinned(c, 'x', below)}), "
            f"(SELECT COUNT(*) FROM bounds k {self.pinned(w, 'x', below)})"
        )
        self.DELETE_WRITES_BELOW = s(f"DELETE FROM {w} {in_ns} AND checkpoint_id < ?")
        self.DELETE_CHECKPOINTS_BELOW = s(f"DELETE FROM {c} {in_ns} AND checkpoint_id < ?")
        named = (  # the blobs the threads' remaining checkpoints name, with their chains
            "WITH named AS MATERIALIZED (SELECT k.thread_id, k.checkpoint_ns, j.key AS channel, "
            f"j.value AS version, (SELECT y.base FROM {b} y WHERE y.thread_id = k.thread_id "
            "AND y.namespace = k.namespace AND y.checkpoint_ns = k.checkpoint_ns "
            "AND y.channel = j.key AND y.version = j.value) AS base "
            f"FROM {c} k CROSS JOIN {self.entries('k.blob_versions')} "
            f"WHERE k.namespace = ? AND {self.in_list('k.thread_id')}) "
        )
        same = (
            f"n.thread_id = {b}.thread_id AND n.checkpoint_ns = {b}.checkpoint_ns "
            f"AND n.channel = {b}.channel"
        )
        unnamed = (  # equality joins only, so PostgreSQL can hash them
            f"FROM {b} {of_threads} "
            f"AND NOT EXISTS (SELECT 1 FROM named n WHERE {same} AND n.version = {b}.version) "
            f"AND NOT EXISTS (SELECT 1 FROM named n WHERE {same} AND n.base = {b}.version) "
            f"AND NOT EXISTS (SELECT 1 FROM named n WHERE {same} AND n.base = {b}.base "
            f"AND {b}.version < n.version)"
        )
        # RETURNING counts what went: the CTE is the costly part, so it runs once.
        self.DELETE_UNNAMED_BLOBS_OF = s(
            f"{named}DELETE {unnamed} RETURNING {self.byte_length('data')}"
        )
        # The next threads after a thread id, at most N: one primary-key seek per thread, so
        # a page costs the same wherever it starts and whatever the planner's statistics say.
        # (`|| ''`: an index on namespace must not look like a shorter way to the next one.)
        next_thread = (
            f"(SELECT y.thread_id FROM {c} y WHERE y.thread_id > {{}} "
            "AND y.namespace || '' = ? ORDER BY y.thread_id LIMIT 1)"
        )
        walk = (
            f"WITH RECURSIVE walk(thread_id, n) AS (SELECT {next_thread.format('?')}, 1 "
            f"UNION ALL SELECT {next_thread.format('walk.thread_id')}, walk.n + 1 FROM walk "
            "WHERE walk.thread_id IS NOT NULL AND walk.n < ?), "
            "page AS (SELECT thread_id FROM walk WHERE thread_id IS NOT NULL) "
        )
        self.SELECT_THREAD_IDS = s(walk + "SELECT thread_id FROM page ORDER BY thread_id")
        # Per thread: checkpoints, oldest, newest, and the most in one checkpoint_ns.
        per_thread = (
            "SELECT thread_id, SUM(n), MIN(oldest), MAX(newest), MAX(n) FROM ("
            "SELECT p.thread_id, x.checkpoint_ns, COUNT(*) AS n, MIN(x.created_at) AS oldest, "
            "MAX(x.created_at) AS newest FROM {} "
            + self.pinned(c, "x", "x.thread_id = p.thread_id AND x.namespace = ?")
            + " GROUP BY p.thread_id, x.checkpoint_ns) AS per_ns "
            "GROUP BY thread_id ORDER BY thread_id"
        )
        self.SELECT_THREAD_STATS = s(per_thread.format("(SELECT ? AS thread_id) p"))
        self.SELECT_THREADS_STATS = s(walk + per_thread.format("page p"))
        pairs = f"(checkpoint_ns, checkpoint_id) IN ({self.unpack(2)})"
        self.DELETE_CHECKPOINTS = s(f"DELETE FROM {c} {scope} AND {pairs}")
        self.DELETE_WRITES_OF = s(f"DELETE FROM {w} {scope} AND {pairs}")
        self.DELETE_BLOBS = s(
            f"DELETE FROM {b} {scope} AND (checkpoint_ns, channel, version) IN ({self.unpack(3)})"
        )
        self.SELECT_ANCESTORS = s(
            "WITH RECURSIVE chain(checkpoint_id, parent_checkpoint_id, blob_versions, depth) AS ("
            f"SELECT checkpoint_id, parent_checkpoint_id, blob_versions, 0 FROM {c} {in_ns} "
            "AND checkpoint_id = ? UNION ALL "
            "SELECT p.checkpoint_id, p.parent_checkpoint_id, p.blob_versions, chain.depth + 1 "
            f"FROM chain {self.PIN_JOIN} {c} p ON p.thread_id = ? AND p.namespace = ? "
            "AND p.checkpoint_ns = ? AND p.checkpoint_id = chain.parent_checkpoint_id "
            "WHERE chain.depth < 1000000"
            f") SELECT checkpoint_id, parent_checkpoint_id, {self.json_text('blob_versions')} "
            "FROM chain"
        )
        among = f"(channel, version) IN ({self.unpack(2)})"
        self.SELECT_BLOB_KEYS_AMONG = s(f"SELECT channel, version FROM {b} {in_ns} AND {among}")
        self.SELECT_BLOBS = s(
            "WITH wanted AS (SELECT b.thread_id, b.namespace, b.checkpoint_ns, b.channel, "
            f"b.version FROM {b} b {in_ns} AND "
            f"(b.channel, b.version) IN ({self.unpack(2)})), {self.chains()}"
            "SELECT b.channel, b.version, b.format, b.type, b.data, b.base "
            f"FROM needed k {self.PIN_JOIN} {b} b ON {self.same_blob('k', 'b')}"
        )
        self.SELECT_CHANNEL_WRITES = s(
            "SELECT checkpoint_id, task_id, idx, task_path, channel, type, data "
            f"FROM {w} {in_ns} AND {self.in_list('checkpoint_id')} AND {self.in_list('channel')}"
        )
        # A thread's rows as they are stored (core/threads.py: export, import, copy across).
        self.EXPORT_THREAD = (
            s(
                "SELECT thread_id, namespace, checkpoint_ns, checkpoint_id, "
                f"parent_checkpoint_id, type, checkpoint, {self.json_text('blob_versions')}, "
                f"{self.json_text('metadata')}, run_id, created_at FROM {c} {scope} "
                "ORDER BY checkpoint_ns, checkpoint_id"
            ),
            s(f"SELECT {BLOB_COLUMNS} FROM {b} {scope} ORDER BY checkpoint_ns, channel, version"),
            s(
                f"SELECT {WRITE_COLUMNS} FROM {w} {scope} "
                "ORDER BY checkpoint_ns, checkpoint_id, task_id, idx"
            ),
        )
        self.SELECT_TASK_PATHS = s(
            f"SELECT DISTINCT checkpoint_id, task_id, task_path FROM {w} {in_ns}"
        )

    def select_threads(self, where: list[str]) -> str:
        """Threads (core/threads.py), newest first: a page of history_threads filtered by
        `where`, then whether each head waits on an interrupt (for the page's threads only)."""
        w = self.writes
        return self.sql(
            "SELECT t.thread_id, t.checkpoints, t.first_at, t.last_at, t.head_id, "
            # A scalar probe per row, not EXISTS: PostgreSQL may answer an EXISTS for
            # all rows at once by hashing a scan of every thread's writes.
            f"{self.json_text('t.metadata')}, COALESCE((SELECT 1 FROM {w} x "
            "WHERE x.thread_id = t.thread_id AND x.namespace = t.namespace "
            "AND x.checkpoint_ns = '' AND x.checkpoint_id = t.head_id "
            "AND x.channel = '__interrupt__' LIMIT 1), 0) "
            "FROM (SELECT thread_id, namespace, head_id, checkpoints, first_at, last_at, metadata "
            f"FROM {self.threads} WHERE {' AND '.join(where)} "
            "ORDER BY last_at DESC, thread_id LIMIT ?) t "
            "ORDER BY t.last_at DESC, t.thread_id"
        )

    def put_statements(self, blob_rows: list[Any], row: Any) -> list[Stmt]:
        """A put: the new blobs, then the checkpoint (and its thread's row), in one
        transaction."""
        out = [Stmt(self.INSERT_BLOB, blob_rows, many=True)] if blob_rows else []
        return [*out, *self.checkpoint_statements(row)]

    def checkpoint_statements(self, row: Any) -> list[Stmt]:
        """The checkpoint row, then for a root checkpoint its thread's row."""
        if row[2] != "":  # a subgraph's checkpoint: the thread's row follows the root's
            return [Stmt(self.UPSERT_CHECKPOINT, row, fetch=False, last=True)]
        tid, namespace, _, checkpoint_id = row[:4]
        thread = (tid, namespace, checkpoint_id, row[10], row[10], row[8])
        return [
            Stmt(self.UPSERT_THREAD, (*thread, tid, namespace, checkpoint_id), fetch=False),
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
            self._pages[key] = self._select_one(where) if one else self._select_page(where)
        return self._pages[key]

    def _page_and_writes(self, where: list[str], limit: str, ctes: str, blob_rows: str) -> str:
        """The page CTE and more `ctes`, then the page's rows, `blob_rows` (a SELECT of the
        blobs they use) and the page's writes."""
        c, w = self.checkpoints, self.writes
        return self.sql(
            "WITH page AS MATERIALIZED ("
            "SELECT thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
            f"type, checkpoint, metadata, blob_versions, created_at FROM {c} "
            f"WHERE {' AND '.join(where)} ORDER BY {self.page_order(where)} LIMIT {limit}), "
            f"{ctes}"
            "SELECT 'c', thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
            f"CASE WHEN {self.is_object('blob_versions')} THEN '1' ELSE '' END, "
            "created_at, type, checkpoint, "
            f"{self.json_text('metadata')}, {self.json_text('blob_versions')} FROM page "
            f"UNION ALL {blob_rows} UNION ALL "
            "SELECT 'w', w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, "
            "w.idx, w.type, w.data, w.channel, NULL FROM page p "
            + self.pinned(
                w,
                "w",
                "w.thread_id = p.thread_id AND w.namespace = p.namespace "
                "AND w.checkpoint_ns = p.checkpoint_ns AND w.checkpoint_id = p.checkpoint_id",
            )
        )

    def _select_page(self, where: list[str]) -> str:
        # The page's checkpoints share blobs (a version unchanged between them, a chain's
        # snapshot and deltas): the keys are gathered and made unique first, then read.
        b = self.blobs
        wanted = (
            "wanted AS (SELECT DISTINCT p.thread_id, p.namespace, p.checkpoint_ns, "
            "j.key AS channel, j.value AS version "
            f"FROM page p, {self.entries(self.readable_json('p.blob_versions'))}), "
        )
        rows = (
            "SELECT 'b', b.thread_id, b.checkpoint_ns, b.channel, b.version, b.base, b.format, "
            "b.type, b.data, NULL, NULL FROM needed k "
            + self.pinned(b, "b", self.same_blob("k", "b"), unique=True)
        )
        return self._page_and_writes(where, "?", wanted + self.chains(), rows)

    def _select_one(self, where: list[str]) -> str:
        # One checkpoint names each channel once, and a channel's chain rows are its own:
        # nothing to make unique, so each blob row is read once, where it is found.
        b = self.blobs
        columns = "x.thread_id, x.checkpoint_ns, x.channel, x.version, x.base, x.format, x.type"
        heads = (
            f"heads AS MATERIALIZED (SELECT x.namespace, {columns}, x.data FROM page p, "
            f"{self.entries(self.readable_json('p.blob_versions'))} "
            + self.pinned(
                b,
                "x",
                "x.thread_id = p.thread_id AND x.namespace = p.namespace "
                "AND x.checkpoint_ns = p.checkpoint_ns AND x.channel = j.key "
                "AND x.version = j.value",
                unique=True,
            )
            + ") "
        )
        chain = (
            "x.thread_id = h.thread_id AND x.namespace = h.namespace "
            "AND x.checkpoint_ns = h.checkpoint_ns AND x.channel = h.channel"
        )
        rows = (
            f"SELECT 'b', {columns.replace('x.', '')}, data, NULL, NULL FROM heads "
            f"UNION ALL SELECT 'b', {columns}, x.data, NULL, NULL FROM heads h "
            + self.pinned(b, "x", f"{chain} AND x.version = h.base", unique=True)
            + f" UNION ALL SELECT 'b', {columns}, x.data, NULL, NULL FROM heads h "
            + self.pinned(
                b,
                "x",
                f"{chain} AND x.version > h.base AND x.version < h.version AND x.base = h.base",
            )
        )
        return self._page_and_writes(where, "1", heads, rows)

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

    def rows_of_threads(self, table: str, columns: str) -> str:
        """`columns` of `table` as `x`, for the threads of a list parameter in a namespace
        (parameters: namespace, list): one primary-key probe per thread, whatever the
        planner guesses of the list or the table."""
        return (
            "WITH n(namespace) AS (SELECT CAST(? AS TEXT)), "
            f"p(thread_id) AS ({self.unpack(1)}) SELECT {columns} FROM n CROSS JOIN p "
            + self.pinned(table, "x", "x.thread_id = p.thread_id AND x.namespace = n.namespace")
        )

    def pinned(self, table: str, alias: str, on: str, unique: bool = False) -> str:
        """Join `table` as `alias` once per row of what precedes it, by index: the rows before
        are few, whatever a planner guesses from a list parameter. `unique`: `on` names one
        row (its whole primary key)."""
        return f"{self.PIN_JOIN} {table} {alias} ON {on}"

    def same_blob(self, k: str, b: str) -> str:
        return (
            f"{b}.thread_id = {k}.thread_id AND {b}.namespace = {k}.namespace "
            f"AND {b}.checkpoint_ns = {k}.checkpoint_ns AND {b}.channel = {k}.channel "
            f"AND {b}.version = {k}.version"
        )

    def chains(self) -> str:
        """CTEs from `wanted` (blob keys) to `needed`: those keys, and for each delta its
        snapshot and the deltas before it on the same chain (core/deltas.py)."""
        b = self.blobs
        key = (
            "x.thread_id = h.thread_id AND x.namespace = h.namespace "
            "AND x.checkpoint_ns = h.checkpoint_ns AND x.channel = h.channel"
        )
        return (
            "heads AS MATERIALIZED (SELECT k.thread_id, k.namespace, k.checkpoint_ns, "
            f"k.channel, k.version, x.base FROM wanted k {self.pinned(b, 'x', self.same_blob('k', 'x'), unique=True)}), "
            "needed AS (SELECT thread_id, namespace, checkpoint_ns, channel, version FROM heads "
            "UNION SELECT thread_id, namespace, checkpoint_ns, channel, base FROM heads "
            "WHERE base IS NOT NULL UNION SELECT h.thread_id, h.namespace, h.checkpoint_ns, "
            "h.channel, x.version FROM heads h "
            + self.pinned(
                b,
                "x",
                f"{key} AND x.version > h.base AND x.version < h.version AND x.base = h.base",
            )
            + " WHERE h.base IS NOT NULL) "
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
        newest = self.NEWEST if thread_id is None and not leaves else "checkpoint_id"
        if before_id is not None:
            where.append(f"{newest} < ?")
            params.append(before_id)
        if after is not None:  # the bound lets an index ordered by checkpoint_id seek to it
            where.append(f"{newest} <= ? AND (checkpoint_id, checkpoint_ns, thread_id) < (?, ?, ?)")
            params.extend([after[0], *after])
        for path, value in leaves:
            clause, args = self.leaf(path, value)
            where.append(clause)
            params.extend(args)
        return where, params
