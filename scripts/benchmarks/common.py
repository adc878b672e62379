"""What every benchmark shares: the Metric a comparison row holds and how it prints (fmt,
print_table, print_verdicts, json_payload), the header line, the bytes of a SQLite file, the
git revision of saver/, and the turn-by-turn chat on two savers that chat.py and postgres.py
time alike (Side, run_chat, interleaved, put_metrics, read_metrics)."""

from __future__ import annotations

import gc
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from scripts.benchmarks.graphs import user_input

THREAD: RunnableConfig = {"configurable": {"thread_id": "chat"}}
LIST_GOAL = 5.0  # ours must list the history at least this many times faster
LIST_X = f"x{LIST_GOAL:g}"
TIE = 0.05  # a ratio this close to 1 is noise on a small, busy machine
Stat = Callable[[list[float]], float]
RATE = "turns/s"
ROOT = Path(__file__).resolve().parents[2]  # the repository: saver/ is measured from here


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


def header(*packages: str) -> str:
    names = ", ".join(f"{p} {version(p)}" for p in ("langgraph", *packages))
    return f"{names}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"


def json_payload(metrics: list[Metric], info: dict[str, Any]) -> dict[str, Any]:
    rows = [{**vars(m), "ours_over_theirs": m.ours / m.theirs, "met": met(m)} for m in metrics]
    return {"info": info, "metrics": rows}


def git_revision() -> str:
    """The commit the measured saver/ is at, "+dirty" if saver/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "saver"], cwd=ROOT, capture_output=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")
