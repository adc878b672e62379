"""A PostgreSQL restart (`pg_ctl restart -m fast`, which ends every client connection)
while a graph runs, and while a cleanup runs, on a throwaway embedded server.

A restart between two steps must cost the graph one slow step, not an exception: the
saver's retries ride it out, the run completes, and its history is the one an undisturbed
run leaves. A cleanup cut by a restart may stop (with a TransientStorageError saying the
connection was lost, never a raw driver error) or ride it out; either way no thread lost
its newest checkpoints, every remaining one reads back whole, and a second cleanup
finishes the job.

Two ways to restart: inside a node, before the step's writes and the next checkpoint are
saved ("in-node"), and from a thread a node starts ("beside-put"), so the restart races
the saver's next statements (some may meet a server shutting down or starting up).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from saver import PostgresSaver, RetentionPolicy, TransientStorageError
from saver.retention.job import CleanupReport
from tests.faults.checks import check_chain
from tests.faults.conftest import Server
from tests.faults.graph import build_graph, config_of

KINDS = ["pool", "single"]
WHEN = ["in-node", "beside-put"]
GOAL, RESTART_AT = 6, 3  # the run's steps, and the step whose node restarts the server
LOST = re.compile(r"connection (was )?lost", re.IGNORECASE)


@contextmanager
def open_saver(kind: str, url: str, schema: str) -> Iterator[PostgresSaver]:
    pool_size = 2 if kind == "pool" else None
    with PostgresSaver.from_conn_string(url, schema=schema, pool_size=pool_size) as cp:
        yield cp


def restart(server: Server, when: str) -> None:
    if when == "in-node":
        server.restart()
    else:
        server.restart_beside()


def reference_history() -> list[tuple[int, int]]:
    """(step, count) of each checkpoint, newest first, of the same run undisturbed."""
    graph = build_graph(InMemorySaver())
    graph.invoke({"goal": GOAL}, config_of("reference"))
    return [
        (t.metadata["step"], t.checkpoint["channel_values"].get("count", 0))
        for t in graph.checkpointer.list(config_of("reference"))
    ]


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("kind", KINDS)
def test_graph_run_completes_across_a_server_restart(
    restartable_server: Server, restart_schema: str, kind: str, when: str
) -> None:
    restarts: list[int] = []

    def on_step(count: int) -> None:
        if count == RESTART_AT and not restarts:
            restarts.append(count)
            restart(restartable_server, when)

    with open_saver(kind, restartable_server.url, restart_schema) as saver:
        saver.setup()
        graph = build_graph(saver, on_step)
        try:
            result = graph.invoke({"goal": GOAL}, config_of("run"))
        finally:
            restartable_server.join()
        assert restarts == [RESTART_AT]
        assert result["count"] == GOAL
        listed = check_chain(saver, "run")
        got = [(t.metadata["step"], t.checkpoint["channel_values"].get("count", 0)) for t in listed]
        assert got == reference_history()
        assert not graph.get_state(config_of("run")).next


# --- cleanup ------------------------------------------------------------------------------

THREADS, PER_THREAD, KEEP = 12, 5, 2
BATCH = 4  # checkpoints per cleanup transaction: a dozen batches (a thread each)
RESTART_AFTER = 3  # batches done when the server restarts


def thread_of(t: int) -> str:
    return f"c{t:03d}"


def write_threads(saver: PostgresSaver) -> dict[str, list[str]]:
    """PER_THREAD checkpoints (each with two pending writes) on each of THREADS threads;
    {thread: checkpoint ids, oldest first}."""
    written: dict[str, list[str]] = {}
    for t in range(THREADS):
        thread = thread_of(t)
        config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        version = None
        for n in range(PER_THREAD):
            version = saver.get_next_version(version, None)
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"n": n, "name": f"{thread}-{n}"}
            checkpoint["channel_versions"] = {"n": version, "name": version}
            meta: Any = {"source": "loop", "step": n}
            config = saver.put(config, checkpoint, meta, {"n": version, "name": version})
            saver.put_writes(config, [("n", n * 100), ("note", f"w{n}")], f"task-{n}")
            written.setdefault(thread, []).append(checkpoint["id"])
    return written


def check_kept(saver: PostgresSaver, written: dict[str, list[str]], exactly: bool) -> int:
    """Each thread still has its newest checkpoints, whole, with their pending writes
    (exactly KEEP of them, or at least KEEP); returns how many remain."""
    remaining = 0
    for thread, ids in written.items():
        listed = [t.checkpoint["id"] for t in saver.list(config_of(thread))]
        assert listed == ids[::-1][: len(listed)], f"{thread} lost a newer checkpoint: {listed}"
        assert len(listed) == KEEP if exactly else len(listed) >= KEEP, (thread, listed)
        for checkpoint_id in listed:
            n = ids.index(checkpoint_id)
            got = saver.get_tuple(config_of(thread, checkpoint_id))
            assert got is not None, (thread, checkpoint_id)
            assert got.checkpoint["channel_values"] == {"n": n, "name": f"{thread}-{n}"}
            writes = sorted((w[0], w[1], w[2]) for w in got.pending_writes or [])
            assert writes == [(f"task-{n}", "n", n * 100), (f"task-{n}", "note", f"w{n}")]
        remaining += len(listed)
    return remaining


@pytest.mark.parametrize("when", ["in-callback", "beside-batch"])
@pytest.mark.parametrize("kind", KINDS)
def test_cleanup_across_a_server_restart(
    restartable_server: Server, restart_schema: str, kind: str, when: str
) -> None:
    calls: list[int] = []

    def progress(report: CleanupReport) -> None:
        calls.append(report.batches)
        if len(calls) == RESTART_AFTER:
            restart(restartable_server, "in-node" if when == "in-callback" else "beside-put")

    policy = RetentionPolicy(keep_last=KEEP)
    with open_saver(kind, restartable_server.url, restart_schema) as saver:
        saver.setup()
        written = write_threads(saver)
        try:
            first: CleanupReport | Exception = saver.cleanup(
                policy, batch_size=BATCH, progress=progress
            )
        except TransientStorageError as exc:
            first = exc
            assert not isinstance(exc, psycopg.Error)
            assert LOST.search(str(exc)) or "unavailable" in str(exc), str(exc)
        finally:
            restartable_server.join()
        assert len(calls) >= RESTART_AFTER, f"the cleanup ran {len(calls)} batches only"
        check_kept(saver, written, exactly=False)
        second = saver.cleanup(policy, batch_size=BATCH)
        assert check_kept(saver, written, exactly=True) == THREADS * KEEP
        if isinstance(first, CleanupReport):
            # It rode the restart out: it did everything, and says no more than it did. (It
            # may say less: a batch whose COMMIT landed as the server went down, its reply
            # lost, is tried again, finds nothing left and counts nothing.)
            assert second.checkpoints_deleted == 0, f"first: {first}; second: {second}"
            assert first.checkpoints_deleted <= THREADS * (PER_THREAD - KEEP), first
