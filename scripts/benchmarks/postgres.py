"""Ours against LangGraph's PostgresSaver and AsyncPostgresSaver on a real PostgreSQL, in one run.

    scripts/bench --backend postgres [--quick] [--json PATH]

The server is SAVER_BENCH_POSTGRES_URL, else the one the tests use (databases.server_url). Each
saver gets a fresh database (bench_lg_<hex>, bench_ours_<hex>), dropped at the end, so the bytes
are each saver's own tables. Three parts, all on the chat of graphs.py:

1. One chat, turn by turn, each saver on one connection (the sync classes): put latency, bytes
   after `size_turns` turns, then the full history of the 600+-checkpoint thread and get_tuple.
2. `TASKS` asyncio tasks x `task_turns` turns, each its own thread_id, on an
   AsyncConnectionPool of `POOL` per saver: turns per second. The model node only yields to the
   loop (`asyncio.sleep(0)`), so the savers are what differs; a second, labelled row gives the
   model `MODEL_SECONDS` of latency.
3. The same turns on `OS_THREADS` OS threads over a ConnectionPool of `POOL` (sync classes).

Bytes are pg_total_relation_size over each saver's three data tables (not its migrations
table), after a VACUUM. Like the SQLite benchmark, every timed operation alternates which saver
goes first. To say where the time goes, the concurrent rows also report, per saver, the
process's CPU per turn, the average number of checkpoint calls in flight, how much of the wall
time LangGraph's instance-wide lock was held (it is swapped for an equivalent lock that keeps
count), and the same load on an InMemorySaver: what the graph and serde cost with no database.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres import PostgresSaver as LangGraphPostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver as LangGraphAsyncPostgresSaver
from langgraph.graph.state import CompiledStateGraph
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from saver import AsyncPostgresSaver, PostgresSaver
from scripts.benchmarks.common import (
    RATE,
    Metric,
    Side,
    git_revision,
    header,
    interleaved,
    json_payload,
    print_table,
    print_verdicts,
    put_metrics,
    read_metrics,
    run_chat,
)
from scripts.benchmarks.databases import fresh_databases, server_url
from scripts.benchmarks.graphs import (
    TimedLangGraphPostgres,
    TimedOurPostgres,
    async_chat_graph,
    chat_graph,
    expected_checkpoints,
    user_input,
)

POOL = 8
TASKS = 16
OS_THREADS = 8
MODEL_SECONDS = 0.02  # the labelled "realistic model latency" rows
THROUGHPUT_X = "x3"  # ours must finish at least this many times more turns per second
POOL_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
TABLES = {
    "LangGraph": ("checkpoints", "checkpoint_blobs", "checkpoint_writes"),
    "ours": ("history_checkpoints", "history_blobs", "history_writes"),
}
WIDTH = 46


@dataclass(frozen=True)
class Sizes:
    size_turns: int  # bytes are measured after this many turns of the one chat
    history_turns: int  # the chat then goes on to this many (170 turns make 622 checkpoints)
    list_reps: int
    get_reps: int
    task_turns: int  # turns per thread_id in the concurrent parts
    reps: int  # concurrent runs per saver and row; the median counts
    latency_rows: bool


FULL = Sizes(100, 170, 3, 200, 15, 3, True)
QUICK = Sizes(20, 40, 3, 50, 15, 1, False)


# --- instrumented savers -------------------------------------------------------------------


class CallTimer:
    """Mixin: logs the seconds of every checkpoint call a graph run makes (both kinds; a class
    calls one kind only here), so a run can tell how many calls were in flight on average."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_log: list[float] = []  # list.append is atomic: safe from many threads

    @contextmanager
    def _timed(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.call_log.append(time.perf_counter() - start)

    def get_tuple(self, config: RunnableConfig) -> Any:
        with self._timed():
            return super().get_tuple(config)  # type: ignore[misc]

    def put(self, *args: Any, **kwargs: Any) -> Any:
        with self._timed():
            return super().put(*args, **kwargs)  # type: ignore[misc]

    def put_writes(self, *args: Any, **kwargs: Any) -> Any:
        with self._timed():
            return super().put_writes(*args, **kwargs)  # type: ignore[misc]

    async def aget_tuple(self, config: RunnableConfig) -> Any:
        with self._timed():
            return await super().aget_tuple(config)  # type: ignore[misc]

    async def aput(self, *args: Any, **kwargs: Any) -> Any:
        with self._timed():
            return await super().aput(*args, **kwargs)  # type: ignore[misc]

    async def aput_writes(self, *args: Any, **kwargs: Any) -> Any:
        with self._timed():
            return await super().aput_writes(*args, **kwargs)  # type: ignore[misc]


class CountedLangGraphPostgres(CallTimer, LangGraphPostgresSaver):
    pass


class CountedLangGraphAsyncPostgres(CallTimer, LangGraphAsyncPostgresSaver):
    pass


class CountedOurPostgres(CallTimer, PostgresSaver):
    pass


class CountedOurAsyncPostgres(CallTimer, AsyncPostgresSaver):
    pass


class HeldAsyncLock(asyncio.Lock):
    """Stands in for LangGraph's instance-wide asyncio.Lock and sums how long it is held."""

    def __init__(self) -> None:
        super().__init__()
        self.held = 0.0
        self._since = 0.0

    async def acquire(self) -> Literal[True]:
        await super().acquire()
        self._since = time.perf_counter()
        return True

    def release(self) -> None:
        self.held += time.perf_counter() - self._since
        super().release()


class HeldLock:
    """Stands in for LangGraph's instance-wide threading.Lock and sums how long it is held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held = 0.0
        self._since = 0.0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._since = time.perf_counter()
        return got

    def release(self) -> None:
        self.held += time.perf_counter() - self._since
        self._lock.release()

    def __enter__(self) -> HeldLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- databases -----------------------------------------------------------------------------


def table_bytes(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """pg_total_relation_size (heap, TOAST, indexes, maps) per table, after a VACUUM so both
    databases are in the same state whatever autovacuum did or did not get to."""
    with psycopg.connect(url, autocommit=True) as conn:
        out = {}
        for table in tables:
            conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))
            row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()
            assert row is not None
            out[table] = int(row[0])
        return out


def count_checkpoints(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(row.fetchone()[0])  # type: ignore[index]


# --- part 1: one chat, its size and its history ---------------------------------------------


def sequential_part(urls: dict[str, str], sizes: Sizes, info: dict[str, Any]) -> list[Metric]:
    with ExitStack() as stack:
        sides = []
        for name, cls in (("LangGraph", TimedLangGraphPostgres), ("ours", TimedOurPostgres)):
            saver: Any = stack.enter_context(cls.from_conn_string(urls[name]))
            saver.setup()
            sides.append(Side(name, saver, chat_graph(saver)))
        n = sizes.size_turns
        print(f"chat: {n} turns on both savers ...", file=sys.stderr, flush=True)
        run_chat(sides, n)
        by_table = {s.name: table_bytes(urls[s.name], TABLES[s.name]) for s in sides}
        info["bytes_by_table"] = by_table
        total = [sum(by_table[s.name].values()) for s in sides]
        metrics = [Metric.of(f"bytes after a {n}-turn chat (VACUUMed)", total, "B")]
        turns = sizes.history_turns
        print(f"chat: turns {n + 1}-{turns} ...", file=sys.stderr, flush=True)
        run_chat(sides, turns, first=n + 1)
        metrics += put_metrics(sides, turns)
        chats = [s.chat_seconds for s in sides]
        metrics.append(Metric.of(f"chat, {turns} x invoke, one connection", chats, "s"))
        info.update(turns=turns, expected_checkpoints=expected_checkpoints(turns))
        metrics += read_metrics(sides, sizes.list_reps, sizes.get_reps, info)
    return metrics


# --- parts 2 and 3: many threads at once ---------------------------------------------------

Work = Callable[[Side, list[str], int], None]  # (side, thread_ids, turns each): runs them all


@dataclass
class Row:
    """One concurrent row: its metric, and per saver what each rep cost besides wall time."""

    key: str  # goes into the thread_ids
    metric: Metric
    turns: int  # per run
    # per saver:
    cpu: dict[str, list[float]] = field(default_factory=dict)  # process CPU s, all threads
    in_calls: dict[str, list[float]] = field(default_factory=dict)  # s inside checkpoint calls
    held: dict[str, list[float]] = field(default_factory=dict)  # s LangGraph's lock was held
    walls: dict[str, float] = field(default_factory=dict)  # median wall seconds
    ceiling: tuple[float, float] | None = None  # InMemorySaver: turns/s, CPU seconds per turn

    def diagnosis(self) -> list[str]:
        lines = []
        for name, wall in self.walls.items():
            cpu = statistics.median(self.cpu[name])
            flight = statistics.median(self.in_calls[name]) / wall
            text = (
                f"{name:9} CPU {cpu / self.turns * 1e3:.2f} ms/turn = {cpu / wall:.0%} of wall, "
                f"{flight:.1f} checkpoint calls in flight"
            )
            if self.held[name]:
                text += f", lock held {statistics.median(self.held[name]) / wall:.0%} of wall"
            lines.append(text)
        if self.ceiling:
            rate, cpu_turn = self.ceiling
            extra = statistics.median(self.cpu["ours"]) / self.turns - cpu_turn
            lines.append(
                f"{'no DB':9} InMemorySaver (graph + serde, no database): {rate:.1f} turns/s "
                f"= {rate / self.metric.theirs:.2f}x LangGraph's, CPU {cpu_turn * 1e3:.2f} ms/turn"
            )
            lines.append(
                f"{'':9} so ours' database calls cost {extra * 1e3:.2f} ms of CPU per turn"
            )
        return [f"  {self.key:18} {line}" for line in lines]


def concurrent_row(
    key: str,
    label: str,
    sides: list[Side],
    locks: dict[str, HeldAsyncLock | HeldLock],
    sizes: Sizes,
    work: Work,
    goal: str | None,
    expected: dict[str, int],
    ceiling: Side | None = None,
) -> Row:
    """`reps` runs of `TASKS` thread_ids x `turns` per saver, after an untimed warm-up turn;
    then, if given, the same runs on `ceiling` (an InMemorySaver: what the graph alone costs)."""
    names = [s.name for s in sides]
    reps, turns = sizes.reps, sizes.task_turns
    row = Row(key, Metric(label, 0, 0, RATE, goal), TASKS * turns)
    for stats in (row.cpu, row.in_calls, row.held):
        stats.update((name, []) for name in names)
    runs = dict.fromkeys(names, 0)

    def load(side: Side, ids: list[str], each: int) -> None:
        expected[side.name] += len(ids) * expected_checkpoints(each)
        work(side, ids, each)

    for side in sides:  # connections open and first-call costs paid before the clock runs
        load(side, [f"{key}-warm-up"], 1)

    def once(side: Side) -> None:
        runs[side.name] += 1
        ids = [f"{key}-{runs[side.name]}-{task}" for task in range(TASKS)]
        lock = locks.get(side.name)
        cpu, calls = time.process_time(), sum(side.saver.call_log)
        held = lock.held if lock is not None else 0.0
        load(side, ids, turns)
        row.cpu[side.name].append(time.process_time() - cpu)
        row.in_calls[side.name].append(sum(side.saver.call_log) - calls)
        if lock is not None:
            row.held[side.name].append(lock.held - held)

    print(f"{label} x {reps} ...", file=sys.stderr, flush=True)
    walls = interleaved(sides, reps, once)
    row.walls = dict(zip(names, walls, strict=True))
    row.metric.theirs, row.metric.ours = (TASKS * turns / w for w in walls)
    if ceiling is not None:
        work(ceiling, [f"{key}-warm-up"], 1)
        runs_mem: list[tuple[float, float]] = []
        for rep_no in range(reps):
            ids = [f"{key}-mem-{rep_no}-{task}" for task in range(TASKS)]
            cpu, start = time.process_time(), time.perf_counter()
            work(ceiling, ids, turns)
            wall = time.perf_counter() - start
            runs_mem.append((row.turns / wall, (time.process_time() - cpu) / row.turns))
        row.ceiling = sorted(runs_mem)[len(runs_mem) // 2]
    return row


async def async_load(graph: Any, ids: list[str], turns: int) -> None:
    async def chat(thread_id: str) -> None:
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        for turn in range(1, turns + 1):
            await graph.ainvoke(user_input(turn), config)

    await asyncio.gather(*(chat(t) for t in ids))


def threaded_load(graph: Any, ids: list[str], turns: int) -> None:
    """`OS_THREADS` threads, each taking its share of the thread_ids turn by turn."""

    def worker(mine: list[str]) -> None:
        for turn in range(1, turns + 1):
            for thread_id in mine:
                graph.invoke(user_input(turn), {"configurable": {"thread_id": thread_id}})

    groups = [ids[i::OS_THREADS] for i in range(min(OS_THREADS, len(ids)))]
    with ThreadPoolExecutor(len(groups), thread_name_prefix="bench") as pool:
        list(pool.map(worker, groups))  # list(): re-raises a worker's exception


def concurrent_rows(
    kind: str,
    savers: dict[str, Any],
    locks: dict[str, HeldAsyncLock | HeldLock],
    graph_of: Callable[[Any, float], CompiledStateGraph],
    work: Work,
    sizes: Sizes,
    expected: dict[str, int],
) -> list[Row]:
    """The goal row (a model that costs no time), and with `latency_rows` the same load with
    a model that sleeps `MODEL_SECONDS`; the goal row also runs on an InMemorySaver."""
    rows = []
    for seconds in [0.0, MODEL_SECONDS] if sizes.latency_rows else [0.0]:
        sides = [Side(name, saver, graph_of(saver, seconds)) for name, saver in savers.items()]
        if seconds:
            label = f"{kind}, as above, model sleeps {seconds * 1e3:g} ms"
            key, goal, ceiling = f"{kind} {seconds * 1e3:g}ms", None, None
        else:
            label = f"{kind}: {TASKS} x {sizes.task_turns} turns, pool {POOL}, turns/s"
            key, goal = kind, THROUGHPUT_X
            memory = InMemorySaver()
            ceiling = Side("no DB", memory, graph_of(memory, 0.0))
        key = key.replace(" ", "-")
        row = concurrent_row(key, label, sides, locks, sizes, work, goal, expected, ceiling)
        rows.append(row)
    return rows


def async_part(urls: dict[str, str], sizes: Sizes, expected: dict[str, int]) -> list[Row]:
    """Part 2: asyncio tasks on one event loop, an AsyncConnectionPool per saver."""
    loop = asyncio.new_event_loop()
    pools: dict[str, AsyncConnectionPool[Any]] = {}

    async def start() -> dict[str, Any]:
        for name, url in urls.items():
            pools[name] = AsyncConnectionPool(
                url, min_size=POOL, max_size=POOL, kwargs=POOL_KWARGS, open=False
            )
            await pools[name].open(wait=True, timeout=30)
        theirs = CountedLangGraphAsyncPostgres(pools["LangGraph"])
        theirs.lock = HeldAsyncLock()
        ours = CountedOurAsyncPostgres(pools["ours"])
        for saver in (theirs, ours):
            await saver.setup()
        return {"LangGraph": theirs, "ours": ours}

    def work(side: Side, ids: list[str], turns: int) -> None:
        loop.run_until_complete(async_load(side.graph, ids, turns))

    try:
        savers = loop.run_until_complete(start())
        locks: dict[str, HeldAsyncLock | HeldLock] = {"LangGraph": savers["LangGraph"].lock}
        return concurrent_rows(
            "asyncio tasks", savers, locks, async_chat_graph, work, sizes, expected
        )
    finally:
        for pool in pools.values():
            loop.run_until_complete(pool.close())
        loop.close()


def threaded_part(urls: dict[str, str], sizes: Sizes, expected: dict[str, int]) -> list[Row]:
    """Part 3: OS threads, the sync classes, a ConnectionPool per saver."""
    with ExitStack() as stack:
        pools = {}
        for name, url in urls.items():
            pool = ConnectionPool(url, min_size=POOL, max_size=POOL, kwargs=POOL_KWARGS, open=False)
            stack.callback(pool.close)
            pool.open(wait=True, timeout=30)
            pools[name] = pool
        theirs = CountedLangGraphPostgres(pools["LangGraph"])
        held = HeldLock()
        theirs.lock = held  # type: ignore[assignment]
        ours = CountedOurPostgres(pools["ours"])
        for saver in (theirs, ours):
            saver.setup()

        def work(side: Side, ids: list[str], turns: int) -> None:
            threaded_load(side.graph, ids, turns)

        savers = {"LangGraph": theirs, "ours": ours}
        kind = f"{OS_THREADS} OS threads"
        return concurrent_rows(kind, savers, {"LangGraph": held}, chat_graph, work, sizes, expected)


# --- the run -------------------------------------------------------------------------------


def run(quick: bool = False) -> dict[str, Any]:
    """The whole PostgreSQL comparison: prints its table, returns the numbers for --json."""
    sizes = QUICK if quick else FULL
    url = server_url()
    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    packages = ("langgraph-checkpoint-postgres", "psycopg", "psycopg-pool")
    revision = git_revision()
    print(f"{header(*packages)}, PostgreSQL {server}, saver at {revision}\n", flush=True)
    started = time.perf_counter()
    info: dict[str, Any] = {"sizes": vars(sizes), "tasks": TASKS, "pool": POOL}
    info["revision"] = revision
    info["os_threads"] = OS_THREADS
    with fresh_databases(url, list(TABLES)) as urls:
        history = sequential_part(urls, sizes, info)
        expected = dict.fromkeys(TABLES, expected_checkpoints(sizes.history_turns))
        rows = async_part(urls, sizes, expected)
        rows += threaded_part(urls, sizes, expected)
        stored = {name: count_checkpoints(urls[name], TABLES[name][0]) for name in TABLES}
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["checkpoints_stored"], info["checkpoints_expected"] = stored, expected
    info["concurrent"] = {
        r.key: {"cpu": r.cpu, "in_calls": r.in_calls, "held": r.held} for r in rows
    }
    metrics = [r.metric for r in rows] + history
    report(metrics, rows, info, sizes)
    return json_payload(metrics, info)


def report(metrics: list[Metric], rows: list[Row], info: dict[str, Any], sizes: Sizes) -> None:
    print_table(metrics, WIDTH)
    n = info["checkpoints"]
    print(
        f"\nhistory thread: {n} checkpoints (expected {info['expected_checkpoints']}), "
        f"{info['messages']} messages, same final messages: "
        f"{'yes' if info['same_final_messages'] else 'NO'}"
    )
    stored, expected = info["checkpoints_stored"], info["checkpoints_expected"]
    same = all(stored[k] == expected[k] for k in stored)
    print(
        f"checkpoints in each database at the end: LangGraph {stored['LangGraph']}, "
        f"ours {stored['ours']} (expected {expected['ours']}): {'ok' if same else 'MISMATCH'}"
    )
    for name, by_table in info["bytes_by_table"].items():
        tables = ", ".join(f"{t} {b / 1e6:.2f} MB" for t, b in by_table.items())
        print(f"bytes, {name}: {tables}")
    if n < 600:
        print(f"note: the list goal is for >= 600 checkpoints; this run has {n}")
    print(
        f"\nconcurrent rows: {TASKS} x {sizes.task_turns} turns / median wall of {sizes.reps} "
        "runs per saver (new thread_ids each run); per turn or run, medians:"
    )
    for row in rows:
        print("\n".join(row.diagnosis()))
    print()
    print_verdicts(metrics)
    print(f"\n(ran in {info['seconds']} s)")
