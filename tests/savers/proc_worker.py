"""Child-process side of test_processes.py: `python proc_worker.py COMMAND JSON_ARGS`.

Each command talks to its parent over stdout, one line per message, flushed at once:
`ready` when it is set up and waiting for a `go` line on stdin (a start barrier), progress
lines such as `wrote 3`, and a last line `result {json}` carrying what it did and every
exception it caught. The exit status is 0 only when no exception was caught.

The parent imports this module too, so what a child writes and what the parent expects
come from the same functions.
"""

from __future__ import annotations

import asyncio
import json
import operator
import os
import random
import sys
import time
import traceback
from datetime import datetime, timezone
from typing import Annotated, Any

from langgraph.checkpoint.base import Checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

# --- shared between parent and children -------------------------------------------------


class State(TypedDict):
    items: Annotated[list[str], operator.add]


def echo(state: State) -> dict[str, list[str]]:
    return {"items": [state["items"][-1] + "!"]}


def build_graph(checkpointer: Any) -> Any:
    """START -> echo -> END over an `operator.add` list: each invoke appends two items."""
    builder = StateGraph(State)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return builder.compile(checkpointer=checkpointer)


def graph_thread_id(worker: int, thread: int) -> str:
    return f"w{worker}-t{thread}"


def graph_input(worker: int, thread: int, invoke: int) -> str:
    return f"w{worker}-t{thread}-i{invoke}"


def expected_items(worker: int, thread: int, invokes: int) -> list[str]:
    items: list[str] = []
    for i in range(invokes):
        item = graph_input(worker, thread, i)
        items += [item, item + "!"]
    return items


BIG_CHANNELS = ("big_a", "big_b")
BIG_SIZE = 2 * 1024 * 1024  # bytes per big channel value: one put writes ~4 MB
CONST_VALUE = {"written": "once, at step 0", "kept": list(range(10))}


def big_value(step: int, channel: str) -> bytes:
    """A deterministic, step-specific value of BIG_SIZE bytes that does not compress (the
    saver compresses values, and these must stay big enough to spill into the WAL)."""
    return random.Random(f"{channel}:{step}").randbytes(BIG_SIZE)


def big_expected(step: int) -> dict[str, Any]:
    """Every channel value the checkpoint for `step` holds."""
    values: dict[str, Any] = {ch: big_value(step, ch) for ch in BIG_CHANNELS}
    values["step"] = step
    values["const"] = CONST_VALUE
    return values


