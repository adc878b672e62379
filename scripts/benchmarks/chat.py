"""SQLite: ours against LangGraph's SqliteSaver on the same chat graph, as ratios.

    scripts/bench --backend sqlite [--turns N] [--quick] [--json PATH] [--same-sync]

Each saver gets its own fresh file in a temp dir. Both run the same chat turn by turn and
every timed operation alternates between them, so a noisy machine slows both alike.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from scripts.benchmarks.common import (
    Metric,
    Side,
    disk_bytes,
    header,
    json_payload,
    print_table,
    print_verdicts,
    put_metrics,
    read_metrics,
    run_chat,
)
from scripts.benchmarks.graphs import (
    TimedLangGraphSaver,
    TimedOurSaver,
    chat_graph,
    expected_checkpoints,
)

SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def pragmas(conn: sqlite3.Connection) -> str:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = conn.execute("PRAGMA synchronous").fetchone()[0]
    return f"journal_mode={mode} synchronous={SYNCHRONOUS.get(sync, sync)}"


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
