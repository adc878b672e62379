"""Storage of a growing conversation: ours (deltas) against LangGraph's SqliteSaver and
PostgresSaver on the same 200-turn chat (a tool call every 3rd turn), in one run.

    scripts/bench --backend storage [--turns N] [--quick] [--json PATH] [--plot PATH]

Five savers run the same chat turn by turn: LangGraph's SqliteSaver (a file), its
PostgresSaver (a fresh database), ours on SQLite, ours on SQLite with deltas off (every value
whole, as before), and ours on PostgreSQL. Every few turns the bytes on disk are sampled
(SQLite: file + WAL after a checkpoint; PostgreSQL: pg_total_relation_size of the tables). At
the end: the ratios the issue asks for, and a plot of bytes against turns (--plot).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from saver.core.deltas import DeltaTracker
from scripts.benchmarks.common import THREAD, disk_bytes, fmt, header
from scripts.benchmarks.databases import fresh_databases, server_url
from scripts.benchmarks.graphs import (
    TimedLangGraphPostgres,
    TimedLangGraphSaver,
    TimedOurPostgres,
    TimedOurSaver,
    chat_graph,
    expected_checkpoints,
    user_input,
)

SAMPLE_EVERY = 10  # turns between two measurements of bytes on disk
THEIR_PG_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations")
OUR_TABLES = ("history_checkpoints", "history_blobs", "history_writes", "history_migrations")
GOALS = {
    "ours / SqliteSaver, bytes": 0.02,
    "ours / PostgresSaver, bytes": 0.08,
    "ours SQLite, compression off / messages, bytes": 4.0,
    "ours SQLite / messages, bytes (compression on)": 2.0,
    "ours PostgreSQL / messages, bytes (compression on)": 2.0,
    "ours SQLite, put per turn at turns 192-200 / 7-15": 1.2,
    "ours PostgreSQL, put per turn at turns 192-200 / 7-15": 1.2,
    "ours SQLite, get_tuple latest, deltas / none": 1.5,
}


class WholeValues(TimedOurSaver):
    """Ours as before deltas: every changed value stored whole, uncompressed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deltas = DeltaTracker(max_links=0, compress=False)


def pg_bytes(url: str, tables: tuple[str, ...]) -> int:
    query = "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
    query += "WHERE c.relname = ANY(%s) AND c.relkind = 'r'"
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, (list(tables),)).fetchone()
    return int(row[0]) if row else 0


def put_ratio(saver: Any, turns: int) -> float:
    """Put time per turn (the sum of a turn's puts), median over the last 9 turns / over
    turns 7-15: both windows hold 3 tool turns, so they compare like with like."""
    per_turn: dict[int, float] = {}
    for turn, dt in saver.put_log:
        per_turn[turn] = per_turn.get(turn, 0.0) + dt
    late = [per_turn[t] for t in range(turns - 8, turns + 1)]
    early = [per_turn[t] for t in range(7, 16)]
    return statistics.median(late) / statistics.median(early)


