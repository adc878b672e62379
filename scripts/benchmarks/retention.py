"""Retention: how fast cleanup(keep_last=10) deletes, on SQLite and PostgreSQL, and how long a
writer on the same storage waits meanwhile.

    scripts/bench --backend retention [--quick] [--json PATH]

Per backend (SQLite: a file in a temp dir; PostgreSQL: a fresh database per run, dropped at the
end, on the server postgres.py uses: databases.server_url):

1. Build `threads` x `checkpoints` through the saver's own put/put_writes plans (plans.put,
   plans.put_writes), a whole thread per transaction. Each checkpoint is LangGraph-shaped
   (uuid6 ids, get_next_version versions, versions_seen, updated_channels) with channels
   `counter` and `items` (a list that grows by one each step) changing every step, `topic`
   written once, and one pending write. First, one thread goes in through the public
   put/put_writes and the same steps batched: their rows must be identical.
2. The built store is copied (SQLite: the file; PostgreSQL: CREATE DATABASE ... TEMPLATE), so
   cleanup runs twice on the same data: alone (the rate, bytes before and after, and after
   VACUUM / VACUUM FULL), and beside a writer: a second saver (its own connection, namespace
   `writer`, so the cleanup's work is the same) puts checkpoints in a tight loop on another OS
   thread, first `baseline_seconds` with no cleanup, then for as long as the cleanup runs.
3. After each cleanup: every thread has exactly `KEEP` checkpoints (and their writes, and the blobs
   they need: a kept delta keeps the snapshot and deltas it is built on),
   the report's counts are exact, and sampled threads load as before.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    empty_checkpoint,
)
from langgraph.checkpoint.base.id import uuid6
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from saver import PostgresSaver, RetentionPolicy, SqliteSaver
from saver.core import lineage, plans
from saver.core.deltas import DeltaTracker
from saver.dialects.base import Dialect
from saver.dialects.postgres import PostgresDialect
from saver.dialects.sqlite import SQLITE
from saver.io.modes import WRITE
from saver.retention.job import CleanupReport
from scripts.benchmarks.common import (
    RATE,
    Metric,
    disk_bytes,
    fmt,
    git_revision,
    header,
    json_payload,
    print_verdicts,
)
from scripts.benchmarks.databases import fresh_databases, server_url, with_dbname

KEEP = 10  # cleanup(RetentionPolicy(keep_last=KEEP))
GOAL = 50_000  # checkpoints deleted per second, SQLite, cleanup alone
TOPIC = "retention benchmark: what a thread was about, written once at step 0"
WRITER_NAMESPACE = "writer"
WIDTH = 48
COLUMN = 16


@dataclass(frozen=True)
class Sizes:
    threads: int
    checkpoints: int  # per thread
    baseline_seconds: float  # the writer alone, before the cleanup starts
    samples: int  # threads whose latest checkpoint is loaded before and after


FULL = Sizes(1000, 100, 2.0, 5)
QUICK = Sizes(100, 50, 0.5, 5)


# --- the data: LangGraph-shaped steps ----------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One put and the pending write that follows it, for any thread_id."""

    parent_id: str | None
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    new_versions: ChannelVersions
    task_id: str
    write: tuple[str, Any]


def values_at(step: int, cap: int) -> dict[str, Any]:
    """The channel values after `step`: what a reload must give back."""
    return {
        "topic": TOPIC,
        "counter": step,
        "items": [f"item {i}" for i in range(max(0, step + 1 - cap), step + 1)],
    }


def steps(saver: Any, cap: int) -> Iterator[Step]:
    """An endless thread, as LangGraph's loop would put it: step 0 writes every channel,
    later steps `counter` and `items`, whose list keeps its last `cap` entries."""
    versions: dict[str, Any] = {}
    items: list[str] = []
    parent: str | None = None
    step = 0
    while True:
        changed = ["topic", "counter", "items"] if step == 0 else ["counter", "items"]
        new_versions = {ch: saver.get_next_version(versions.get(ch), None) for ch in changed}
        seen = {"agent": dict(versions)} if versions else {}
        versions = {**versions, **new_versions}
        items = [*items[-(cap - 1) :], f"item {step}"] if cap > 1 else [f"item {step}"]
        checkpoint = empty_checkpoint()  # what create_checkpoint builds, pending_sends too
        checkpoint["id"] = str(uuid6(clock_seq=step))
        checkpoint["ts"] = datetime.now(timezone.utc).isoformat()
        checkpoint["channel_values"] = {"topic": TOPIC, "counter": step, "items": items}
        checkpoint["channel_versions"] = dict(versions)
        checkpoint["versions_seen"] = seen
        checkpoint["updated_channels"] = changed
        task_id = str(uuid.uuid5(uuid.NAMESPACE_OID, checkpoint["id"]))
        metadata: CheckpointMetadata = {"source": "loop", "step": step, "parents": {}}
        yield Step(parent, checkpoint, metadata, new_versions, task_id, ("counter", step + 1))
        parent = checkpoint["id"]
        step += 1


