"""Cost at scale: the same per-thread calls on a database of 10³, 10⁵ and 10⁶ checkpoints.

    scripts/bench --scale [--levels 1000,100000,1000000] [--calls 30] [--backend sqlite|postgres]

A real chat graph writes one thread of about 100 checkpoints (with `user_id` in its run
metadata); the database then grows by copying that thread's rows under new thread ids, with
one INSERT ... SELECT per table and batch (each copy's `user_id` is its own thread id), so
every row is one a saver wrote. Each call is timed in 5 rounds of 30 against the first thread
(its rows are the oldest, the worst case for any scan that walks the table newest first) and
the lowest round median is reported: right after loading (no statistics, or statistics from the smaller size)
and again after ANALYZE. LangGraph's SqliteSaver and PostgresSaver are filled the same way to
the largest level in the same run, for reference. At the end, the migration that adds the
per-thread table runs again on the largest database, timed.

Our SQLite saver is opened with `indexed_metadata=["user_id"]`, as a user filtering on that
key would: SQLite has no index over JSON values otherwise (PostgreSQL's GIN covers every key).

`list_threads(limit=10)`, not 20: the smallest database holds only 10 threads, and a page of
20 there would be a page of 10, half the work of the larger ones.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.postgres import PostgresSaver as LangGraphPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver

from saver import PostgresSaver, SqliteSaver
from scripts.benchmarks.databases import fresh_databases, server_url
from scripts.benchmarks.graphs import chat_graph, user_input

LEVELS = (1_000, 100_000, 1_000_000)
TEMPLATE_TURNS = 28  # 3 checkpoints a turn, 5 on every third: 102 checkpoints
CALLS = 30
ROUNDS = 5
SLOW = 0.5  # seconds: an operation this slow is timed 5 times, not 5 rounds of 30
COPIES_PER_STATEMENT = 500
GOAL = 1.2  # largest level / smallest, every operation
OPERATIONS = ("get_tuple latest", "list(limit=10)", "one turn", "list_threads(10)", "list(filter)")


def thread_name(n: int) -> str:
    return f"t-{n:07d}"


def run_config(n: int) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_name(n)}, "metadata": {"user_id": thread_name(n)}}


@dataclass
class Side:
    """One saver on one database, with a raw connection to grow it."""

    name: str
    backend: str
    saver: Any
    raw: Any  # sqlite3.Connection or psycopg.Connection (autocommit)
    tables: list[str]
    threads: int = 1
    measured: int = 0  # measurements so far: the next continues thread `measured`
    results: dict[str, dict[str, float]] = field(default_factory=dict)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.backend == "sqlite":
            rows = self.raw.execute(sql, params).fetchall()
            self.raw.commit()
            return list(rows)
        cur = self.raw.execute(sql.replace("?", "%s"), params or None)
        return list(cur.fetchall()) if cur.description else []

    def columns(self, table: str) -> list[str]:
        if self.backend == "sqlite":
            return [r[1] for r in self.execute(f"PRAGMA table_info({table})")]
        found = self.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in found]

    def json_type(self, table: str, column: str) -> str:
        if self.backend == "sqlite":
            return next(r[2] for r in self.execute(f"PRAGMA table_info({table})") if r[1] == column)
        return str(
            self.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_name = ? "
                "AND column_name = ? AND table_schema = current_schema()",
                (table, column),
            )[0][0]
        )

    def checkpoints(self) -> int:
        table = next(t for t in self.tables if t.endswith("checkpoints"))
        return int(self.execute(f"SELECT COUNT(*) FROM {table}")[0][0])

    def grow(self, threads: int) -> float:
        """Copy thread 0 until there are `threads` threads; returns the seconds it took."""
        start = time.perf_counter()
        while self.threads < threads:
            last = min(threads, self.threads + COPIES_PER_STATEMENT) - 1
            for table in self.tables:
                self.execute(self.copy_statement(table), (self.threads, last, thread_name(0)))
            self.threads = last + 1
        return time.perf_counter() - start

    def copy_statement(self, table: str) -> str:
        if self.backend == "sqlite":
            series = "WITH RECURSIVE s(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
            name = "'t-' || substr('0000000' || s.n, -7)"
        else:
            series = ""
            name = "'t-' || lpad(s.n::text, 7, '0')"
        exprs = []
        for column in (cols := self.columns(table)):
            if column == "thread_id":
                exprs.append(name)
            elif column == "metadata":
                exprs.append(self.with_user(table, name))
            else:
                exprs.append(f"x.{column}")
        source = (
            f"{table} x CROSS JOIN s"
            if self.backend == "sqlite"
            else f"{table} x CROSS JOIN generate_series(?::int, ?::int) AS s(n)"
        )
        return (
            f"{series}INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
            f"FROM {source} WHERE x.thread_id = ?"
        )

    def with_user(self, table: str, name: str) -> str:
        """The row's metadata with `user_id` set to the copy's thread id."""
        kind = self.json_type(table, "metadata").lower()
        if self.backend == "postgres":
            return f"jsonb_set(x.metadata, '{{user_id}}', to_jsonb({name}))"
        if kind == "blob":  # LangGraph's SqliteSaver keeps metadata as JSON bytes
            return f"CAST(json_set(CAST(x.metadata AS TEXT), '$.user_id', {name}) AS BLOB)"
        return f"json_set(x.metadata, '$.user_id', {name})"

    def analyze(self) -> None:
        self.execute("ANALYZE")


def median_ms(call: Callable[[], Any], calls: int, rounds: int) -> float:
    """The lowest of `rounds` medians of `calls` calls: this machine has bursts of slowness
    that a single median of 30 can land in (the same call ran 0.85 or 1.47 ms a round)."""
    medians = []
    for _ in range(rounds):
        gc.collect()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
    return min(medians) * 1000


def measure(side: Side, calls: int) -> dict[str, float]:
    saver, graph = side.saver, chat_graph(side.saver)
    first = run_config(0)
    # Each measurement continues a copy of its own, so each times the same turns.
    side.measured += 1
    turn_config = run_config(side.measured)
    turns = iter(range(TEMPLATE_TURNS + 1, TEMPLATE_TURNS + calls * ROUNDS + 2))

    def turn() -> None:
        graph.invoke(user_input(next(turns)), turn_config)

    ops: dict[str, Callable[[], Any]] = {
        "get_tuple latest": lambda: saver.get_tuple(first),
        "list(limit=10)": lambda: list(saver.list(first, limit=10)),
        "one turn": turn,
        "list(filter)": lambda: list(
            saver.list(None, filter={"user_id": thread_name(0)}, limit=10)
        ),
    }
    if hasattr(saver, "list_threads"):
        ops["list_threads(10)"] = lambda: saver.list_threads(limit=10)
    out = {}
    for name, call in ops.items():
        gc.collect()
        start = time.perf_counter()
        call()  # statements prepared and pages cached, as in a running service
        slow = time.perf_counter() - start > SLOW  # a scan of 10⁶ rows: fewer calls will do
        out[name] = median_ms(call, 5, 1) if slow else median_ms(call, calls, ROUNDS)
    return out


def fill_template(side: Side) -> None:
    graph = chat_graph(side.saver)
    for turn in range(1, TEMPLATE_TURNS + 1):
        graph.invoke(user_input(turn), run_config(0))


# --- the sides --------------------------------------------------------------------------------


@contextmanager
def sqlite_sides(folder: Path) -> Iterator[tuple[Side, Side]]:
    with ExitStack() as stack:
        ours = stack.enter_context(
            SqliteSaver.from_conn_string(str(folder / "ours.db"), indexed_metadata=["user_id"])
        )
        theirs = stack.enter_context(LangGraphSqliteSaver.from_conn_string(str(folder / "lg.db")))
        theirs.setup()
        raw = [stack.enter_context(sqlite3.connect(folder / n)) for n in ("ours.db", "lg.db")]
        yield (
            Side("ours", "sqlite", ours, raw[0], []),
            Side("LangGraph SqliteSaver", "sqlite", theirs, raw[1], []),
        )


@contextmanager
def postgres_sides() -> Iterator[tuple[Side, Side]]:
    with fresh_databases(server_url(), ["ours", "lg"]) as urls, ExitStack() as stack:
        ours = stack.enter_context(PostgresSaver.from_conn_string(urls["ours"]))
        theirs = stack.enter_context(LangGraphPostgresSaver.from_conn_string(urls["lg"]))
        theirs.setup()
        raw = [
            stack.enter_context(psycopg.connect(urls[n], autocommit=True)) for n in ("ours", "lg")
        ]
        yield (
            Side("ours", "postgres", ours, raw[0], []),
            Side("LangGraph PostgresSaver", "postgres", theirs, raw[1], []),
        )


def thread_tables(side: Side) -> list[str]:
    if side.backend == "sqlite":
        names = [r[0] for r in side.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        names = [
            r[0]
            for r in side.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ]
    return sorted(t for t in names if "thread_id" in side.columns(t))


def quiet_autovacuum(side: Side) -> None:
    """Statistics exist only where the bench runs ANALYZE: "right after loading" stays so."""
    if side.backend == "postgres":
        for table in side.tables:
            side.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")


# --- the run ----------------------------------------------------------------------------------


def run_backend(backend: str, levels: tuple[int, ...], calls: int) -> dict[str, Any]:
    with ExitStack() as stack:
        if backend == "sqlite":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-")))
            ours, theirs = stack.enter_context(sqlite_sides(folder))
        else:
            ours, theirs = stack.enter_context(postgres_sides())
        for side in (ours, theirs):
            fill_template(side)
            side.tables = thread_tables(side)
            quiet_autovacuum(side)
        per_thread = ours.checkpoints()
        print(f"  template thread: {per_thread} checkpoints; tables {ours.tables}", flush=True)
        out: dict[str, Any] = {"per_thread": per_thread, "ours": {}, "theirs": {}}
        for level in levels:
            grow(ours, level, per_thread)
            out["ours"][level] = both_states(ours, calls)
        out["upgrade_seconds"] = upgrade(ours)
        grow(theirs, levels[-1], per_thread)
        out["theirs"][levels[-1]] = both_states(theirs, calls)
        return out


def grow(side: Side, level: int, per_thread: int) -> None:
    seconds = side.grow(max(1, round(level / per_thread)))
    # The load's dirty pages written out and SQLite's write-ahead log folded into the file,
    # as a loader closing its connection would: "right after loading" is about statistics
    # and cached plans, not a disk busy with a gigabyte of writeback or a reader consulting
    # a 100 MB log on every page.
    if side.backend == "sqlite":
        side.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()
    print(
        f"  {side.name}: {side.checkpoints():,} checkpoints ({seconds:.1f} s to grow)", flush=True
    )


def upgrade(side: Side) -> float:
    """Seconds setup() takes to bring this database up from schema 3, as the previous release
    left it (no thread rows): the migration that fills history_threads from the checkpoints."""
    side.execute("DROP TABLE history_threads")
    if side.backend == "postgres":  # and its index of schema 3 back in place of 4's
        side.execute("DROP INDEX history_checkpoints_newest")
        side.execute(
            "CREATE INDEX history_checkpoints_namespace_id "
            "ON history_checkpoints (namespace, checkpoint_id)"
        )
    side.execute("DELETE FROM history_migrations WHERE version >= 4")
    start = time.perf_counter()
    side.saver.setup()
    seconds = time.perf_counter() - start
    threads = side.execute("SELECT COUNT(*) FROM history_threads")[0][0]
    print(
        f"  upgrade from schema 3: {seconds:.1f} s for {side.checkpoints():,} checkpoints "
        f"({threads:,} thread rows)",
        flush=True,
    )
    return seconds


def both_states(side: Side, calls: int) -> dict[str, dict[str, float]]:
    loaded = measure(side, calls)
    side.analyze()
    analyzed = measure(side, calls)
    for state, numbers in (("loaded", loaded), ("analyzed", analyzed)):
        shown = ", ".join(f"{k} {v:.2f}" for k, v in numbers.items())
        print(f"    {state}: {shown} (ms)", flush=True)
    return {"loaded": loaded, "analyzed": analyzed}


def report(backend: str, data: dict[str, Any], levels: tuple[int, ...]) -> list[dict[str, Any]]:
    small, large = levels[0], levels[-1]
    ours, theirs = data["ours"], data["theirs"][large]
    rows = []
    title = f"{'operation':<18} {'state':<9} " + " ".join(f"{f'{lv:,}':>11}" for lv in levels)
    print(f"\n{backend}: median ms per call; ratio {large:,}/{small:,}; LangGraph at {large:,}")
    print(f"{title} {'ratio':>7} {'LangGraph':>10} {'vs LG':>7}")
    for op in OPERATIONS:
        for state in ("loaded", "analyzed"):
            values = [ours[lv][state].get(op) for lv in levels]
            if values[0] is None:
                continue
            ratio = values[-1] / values[0]
            lg = theirs[state].get(op)
            versus = f"{values[-1] / lg:.2f}x" if lg else "-"
            flag = "" if ratio <= GOAL else "  over"
            cells = " ".join(f"{v:>11.2f}" for v in values)
            lg_cell = f"{lg:>10.2f}" if lg else f"{'-':>10}"
            print(f"{op:<18} {state:<9} {cells} {ratio:>6.2f}x {lg_cell} {versus:>7}{flag}")
            rows.append({"op": op, "state": state, "ms": values, "ratio": ratio, "langgraph": lg})
    return rows


def run(
    backends: tuple[str, ...] = ("sqlite", "postgres"),
    levels: tuple[int, ...] = LEVELS,
    calls: int = CALLS,
) -> dict[str, Any]:
    out = {}
    for backend in backends:
        print(f"=== Scale: {backend} ===", flush=True)
        data = run_backend(backend, levels, calls)
        rows = report(backend, data, levels)
        print(f"upgrade to the thread table at {levels[-1]:,}: {data['upgrade_seconds']:.1f} s")
        out[backend] = {"levels": list(levels), "rows": rows, "upgrade": data["upgrade_seconds"]}
    return out