def plot(samples: dict[str, list[tuple[int, int]]], path: Path, turns: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, points in samples.items():
        ax.plot([t for t, _ in points], [b / 1e6 for _, b in points], label=name, marker=".")
    ax.set_yscale("log")
    ax.set_xlabel("turns of the chat (a tool call every 3rd turn)")
    ax.set_ylabel("bytes on disk, MB (log scale)")
    ax.set_title(f"A {turns}-turn chat: storage against turns")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot: {path}", file=sys.stderr)


def run(turns: int = 200, quick: bool = False, plot_path: Path | None = None) -> dict[str, Any]:
    turns = 30 if quick else turns
    if turns < 24:
        raise SystemExit("--turns: at least 24 (the put ratio compares turns 7-15 with the last 9)")
    get_reps = 50 if quick else 200
    print(header("langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres"), flush=True)
    started = time.perf_counter()
    names = [
        "SqliteSaver",
        "PostgresSaver",
        "ours SQLite",
        "ours SQLite, no deltas",
        "ours SQLite, compression off",
        "ours PG",
    ]
    with tempfile.TemporaryDirectory(prefix="saver-storage-") as tmp, ExitStack() as stack:
        urls = stack.enter_context(fresh_databases(server_url(), ["theirs", "ours"]))
        paths = {n: Path(tmp) / f"{i}.sqlite" for i, n in enumerate(names)}
        savers: dict[str, Any] = {
            "SqliteSaver": stack.enter_context(
                TimedLangGraphSaver.from_conn_string(str(paths["SqliteSaver"]))
            ),
            "PostgresSaver": stack.enter_context(
                TimedLangGraphPostgres.from_conn_string(urls["theirs"])
            ),
            "ours SQLite": stack.enter_context(
                TimedOurSaver.from_conn_string(str(paths["ours SQLite"]))
            ),
            "ours SQLite, no deltas": stack.enter_context(
                WholeValues.from_conn_string(str(paths["ours SQLite, no deltas"]))
            ),
            "ours SQLite, compression off": stack.enter_context(
                TimedOurSaver.from_conn_string(
                    str(paths["ours SQLite, compression off"]), compress=False
                )
            ),
            "ours PG": stack.enter_context(TimedOurPostgres.from_conn_string(urls["ours"])),
        }
        for saver in savers.values():
            saver.setup()
        graphs = {n: chat_graph(s) for n, s in savers.items()}
        sizes = {
            "SqliteSaver": lambda: disk_bytes(paths["SqliteSaver"]),
            "PostgresSaver": lambda: pg_bytes(urls["theirs"], THEIR_PG_TABLES),
            "ours SQLite": lambda: disk_bytes(paths["ours SQLite"]),
            "ours PostgreSQL": lambda: pg_bytes(urls["ours"], OUR_TABLES),
        }
        samples: dict[str, list[tuple[int, int]]] = {n: [] for n in sizes}
        print(f"chat: {turns} turns on {len(names)} savers ...", file=sys.stderr, flush=True)
        for turn in range(1, turns + 1):
            for name in names if turn % 2 else names[::-1]:
                savers[name].turn = turn
                # durability="sync": each put finishes before the graph goes on, so its time
                # is the saver's own, not the GIL wait beside LangGraph's growing work
                graphs[name].invoke(user_input(turn), THREAD, durability="sync")
            if turn % SAMPLE_EVERY == 0 or turn in (1, turns):
                for name, size in sizes.items():
                    samples[name].append((turn, size()))
            if turn % 50 == 0:
                print(f"  chat: turn {turn}/{turns}", file=sys.stderr, flush=True)
        messages = graphs["ours SQLite"].get_state(THREAD).values["messages"]
        finals = [
            [m.content for m in g.get_state(THREAD).values["messages"]] for g in graphs.values()
        ]
        checkpoints = len(list(savers["ours SQLite"].list(THREAD)))
        serialized = len(JsonPlusSerializer().dumps_typed(messages)[1])
        final = {n: points[-1][1] for n, points in samples.items()}
        uncompressed = disk_bytes(paths["ours SQLite, compression off"])
        print(f"get_tuple: x {get_reps} ...", file=sys.stderr, flush=True)
        with_deltas, without = _get_tuples(savers, get_reps)
        ratios = {
            "ours / SqliteSaver, bytes": final["ours SQLite"] / final["SqliteSaver"],
            "ours / PostgresSaver, bytes": final["ours PostgreSQL"] / final["PostgresSaver"],
            "ours SQLite, compression off / messages, bytes": uncompressed / serialized,
            "ours SQLite / messages, bytes (compression on)": final["ours SQLite"] / serialized,
            "ours PostgreSQL / messages, bytes (compression on)": final["ours PostgreSQL"]
            / serialized,
            "ours SQLite, put per turn at turns 192-200 / 7-15": put_ratio(
                savers["ours SQLite"], turns
            ),
            "ours PostgreSQL, put per turn at turns 192-200 / 7-15": put_ratio(
                savers["ours PG"], turns
            ),
            "ours SQLite, get_tuple latest, deltas / none": with_deltas / without,
        }
        no_deltas = disk_bytes(paths["ours SQLite, no deltas"])
    info: dict[str, Any] = {
        "turns": turns,
        "checkpoints": checkpoints,
        "expected_checkpoints": expected_checkpoints(turns),
        "messages": len(messages),
        "messages_serialized_bytes": serialized,
        "same_final_messages": all(f == finals[0] for f in finals),
        "bytes": {
            **final,
            "ours SQLite, no deltas": no_deltas,
            "ours SQLite, compression off": uncompressed,
        },
        "get_tuple_seconds": {"with deltas": with_deltas, "without": without},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"\n{checkpoints} checkpoints, {len(messages)} messages, {fmt(serialized, 'B')} serialised"
    )
    for name, size in info["bytes"].items():
        print(f"  bytes on disk, {name:32s} {fmt(size, 'B'):>10}")
    print(f"  get_tuple latest: {fmt(with_deltas, 's')} with deltas, {fmt(without, 's')} without\n")
    verdicts = {}
    for label, value in ratios.items():
        goal = GOALS[label]
        verdicts[label] = value <= goal
        print(
            f"{'MET    ' if value <= goal else 'NOT MET'}  {label:48s} {value:8.3f}  (goal <= {goal})"
        )
    print(f"\nsame final messages on all six: {info['same_final_messages']}")
    print(f"(ran in {info['seconds']} s)")
    if plot_path is not None:
        plot(samples, plot_path, turns)
    return {"info": info, "ratios": ratios, "met": verdicts, "samples": samples}


def _get_tuples(savers: dict[str, Any], reps: int) -> tuple[float, float]:
    pair = [savers["ours SQLite"], savers["ours SQLite, no deltas"]]
    times: list[list[float]] = [[], []]
    for rep in range(reps):
        for i in (0, 1) if rep % 2 == 0 else (1, 0):
            start = time.perf_counter()
            pair[i].get_tuple(THREAD)
            times[i].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])