def config_of(thread_id: str, checkpoint_id: str | None) -> RunnableConfig:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def put_one_by_one(saver: Any, thread_id: str, thread: Sequence[Step]) -> None:
    """The public API, one call per put and per put_writes."""
    for s in thread:
        saved = saver.put(
            config_of(thread_id, s.parent_id), s.checkpoint, s.metadata, s.new_versions
        )
        saver.put_writes(saved, [s.write], s.task_id)


def thread_plan(
    ctx: plans.Context, tracker: DeltaTracker, thread_id: str, thread: Sequence[Step]
) -> plans.Plan[None]:
    """The same puts and put_writes as `put_one_by_one`, as one plan: one transaction (the
    growing `items` list stored as deltas, as the saver's own puts store it)."""
    for s in thread:
        config = config_of(thread_id, s.parent_id)
        encoded = plans.encode_put(ctx, tracker, config, s.checkpoint, s.new_versions)
        saved = yield from plans.put(ctx, config, s.checkpoint, s.metadata, s.new_versions, encoded)
        tracker.commit(encoded)
        yield from plans.put_writes(ctx, saved, [s.write], s.task_id, "")


def thread_name(i: int) -> str:
    return f"bench-{i:05d}"


# --- the two backends ----------------------------------------------------------------------


class Store(Protocol):
    name: str
    dialect: Dialect

    def saver(self, namespace: str = "") -> AbstractContextManager[Any]: ...

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def size(self) -> int: ...

    def settle(self) -> None: ...

    def compact(self) -> None: ...


class SqliteStore:
    name = "SQLite"
    dialect: Dialect = SQLITE
    compact_label = "VACUUM"

    def __init__(self, path: Path) -> None:
        self.path = path

    def saver(self, namespace: str = "") -> AbstractContextManager[Any]:
        return SqliteSaver.from_conn_string(str(self.path), namespace=namespace)

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.path)) as conn:
            return conn.execute(text, params).fetchall()

    def size(self) -> int:
        """File + -wal, after a wal_checkpoint(TRUNCATE)."""
        return disk_bytes(self.path)

    def free_pages(self) -> int:
        return int(self.rows("PRAGMA freelist_count")[0][0])

    def settle(self) -> None:
        pass  # the saver never runs ANALYZE; neither does the benchmark

    def compact(self) -> None:
        with closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
            conn.execute("VACUUM")

    def copy_to(self, path: Path) -> SqliteStore:
        """A byte-for-byte copy (every connection is closed, the WAL folded in)."""
        disk_bytes(self.path)
        shutil.copyfile(self.path, path)
        return SqliteStore(path)


class PostgresStore:
    name = "PostgreSQL"
    compact_label = "VACUUM FULL"

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect: Dialect = PostgresDialect()
        self.tables = (self.dialect.checkpoints, self.dialect.blobs, self.dialect.writes)

    def saver(self, namespace: str = "") -> AbstractContextManager[Any]:
        return PostgresSaver.from_conn_string(self.url, namespace=namespace)

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(self.dialect.sql(text), params).fetchall()

    def size(self) -> int:
        """pg_total_relation_size (heap, TOAST, indexes, maps) of the three tables."""
        query = "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(%s::text[]) AS t"
        with psycopg.connect(self.url) as conn:
            row = conn.execute(query, (list(self.tables),)).fetchone()
        assert row is not None
        return int(row[0])

    def _each_table(self, command: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for table in self.tables:
                conn.execute(sql.SQL(command).format(sql.Identifier(table)))

    def settle(self) -> None:
        """What autovacuum does to a table that has been around: visibility map, statistics."""
        self._each_table("VACUUM ANALYZE {}")

    def compact(self) -> None:
        self._each_table("VACUUM FULL {}")

    def copy_to(self, url: str) -> PostgresStore:
        """Replace the (empty) database at `url` with a copy of this one."""
        source, target = (str(conninfo_to_dict(u)["dbname"]) for u in (self.url, url))
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(target), sql.Identifier(source)
        )
        with psycopg.connect(with_dbname(self.url, "postgres"), autocommit=True) as admin:
            admin.execute(drop)
            for attempt in range(50):  # an autovacuum worker may still be in the template
                try:
                    admin.execute(create)
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 49:
                        raise
                    time.sleep(0.2)
        return PostgresStore(url)


