"""Child-process side of the fault tests: `python -m tests.faults.worker`.

A fork server: it imports LangGraph and the saver once (1.5 s), says `ready`, then for each
job (one JSON line on stdin) forks a child that runs it, waits for that child and says
`exited CODE` (negative: killed by that signal). So a test can kill a writer with SIGKILL
again and again without paying for the imports each time.

A child speaks first `pid N`, then progress lines `KIND JSON` (`put`, `writes`, ...), each
written with a single write(2) of under PIPE_BUF bytes: a line is whole or absent, even
when the child dies. Everything a child says comes before its parent's `exited` line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SAY_LOCK = threading.Lock()  # LangGraph saves checkpoints from a background thread


def say(kind: str, payload: Any = None) -> None:
    line = kind if payload is None else f"{kind} {json.dumps(payload)}"
    data = (line + "\n").encode()
    assert len(data) < 4096, line
    with SAY_LOCK:
        os.write(1, data)


@contextmanager
def open_saver(job: dict[str, Any]) -> Iterator[Any]:
    from saver import PostgresSaver, SqliteSaver

    if job["backend"] == "sqlite":
        with SqliteSaver.from_conn_string(job["target"]) as cp:
            yield cp
    else:
        with PostgresSaver.from_conn_string(
            job["target"], schema=job["schema"], pool_size=job.get("pool_size")
        ) as cp:
            yield cp


def reporting(saver: Any) -> None:
    """Make the saver say each put and put_writes once it has returned (committed)."""
    put, put_writes = saver.put, saver.put_writes

    def put_and_say(config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        stored = put(config, checkpoint, metadata, new_versions)
        say(
            "put",
            {
                "id": checkpoint["id"],
                "step": metadata.get("step"),
                "count": checkpoint["channel_values"].get("count", 0),
                "parent": config["configurable"].get("checkpoint_id"),
            },
        )
        return stored

    def put_writes_and_say(config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        put_writes(config, writes, task_id, task_path)
        channels = [channel for channel, _ in writes]
        say(
            "writes",
            {"id": config["configurable"]["checkpoint_id"], "task": task_id, "channels": channels},
        )

    saver.put = put_and_say
    saver.put_writes = put_writes_and_say


def run_graph(job: dict[str, Any]) -> None:
    """Run the counter graph on `thread`, `steps` steps per invoke, `invokes` times (the
    parent kills it long before), with LangGraph's `durability` ("sync" or "async"); first
    finish a step a killed child left unfinished."""
    from tests.faults.graph import build_graph, config_of

    config = config_of(job["thread"])
    with open_saver(job) as saver:
        reporting(saver)
        graph = build_graph(saver)
        say("open")
        for _ in range(job["invokes"]):
            if graph.get_state(config).next:
                graph.invoke(None, config, durability=job["durability"])
            count = graph.get_state(config).values.get("count", 0)
            graph.invoke({"goal": count + job["steps"]}, config, durability=job["durability"])
    say("done")


def run_fill(job: dict[str, Any]) -> None:
    """Under a file size limit `limit` bytes (SIGXFSZ ignored, so a write past it fails
    with EFBIG instead of killing the process), put big checkpoints on `thread` until a put
    fails; say what it raised, then read back what was committed on the same saver."""
    from saver import SqliteSaver, StorageError
    from tests.faults.filler import fill_until_error

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (job["limit"], job["limit"]))
    with SqliteSaver.from_conn_string(job["target"]) as saver:
        outcome = fill_until_error(saver, job["thread"], job["max_puts"], say)
        say("failed", outcome)
        try:
            latest = saver.get_tuple({"configurable": {"thread_id": job["thread"]}})
            say("read", {"latest": latest.checkpoint["id"] if latest else None})
        except StorageError as exc:
            say("read", {"error": f"{type(exc).__name__}: {exc}"})


JOBS: dict[str, Callable[[dict[str, Any]], None]] = {"graph": run_graph, "fill": run_fill}


def child(job: dict[str, Any]) -> int:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # stdin is the fork server's: a child never reads it
    say("pid", os.getpid())
    try:
        JOBS[job["job"]](job)
        return 0
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def serve() -> None:
    import langgraph.graph  # noqa: F401 - loaded once, here, for every child
    import psycopg_pool  # noqa: F401

    import saver  # noqa: F401
    from saver import PostgresSaver, SqliteSaver  # noqa: F401
    from tests.faults import filler, graph  # noqa: F401

    say("ready")
    while line := sys.stdin.readline():
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os._exit(child(job))  # no atexit handlers, no flushing of inherited buffers
        _, status = os.waitpid(pid, 0)
        say("exited", os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    serve()
