"""Ours against LangGraph's savers on the same chat graph, in one run, as ratios.

    scripts/bench [--backend sqlite|postgres|retention|all] [--turns N] [--quick] [--json PATH]
                  [--same-sync]
    scripts/bench --scale [--backend sqlite|postgres|all] [--levels 1000,100000,1000000]

SQLite: each saver gets its own fresh file in a temp dir. Both run the same chat turn by turn and
every timed operation alternates between them, so a noisy machine slows both alike.
`--backend postgres` (or the default, `all`) also runs scripts/bench_postgres.py, and
`--backend retention` (or `all`) scripts/bench_retention.py: cleanup on both databases.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from scripts.bench_graphs import (
    TimedLangGraphSaver,
    TimedOurSaver,
    chat_graph,
    expected_checkpoints,
    user_input,
)

THREAD: RunnableConfig = {"configurable": {"thread_id": "chat"}}
LIST_GOAL = 5.0  # ours must list the history at least this many times faster
LIST_X = f"x{LIST_GOAL:g}"
TIE = 0.05  # a ratio this close to 1 is noise on a small, busy machine
Stat = Callable[[list[float]], float]
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
RATE = "turns/s"


@dataclass
class Side:
    name: str
    saver: Any  # a PutTimer saver: TimedLangGraphSaver, TimedOurSaver, ...
    graph: CompiledStateGraph
    path: Path | None = None  # the SQLite file
    chat_seconds: float = 0.0


@dataclass
class Metric:
    label: str
    theirs: float
    ours: float
    unit: str  # "s", "B", or RATE (higher is better)
    # "x5": ours >= 5x better (faster, smaller, or more per second); "le": ours <= theirs
    goal: str | None = None

    @classmethod
    def of(cls, label: str, pair: Sequence[float], unit: str, goal: str | None = None) -> Metric:
        theirs, ours = pair
        return cls(label, theirs, ours, unit, goal)

    def gain(self) -> float:
        """How many times better ours is: faster, smaller, or more per second."""
        return self.ours / self.theirs if self.unit == RATE else self.theirs / self.ours

    def times(self) -> float | None:
        """N of an "xN" goal."""
        return float(self.goal[1:]) if self.goal and self.goal.startswith("x") else None

    def better(self) -> str:
        return "faster" if self.unit == "s" else "better"

    def goal_text(self) -> str:
        if self.goal == "le":
            return "ours <= theirs"
        times = self.times()
        return f">= {times:g}x {self.better()}" if times else ""


def fmt(value: float, unit: str) -> str:
    if unit == RATE:
        return f"{value:.1f}/s"
    if unit == "B":
        return f"{value / 1e6:.2f} MB"
    if value >= 1:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.0f} us"


def interleaved(
    sides: list[Side], reps: int, fn: Callable[[Side], object], stat: Stat = statistics.median
) -> list[float]:
    """`stat` of the seconds `fn` takes, per side in order; which side goes first alternates."""
    times: dict[str, list[float]] = {s.name: [] for s in sides}
    gc.collect()
    for rep in range(reps):
        for side in sides if rep % 2 == 0 else sides[::-1]:
            start = time.perf_counter()
            fn(side)
            times[side.name].append(time.perf_counter() - start)
    return [stat(times[s.name]) for s in sides]


def run_chat(sides: list[Side], turns: int, first: int = 1) -> None:
    """The same chat on both graphs, turn by turn (`first` to `turns`), alternating which goes
    first."""
    for turn in range(first, turns + 1):
        for side in sides if turn % 2 else sides[::-1]:
            side.saver.turn = turn
            start = time.perf_counter()
            side.graph.invoke(user_input(turn), THREAD)
            side.chat_seconds += time.perf_counter() - start
        if turn % 50 == 0:
            print(f"  chat: turn {turn}/{turns}", file=sys.stderr, flush=True)


def disk_bytes(path: Path) -> int:
    """File plus -wal, after moving the WAL into the file so both savers compare alike."""
    with closing(sqlite3.connect(path)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        print(f"  warning: WAL checkpoint of {path.name} was blocked", file=sys.stderr)
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def pragmas(conn: sqlite3.Connection) -> str:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = conn.execute("PRAGMA synchronous").fetchone()[0]
    return f"journal_mode={mode} synchronous={SYNCHRONOUS.get(sync, sync)}"


def put_metrics(sides: list[Side], turns: int) -> list[Metric]:
    """Median put near turn 10 and over the last 5 turns, from each saver's put_log."""
    early = min(10, turns)
    metrics = []
    for window in (
        range(max(1, early - 2), min(turns, early + 2) + 1),
        range(max(1, turns - 4), turns + 1),
    ):
        label = f"put, median at turns {window.start}-{window.stop - 1}"
        puts = [statistics.median(dt for t, dt in s.saver.put_log if t in window) for s in sides]
        metrics.append(Metric.of(label, puts, "s", "le"))
    return metrics