# --- building ------------------------------------------------------------------------------


def same_rows_check(store: Store, saver: Any, sizes: Sizes) -> str:
    """One thread through the public API, the same steps batched: identical rows but for
    thread_id and created_at. Both are deleted afterwards."""
    thread = list(islice(steps(saver, sizes.checkpoints), sizes.checkpoints))
    put_one_by_one(saver, "check-api", thread)
    for step in thread:  # the same versions again, as if get_next_version handed them out
        for version in step.new_versions.values():
            saver._deltas.issued(str(version))
    saver._run(thread_plan(saver._ctx, saver._deltas, "check-batched", thread), WRITE)
    d = store.dialect
    queries = {
        "checkpoints": f"SELECT namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
        f"type, checkpoint, blob_versions, metadata, run_id FROM {d.checkpoints} "
        "WHERE thread_id = ? ORDER BY checkpoint_id",
        "blobs": f"SELECT namespace, checkpoint_ns, channel, version, format, type, data "
        f"FROM {d.blobs} WHERE thread_id = ? ORDER BY channel, version",
        "writes": f"SELECT namespace, checkpoint_ns, checkpoint_id, task_id, idx, task_path, "
        f"channel, type, data FROM {d.writes} WHERE thread_id = ? "
        "ORDER BY checkpoint_id, task_id, idx",
    }
    n = sizes.checkpoints
    expected = {"checkpoints": n, "blobs": 2 * n + 1, "writes": n}
    problems = []
    for table, query in queries.items():
        api, batched = (store.rows(query, (tid,)) for tid in ("check-api", "check-batched"))
        if api != batched or len(api) != expected[table]:
            problems.append(f"{table}: {len(api)} rows by put, {len(batched)} batched")
    for tid in ("check-api", "check-batched"):
        saver.delete_thread(tid)
    return "; ".join(problems) or "identical"


def build(store: Store, sizes: Sizes) -> dict[str, Any]:
    with store.saver() as saver:
        check = same_rows_check(store, saver, sizes)
        print(
            f"  {store.name}: building {sizes.threads} x {sizes.checkpoints} ...",
            file=sys.stderr,
            flush=True,
        )
        started = time.perf_counter()
        for i in range(sizes.threads):
            thread = islice(steps(saver, sizes.checkpoints), sizes.checkpoints)
            plan = thread_plan(saver._ctx, saver._deltas, thread_name(i), list(thread))
            saver._run(plan, WRITE)
        seconds = time.perf_counter() - started
    store.settle()
    return {"seconds": seconds, "same_rows_as_put": check}


# --- cleanup, alone and beside a writer ----------------------------------------------------


@dataclass
class Writer:
    """Puts checkpoints to one thread in a tight loop on its own saver, until stopped."""

    store: Store
    cap: int
    log: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)
    stop: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.store.saver(namespace=WRITER_NAMESPACE) as saver:
                for s in steps(saver, self.cap):
                    config = config_of("writer", s.parent_id)
                    start = time.perf_counter()
                    saver.put(config, s.checkpoint, s.metadata, s.new_versions)
                    if self.ready.is_set():  # the first put (setup, first statements) is not timed
                        self.log.append((start, time.perf_counter() - start))
                    self.ready.set()
                    if self.stop.is_set():
                        break
        except BaseException as exc:  # re-raised by the main thread
            self.error = exc
            self.ready.set()


def latencies(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"puts": 0, "median": math.nan, "p99": math.nan, "max": math.nan}
    ordered = sorted(seconds)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "puts": len(ordered),
        "median": statistics.median(ordered),
        "p99": p99,
        "max": ordered[-1],
    }