def config_of(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def make_checkpoint(values: dict[str, Any], versions: dict[str, str]) -> Checkpoint:
    return Checkpoint(
        v=4,
        id=str(uuid6()),
        ts=datetime.now(timezone.utc).isoformat(),
        channel_values=values,
        channel_versions=versions,
        versions_seen={},
        updated_channels=sorted(values),
    )


# --- child side -------------------------------------------------------------------------


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait_for_go() -> None:
    say("ready")
    line = sys.stdin.readline()
    if line.strip() != "go":
        raise SystemExit(f"expected 'go' on stdin, got {line!r}")


def failure(exc: BaseException, started: float) -> str:
    """One line naming the exception and how long the failing call ran: an error that
    comes back at once did not wait out the 30 s busy timeout."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{text} (after {time.monotonic() - started:.3f}s)"


def run_graph(args: dict[str, Any]) -> dict[str, Any]:
    """Invoke one graph on `threads` threads of this worker, `invokes` times each,
    interleaving the threads; sync or async saver according to `kind`."""
    from saver import AsyncSqliteSaver, SqliteSaver

    worker, threads, invokes = args["worker"], args["threads"], args["invokes"]
    errors: list[str] = []
    calls = [(t, i) for i in range(invokes) for t in range(threads)]

    def payload(t: int, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"items": [graph_input(worker, t, i)]}, config_of(graph_thread_id(worker, t))

    if args["kind"] == "sync":
        with SqliteSaver.from_conn_string(args["path"]) as checkpointer:
            graph = build_graph(checkpointer)
            wait_for_go()
            for t, i in calls:
                started = time.monotonic()
                try:
                    graph.invoke(*payload(t, i))
                except Exception as exc:
                    errors.append(failure(exc, started))
    else:

        async def main() -> None:
            async with AsyncSqliteSaver.from_conn_string(args["path"]) as checkpointer:
                graph = build_graph(checkpointer)
                await asyncio.to_thread(wait_for_go)
                for t, i in calls:
                    started = time.monotonic()
                    try:
                        await graph.ainvoke(*payload(t, i))
                    except Exception as exc:
                        errors.append(failure(exc, started))

        asyncio.run(main())
    return {"invokes": len(calls), "errors": errors}


def run_same_thread(args: dict[str, Any]) -> dict[str, Any]:
    """`puts` times: read the thread's latest checkpoint, put a child of it that records
    (worker, i) in channel `entry`."""
    from saver import AsyncSqliteSaver, SqliteSaver

    worker, puts, config = args["worker"], args["puts"], config_of(args["thread"])
    errors: list[str] = []
    written: list[str] = []

    def next_put(saver: Any, latest: Any, i: int) -> tuple[Any, ...]:
        entry = f"w{worker}-{i}"
        previous = latest.checkpoint["channel_versions"].get("entry") if latest else None
        checkpoint = make_checkpoint(
            {"entry": entry}, {"entry": saver.get_next_version(previous, None)}
        )
        metadata = {"source": "update", "step": i, "writer": worker, "entry": entry}
        parent = latest.config if latest else config
        return parent, checkpoint, metadata, dict(checkpoint["channel_versions"])

    if args["kind"] == "sync":
        with SqliteSaver.from_conn_string(args["path"]) as saver:
            wait_for_go()
            for i in range(puts):
                started = time.monotonic()
                try:
                    put_args = next_put(saver, saver.get_tuple(config), i)
                    saver.put(*put_args)
                    written.append(put_args[1]["id"])
                except Exception as exc:
                    errors.append(failure(exc, started))
    else:

        async def main() -> None:
            async with AsyncSqliteSaver.from_conn_string(args["path"]) as saver:
                await asyncio.to_thread(wait_for_go)
                for i in range(puts):
                    started = time.monotonic()
                    try:
                        put_args = next_put(saver, await saver.aget_tuple(config), i)
                        await saver.aput(*put_args)
                        written.append(put_args[1]["id"])
                    except Exception as exc:
                        errors.append(failure(exc, started))

        asyncio.run(main())
    return {"written": written, "errors": errors}


# Statements of one put's write transaction; the tracer names them so the parent can pick
# the moment to kill.
PUT_EVENTS = (
    ("BEGIN IMMEDIATE", "begin"),
    ("INSERT INTO history_blobs", "blob"),
    ("INSERT INTO history_checkpoints", "checkpoint"),
    ("COMMIT", "commit"),
)


def run_big_puts(args: dict[str, Any]) -> dict[str, Any]:
    """Continue the thread from its latest checkpoint with `steps` more big-valued puts.

    Announces each statement of each put as it starts (`event STEP NAME K`, the K-th
    statement of that name in the put; the blob insert runs once per changed channel) and
    each finished put (`wrote STEP`). At each of `pauses` ([step, name, k] each) the child
    stops as that statement starts, says `paused` and waits for a line on stdin: it goes on
    after `continue`, and the parent kills it during any other wait."""
    from saver import SqliteSaver

    config = config_of(args["thread"])
    pauses = [tuple(p) for p in args.get("pauses", [])]
    seen: dict[str, int] = {}
    in_put: list[int] = []  # the step whose put is running, if any

    def trace(sql: str) -> None:
        name = next((n for prefix, n in PUT_EVENTS if sql.startswith(prefix)), None)
        if name is None or not in_put:
            return
        k = seen.get(name, 0)
        seen[name] = k + 1
        say(f"event {in_put[0]} {name} {k}")
        if (in_put[0], name, k) in pauses:
            say("paused")
            if sys.stdin.readline().strip() != "continue":
                os._exit(3)  # stdin closed: the parent is gone, stop without finishing

    with SqliteSaver.from_conn_string(args["path"]) as saver:
        latest = saver.get_tuple(config)
        start = latest.metadata["step"] + 1 if latest else 0
        versions = dict(latest.checkpoint["channel_versions"]) if latest else {}
        # Bigger-than-cache transactions spill uncommitted pages into the WAL before COMMIT;
        # a 1 MiB cache makes sure even one 2 MB value does, whatever SQLite's default is.
        saver.conn.execute("PRAGMA cache_size = -1024")
        saver.conn.set_trace_callback(trace)
        say(f"start {start}")
        for step in range(start, start + args["steps"]):
            values = big_expected(step)
            changed = [ch for ch in values if ch != "const" or "const" not in versions]
            for ch in changed:
                versions[ch] = saver.get_next_version(versions.get(ch), None)
            checkpoint = make_checkpoint(values, dict(versions))
            new_versions = {ch: versions[ch] for ch in changed}
            seen.clear()
            in_put[:] = [step]
            config = saver.put(config, checkpoint, {"source": "loop", "step": step}, new_versions)
            in_put.clear()
            say(f"wrote {step}")
    return {"errors": []}


def run_setup(args: dict[str, Any]) -> dict[str, Any]:
    """For each path in turn: wait for `go`, then open a saver on it and call setup()."""
    from saver import AsyncSqliteSaver, SqliteSaver

    errors: list[str] = []
    for path in args["paths"]:
        if args["kind"] == "sync":
            wait_for_go()
            started = time.monotonic()
            try:
                with SqliteSaver.from_conn_string(path) as saver:
                    saver.setup()
            except Exception as exc:
                errors.append(f"{path}: {failure(exc, started)}")
        else:

            async def main(path: str = path) -> None:
                await asyncio.to_thread(wait_for_go)
                started = time.monotonic()
                try:
                    async with AsyncSqliteSaver.from_conn_string(path) as saver:
                        await saver.setup()
                except Exception as exc:
                    errors.append(f"{path}: {failure(exc, started)}")

            asyncio.run(main())
        say("done")
    return {"errors": errors}


COMMANDS = {
    "graph": run_graph,
    "same_thread": run_same_thread,
    "big_puts": run_big_puts,
    "setup": run_setup,
}


def main(argv: list[str]) -> int:
    command, args = argv[1], json.loads(argv[2])
    result = COMMANDS[command](args)
    say("result " + json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