def chat_metrics(sides: list[Side], turns: int, info: dict[str, Any]) -> list[Metric]:
    print(f"chat: {turns} turns on both savers ...", file=sys.stderr, flush=True)
    run_chat(sides, turns)
    metrics = put_metrics(sides, turns)
    chats = [s.chat_seconds for s in sides]
    metrics.append(Metric.of(f"chat, {turns} x graph.invoke", chats, "s"))
    sizes = [disk_bytes(s.path) for s in sides if s.path is not None]
    metrics.append(Metric.of("bytes on disk (file + wal)", sizes, "B"))
    info["pragmas"] = {s.name: pragmas(s.saver.conn) for s in sides}
    return metrics


def read_metrics(
    sides: list[Side], list_reps: int, get_reps: int, info: dict[str, Any]
) -> list[Metric]:
    histories = [list(s.saver.list(THREAD)) for s in sides]
    n = len(histories[1])
    if len(histories[0]) != n:
        raise SystemExit(f"the savers disagree on the history length: {len(histories[0])}, {n}")
    final = [[m.content for m in s.graph.get_state(THREAD).values["messages"]] for s in sides]
    info.update(checkpoints=n, messages=len(final[1]), same_final_messages=final[0] == final[1])

    print(f"list: {n} checkpoints x {list_reps} ...", file=sys.stderr, flush=True)
    # A few slow reps: the best of them is the least disturbed by whatever else the machine runs.
    listed = interleaved(sides, list_reps, lambda s: list(s.saver.list(THREAD)), min)
    history = interleaved(sides, list_reps, lambda s: list(s.graph.get_state_history(THREAD)), min)
    print(f"get_tuple: x {get_reps} ...", file=sys.stderr, flush=True)
    latest = interleaved(sides, get_reps, lambda s: s.saver.get_tuple(THREAD))
    mid = {s.name: h[n // 2].config for s, h in zip(sides, histories, strict=True)}
    middle = interleaved(sides, get_reps, lambda s: s.saver.get_tuple(mid[s.name]))
    return [
        Metric.of(f"list(saver.list), {n} ckpts, best of {list_reps}", listed, "s", LIST_X),
        Metric.of(f"get_state_history, {n}, best of {list_reps}", history, "s", LIST_X),
        Metric.of(f"get_tuple latest, median of {get_reps}", latest, "s", "le"),
        Metric.of(f"get_tuple {n - n // 2} of {n}, median of {get_reps}", middle, "s", "le"),
    ]


def met(m: Metric) -> bool | None:
    if m.goal == "le":
        return m.ours <= m.theirs
    times = m.times()
    return None if times is None else m.gain() >= times


def print_table(metrics: list[Metric], width: int = 44) -> None:
    head = (
        f"{'':{width}} {'LangGraph':>11} {'ours':>11} {'ours/theirs':>12} {'theirs/ours':>12}  goal"
    )
    print(head)
    print("-" * len(head))
    for m in metrics:
        print(
            f"{m.label:{width}} {fmt(m.theirs, m.unit):>11} {fmt(m.ours, m.unit):>11} "
            f"{m.ours / m.theirs:>11.2f}x {m.theirs / m.ours:>11.2f}x  {m.goal_text()}"
        )


def print_verdicts(metrics: list[Metric]) -> None:
    for m in metrics:
        verdict = met(m)
        if verdict is None:
            continue
        ratio = m.ours / m.theirs
        if m.goal == "le":
            detail = f"ours/theirs {ratio:.2f}x (goal <= 1)"
        else:
            detail = f"ours {m.gain():.2f}x {m.better()} (goal >= {m.times():g}x)"
        if abs(ratio - 1) < TIE:
            detail += f", within {TIE:.0%}: a tie on this machine"
        print(f"{'MET    ' if verdict else 'NOT MET'}  {m.label}: {detail}")


def report(metrics: list[Metric], info: dict[str, Any]) -> None:
    print_table(metrics)
    n = info["checkpoints"]
    print(
        f"\n{n} checkpoints (expected {info['expected_checkpoints']}), "
        f"{info['messages']} messages, "
        f"same final messages: {'yes' if info['same_final_messages'] else 'NO'}"
    )
    for name, text in info["pragmas"].items():
        print(f"{name}: {text}")
    if n < 600:
        print(f"note: the list goal is for >= 600 checkpoints; this run has {n}")
    print()
    print_verdicts(metrics)


def header(*packages: str) -> str:
    names = ", ".join(f"{p} {version(p)}" for p in ("langgraph", *packages))
    return f"{names}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    """The SQLite comparison: prints its table, returns the numbers for --json."""
    turns = args.turns or (20 if args.quick else 200)
    list_reps, get_reps = (5, 50) if args.quick else (3, 200)
    print(f"{header('langgraph-checkpoint-sqlite')}, SQLite {sqlite3.sqlite_version}\n", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="saver-bench-") as tmp, ExitStack() as stack:
        sides = []
        for name, cls in (("LangGraph", TimedLangGraphSaver), ("ours", TimedOurSaver)):
            path = Path(tmp) / f"{name.lower()}.sqlite"
            saver: Any = stack.enter_context(cls.from_conn_string(str(path)))
            if args.same_sync:
                saver.conn.execute("PRAGMA synchronous = NORMAL")
            sides.append(Side(name, saver, chat_graph(saver), path))
        info: dict[str, Any] = {"turns": turns, "same_sync": args.same_sync}
        info["expected_checkpoints"] = expected_checkpoints(turns)
        metrics = chat_metrics(sides, turns, info)
        metrics += read_metrics(sides, list_reps, get_reps, info)
    info["seconds"] = round(time.perf_counter() - started, 1)
    report(metrics, info)
    print(f"\n(ran in {info['seconds']} s)")
    return json_payload(metrics, info)


def json_payload(metrics: list[Metric], info: dict[str, Any]) -> dict[str, Any]:
    rows = [{**vars(m), "ours_over_theirs": m.ours / m.theirs, "met": met(m)} for m in metrics]
    return {"info": info, "metrics": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    backends = ("sqlite", "postgres", "retention", "storage", "all")
    parser.add_argument("--backend", choices=backends, default="all", help="default: all")
    parser.add_argument("--turns", type=int, help="SQLite: user turns in the chat (default 200)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    json_help = "also write the numbers here, as {backend: {info, metrics}}"
    parser.add_argument("--json", type=Path, metavar="PATH", help=json_help)
    plot_help = "storage: write the bytes-against-turns plot (PNG) here"
    parser.add_argument("--plot", type=Path, metavar="PATH", help=plot_help)
    scale_help = "cost at 10^3, 10^5, 10^6 checkpoints (scripts/bench_scale.py) instead"
    parser.add_argument("--scale", action="store_true", help=scale_help)
    levels_help = "--scale: comma-separated checkpoint counts (default 1000,100000,1000000)"
    parser.add_argument("--levels", help=levels_help)
    sync_help = "SQLite: give LangGraph's saver synchronous=NORMAL too: no fsync per put"
    parser.add_argument("--same-sync", action="store_true", help=sync_help)
    args = parser.parse_args(argv)
    if args.turns is not None and args.turns < 1:
        parser.error("--turns must be at least 1")
    out: dict[str, Any] = {}
    if args.scale:
        from scripts import bench_scale

        levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else None
        chosen = ("sqlite", "postgres") if args.backend == "all" else (args.backend,)
        if not set(chosen) <= {"sqlite", "postgres"}:
            parser.error("--scale runs on --backend sqlite, postgres or all")
        out["scale"] = bench_scale.run(chosen, levels or bench_scale.LEVELS)
        args.backend = "none"
    if args.backend in ("sqlite", "all"):
        print("=== SQLite ===", flush=True)
        out["sqlite"] = run_sqlite(args)
    if args.backend in ("postgres", "all"):
        from scripts import bench_postgres  # imports this module: load it only when needed

        print("\n=== PostgreSQL ===" if out else "=== PostgreSQL ===", flush=True)
        out["postgres"] = bench_postgres.run(quick=args.quick)
    if args.backend in ("retention", "all"):
        from scripts import bench_retention  # imports this module too

        print("\n=== Retention ===" if out else "=== Retention ===", flush=True)
        out["retention"] = bench_retention.run(quick=args.quick)
    if args.backend in ("storage", "all"):
        from scripts import bench_storage  # imports this module too

        print("\n=== Storage ===" if out else "=== Storage ===", flush=True)
        out["storage"] = bench_storage.run(args.turns or 200, args.quick, args.plot)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