def samples_of(sizes: Sizes) -> list[str]:
    picks = {
        round(k * (sizes.threads - 1) / max(1, sizes.samples - 1)) for k in range(sizes.samples)
    }
    return [thread_name(i) for i in sorted(picks)]


def latest(saver: Any, thread_ids: list[str]) -> dict[str, CheckpointTuple | None]:
    return {tid: saver.get_tuple(config_of(tid, None)) for tid in thread_ids}


def verify(
    store: Store,
    saver: Any,
    sizes: Sizes,
    report: CleanupReport,
    before: dict[str, CheckpointTuple | None],
) -> list[str]:
    """What must hold after cleanup; returns the problems found."""
    d, n, problems = store.dialect, sizes.checkpoints, []
    counts = store.rows(
        f"SELECT thread_id, COUNT(*) FROM {d.checkpoints} WHERE namespace = ? GROUP BY thread_id",
        ("",),
    )
    wrong = [(tid, int(c)) for tid, c in counts if int(c) != KEEP]
    if len(counts) != sizes.threads or wrong:
        problems.append(f"{len(counts)} threads, {len(wrong)} without exactly {KEEP}: {wrong[:3]}")
    writes = store.rows(f"SELECT COUNT(*) FROM {d.writes} WHERE namespace = ?", ("",))
    if int(writes[0][0]) != sizes.threads * KEEP:
        problems.append(f"{d.writes}: {writes[0][0]} rows, expected {sizes.threads * KEEP}")
    # Blobs: every one left is needed by a kept checkpoint (a kept delta keeps its chain).
    blobs = store.rows(f"SELECT COUNT(*) FROM {d.blobs} WHERE namespace = ?", ("",))
    gone = sizes.threads * (2 * n + 1) - int(blobs[0][0])
    for tid in before:
        stored = store.rows(
            f"SELECT checkpoint_ns, channel, version, base FROM {d.blobs} "
            "WHERE namespace = ? AND thread_id = ?",
            ("", tid),
        )
        kept_nodes = [
            lineage.Node(
                "",
                t.config["configurable"]["checkpoint_id"],
                None,
                {k: str(v) for k, v in t.checkpoint["channel_versions"].items()},
                frozenset(),
            )
            for t in saver.list(config_of(tid, None))
        ]
        if lineage.garbage_blobs(kept_nodes, stored):
            problems.append(f"{tid}: blobs no kept checkpoint needs were left")
    dropped = sizes.threads * (n - KEEP)
    for name, want in (("checkpoints", dropped), ("writes", dropped), ("blobs", gone)):
        got = getattr(report, f"{name}_deleted")
        if got != want:
            problems.append(f"report: {got} {name} deleted, expected {want}")
    after = latest(saver, list(before))
    for tid, tup in before.items():
        if tup is None or after[tid] != tup:
            problems.append(f"{tid}: latest checkpoint differs after cleanup")
        kept = list(saver.list(config_of(tid, None)))
        steps_kept = [t.metadata["step"] for t in kept]
        if steps_kept != list(range(n - 1, n - 1 - KEEP, -1)):
            problems.append(f"{tid}: kept steps {steps_kept}")
        for t in kept:
            step = t.metadata["step"]
            if t.checkpoint["channel_values"] != values_at(step, n):
                problems.append(f"{tid}: step {step} loads other values")
            if [w[1:] for w in t.pending_writes or []] != [("counter", step + 1)]:
                problems.append(f"{tid}: step {step} loads other writes")
    return problems


@dataclass
class Run:
    """One cleanup call: its report, when it began, and when each batch committed."""

    report: CleanupReport
    began: float
    ended: float
    commits: list[float]

    @property
    def seconds(self) -> float:
        return self.ended - self.began

    def longest_batch(self) -> float:
        """The longest time between two commits (the first from the start: with the read of
        the first page of candidates)."""
        marks = [self.began, *self.commits]
        return max(b - a for a, b in zip(marks, marks[1:], strict=False))

    def numbers(self) -> dict[str, Any]:
        return {
            "report": self.report.as_dict(),
            "seconds": self.seconds,
            "rate": self.report.checkpoints_deleted / self.seconds,
            "longest_batch": self.longest_batch(),
        }


def cleanup(saver: Any) -> Run:
    """cleanup(RetentionPolicy(keep_last=KEEP)) with the default batch_size, timed."""
    commits: list[float] = []
    began = time.perf_counter()
    report = saver.cleanup(
        RetentionPolicy(keep_last=KEEP), progress=lambda _: commits.append(time.perf_counter())
    )
    return Run(report, began, time.perf_counter(), commits)


def cleanup_alone(store: SqliteStore | PostgresStore, sizes: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {"bytes_before": store.size()}
    if isinstance(store, SqliteStore):
        out["free_pages_before"] = store.free_pages()
    with store.saver() as saver:
        before = latest(saver, samples_of(sizes))
        print(f"  {store.name}: cleanup, alone ...", file=sys.stderr, flush=True)
        run = cleanup(saver)
        out["problems"] = verify(store, saver, sizes, run.report, before)
    out.update(run.numbers())
    out["bytes_after"] = store.size()
    if isinstance(store, SqliteStore):
        out["free_pages_after"] = store.free_pages()
    store.compact()
    out["bytes_compacted"] = store.size()
    return out


def cleanup_beside_writer(store: Store, sizes: Sizes) -> dict[str, Any]:
    writer = Writer(store, sizes.checkpoints)
    thread = threading.Thread(target=writer.run, name="bench-writer")
    run: Run | None = None
    with store.saver() as saver:
        before = latest(saver, samples_of(sizes))
        thread.start()
        try:
            writer.ready.wait()
            if writer.error is None:
                time.sleep(sizes.baseline_seconds)
                print(f"  {store.name}: cleanup, beside a writer ...", file=sys.stderr, flush=True)
                run = cleanup(saver)
        finally:
            writer.stop.set()
            thread.join()
        if writer.error is not None:
            raise writer.error
        assert run is not None
        problems = verify(store, saver, sizes, run.report, before)
    baseline = [dt for start, dt in writer.log if start + dt <= run.began]
    during = [
        (start, dt) for start, dt in writer.log if start + dt > run.began and start < run.ended
    ]
    start, longest = max(during, key=lambda put: put[1], default=(run.began, 0.0))
    return {
        **run.numbers(),
        "baseline_seconds": run.began - writer.log[0][0] if writer.log else 0.0,
        "writer_baseline": latencies(baseline),
        "writer_during": latencies([dt for _, dt in during]),
        # how many batches committed while the longest put waited
        "commits_in_longest_put": sum(start < t < start + longest for t in run.commits),
        "problems": problems,
    }


def measure(store: SqliteStore | PostgresStore, twin: Any, sizes: Sizes) -> dict[str, Any]:
    """Build in `store`, copy it to `twin` (a path or a URL), clean both."""
    result = {"build": build(store, sizes)}
    copy = store.copy_to(twin)
    result["alone"] = cleanup_alone(store, sizes)
    result["beside_writer"] = cleanup_beside_writer(copy, sizes)
    return result


# --- the run -------------------------------------------------------------------------------


def ms(value: float) -> str:
    return "-" if math.isnan(value) else fmt(value, "s")


def table_rows(results: dict[str, dict[str, Any]], sizes: Sizes) -> list[tuple[str, ...]]:
    def row(label: str, cell: Any, goal: str = "") -> tuple[str, ...]:
        return (label, *(cell(r) for r in results.values()), goal)

    total = sizes.threads * sizes.checkpoints
    compacted = " / ".join(dict.fromkeys(r["compact_label"] for r in results.values()))
    rows = [
        row(
            f"build: {total:,} checkpoints, batched puts", lambda r: fmt(r["build"]["seconds"], "s")
        ),
        row("cleanup, alone", lambda r: fmt(r["alone"]["seconds"], "s")),
        row("  checkpoints deleted", lambda r: f"{r['alone']['report']['checkpoints_deleted']:,}"),
        row("  writes deleted", lambda r: f"{r['alone']['report']['writes_deleted']:,}"),
        row("  blobs deleted", lambda r: f"{r['alone']['report']['blobs_deleted']:,}"),
        row("  batches", lambda r: f"{r['alone']['report']['batches']:,}"),
        row("  longest batch", lambda r: ms(r["alone"]["longest_batch"])),
        row(
            "  checkpoints deleted/s",
            lambda r: f"{r['alone']['rate']:,.0f}/s",
            f">= {GOAL:,}/s (SQLite)",
        ),
        row("bytes before", lambda r: fmt(r["alone"]["bytes_before"], "B")),
        row("bytes after cleanup", lambda r: fmt(r["alone"]["bytes_after"], "B")),
        row(f"bytes after {compacted}", lambda r: fmt(r["alone"]["bytes_compacted"], "B")),
        row("cleanup, beside a writer", lambda r: fmt(r["beside_writer"]["seconds"], "s")),
        row("  checkpoints deleted/s", lambda r: f"{r['beside_writer']['rate']:,.0f}/s"),
        row("  longest batch", lambda r: ms(r["beside_writer"]["longest_batch"])),
    ]
    for key, when in (("writer_baseline", "no cleanup"), ("writer_during", "during cleanup")):
        rows.append(
            row(f"writer put, {when}: puts", lambda r, k=key: f"{r['beside_writer'][k]['puts']:,}")
        )
        for stat in ("median", "p99", "max"):
            rows.append(row(f"  {stat}", lambda r, k=key, s=stat: ms(r["beside_writer"][k][s])))
    return rows


def report(results: dict[str, dict[str, Any]], sizes: Sizes) -> list[Metric]:
    head = f"{'':{WIDTH}}" + "".join(f"{name:>{COLUMN}}" for name in results) + "  goal"
    print(head)
    print("-" * len(head))
    for label, *cells, goal in table_rows(results, sizes):
        print(f"{label:{WIDTH}}" + "".join(f"{c:>{COLUMN}}" for c in cells) + f"  {goal}")
    print()
    for name, r in results.items():
        print(
            f"{name}: batched build vs put/put_writes one by one: {r['build']['same_rows_as_put']}"
        )
        for part in ("alone", "beside_writer"):
            problems = r[part]["problems"]
            state = "ok" if not problems else "PROBLEMS: " + "; ".join(problems[:5])
            print(
                f"{name}: after cleanup {part.replace('_', ' ')}: {sizes.threads} threads x {KEEP} "
                f"checkpoints, {sizes.samples} sampled threads load as before: {state}"
            )
        alone = r["alone"]
        if "free_pages_after" in alone:
            print(
                f"{name}: free pages {alone['free_pages_before']:,} before, "
                f"{alone['free_pages_after']:,} after cleanup: the file shrinks only with VACUUM"
            )
        else:
            print(
                f"{name}: deleted rows stay as dead tuples until VACUUM makes their space "
                "reusable; only VACUUM FULL gives it back"
            )
        base = r["beside_writer"]
        print(
            f"{name}: the writer put {base['writer_baseline']['puts']:,} times in "
            f"{base['baseline_seconds']:.1f} s alone, {base['writer_during']['puts']:,} times "
            f"in the {base['seconds']:.2f} s of cleanup; its longest put waited while "
            f"{base['commits_in_longest_put']} of the {base['report']['batches']} batches "
            "committed"
        )
    sqlite_rate = results["SQLite"]["alone"]["rate"]
    label = f"SQLite cleanup: {sqlite_rate:,.0f} checkpoints deleted/s vs the {GOAL:,}/s goal"
    metrics = [Metric(label, GOAL, sqlite_rate, RATE, "x1")]
    print()
    print_verdicts(metrics)
    return metrics


def run(quick: bool = False) -> dict[str, Any]:
    """Both backends: prints the table, returns the numbers for --json."""
    sizes = QUICK if quick else FULL
    url = server_url()
    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    print(
        f"{header('psycopg')}, SQLite {sqlite3.sqlite_version}, PostgreSQL {server}, "
        f"saver at {git_revision()}\n"
        f"{sizes.threads} threads x {sizes.checkpoints} checkpoints, "
        f"cleanup(RetentionPolicy(keep_last={KEEP})), default batch_size\n",
        flush=True,
    )
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="saver-bench-retention-") as tmp:
        store = SqliteStore(Path(tmp) / "alone.sqlite")
        results["SQLite"] = measure(store, Path(tmp) / "beside.sqlite", sizes)
        results["SQLite"]["compact_label"] = SqliteStore.compact_label
    with fresh_databases(url, ["alone", "live"]) as urls:
        pg = PostgresStore(urls["alone"])
        results["PostgreSQL"] = measure(pg, urls["live"], sizes)
        results["PostgreSQL"]["compact_label"] = PostgresStore.compact_label
    seconds = round(time.perf_counter() - started, 1)
    metrics = report(results, sizes)
    print(f"\n(ran in {seconds} s)")
    info = {"sizes": asdict(sizes), "keep_last": KEEP, "seconds": seconds, "results": results}
    return json_payload(metrics, info)
