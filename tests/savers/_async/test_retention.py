"""Retention: cleanup(policy), delete_checkpoints, retention on write and the background
sweeper, on real graphs over real SQLite and PostgreSQL.

Age is simulated by moving `created_at` (seconds since the epoch) back behind the saver's back.
Nothing here sleeps to synchronise: the only waiting is `wait_for`, a polling loop with a
deadline for what runs in the background (the sweeper), and threading events/conditions for
the concurrent writer.
"""

from __future__ import annotations

import asyncio
import inspect  # unasync: remove
import json
import logging
import operator
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import psycopg
import pytest
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from saver.errors import InvalidConfigError
from saver.io._async.saver import TRIM_EVERY
from saver.retention.job import CleanupReport
from saver.retention.policy import RetentionPolicy
from tests.savers._async.spec_helpers import (
    TABLES,
    checkpoint_id,
    config,
    corrupt_json,
    count_rows,
    put_counter_chain,
    put_step,
    thread_rows,
    whole_thread,
)
from tests.support import raw_rows

DAY = 86_400.0
OLD = 10  # days an aged checkpoint is moved back
WEEK = timedelta(days=7)
SWEEPER = "saver-sweeper"  # the name of a sweeper's task or thread


# --- helpers: graphs ----------------------------------------------------------------------


def on(thread_id: str, cid: str | None = None) -> dict[str, Any]:
    """A graph config for a thread, at its head or at checkpoint `cid`."""
    conf: dict[str, Any] = {"thread_id": thread_id}
    if cid is not None:
        conf["checkpoint_id"] = cid
    return {"configurable": conf}


class Steps(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    runs: int


async def first(state: Steps) -> dict[str, Any]:
    return {"log": [f"first of run {state.get('runs', 0)}"]}


async def second(state: Steps) -> dict[str, Any]:
    runs = state.get("runs", 0) + 1
    return {"log": [f"second of run {runs - 1}"], "runs": runs}


def steps_graph(checkpointer: Any, interrupt_before: Sequence[str] = ()) -> Any:
    """START -> first -> second -> END: four checkpoints per invoke, each with writes."""
    builder = StateGraph(Steps)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    return builder.compile(checkpointer=checkpointer, interrupt_before=list(interrupt_before))


async def run_steps(cp: Any, thread_id: str, runs: int = 3) -> None:
    graph = steps_graph(cp)
    for n in range(runs):
        await graph.ainvoke({"log": [f"{thread_id} input {n}"]}, on(thread_id))


class Approval(TypedDict, total=False):
    request: str
    answer: str
    log: Annotated[list[str], operator.add]


async def draft(state: Approval) -> dict[str, Any]:
    return {"log": [f"drafted {state['request']}"]}


async def approve(state: Approval) -> dict[str, Any]:
    answer = interrupt({"approve?": state["request"]})
    return {"answer": answer, "log": [f"answered {answer}"]}


async def publish(state: Approval) -> dict[str, Any]:
    return {"log": [f"published with {state['answer']}"]}


def approval_graph(checkpointer: Any) -> Any:
    """draft -> approve (waits on interrupt()) -> publish."""
    builder = StateGraph(Approval)
    builder.add_node("draft", draft)
    builder.add_node("approve", approve)
    builder.add_node("publish", publish)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "approve")
    builder.add_edge("approve", "publish")
    builder.add_edge("publish", END)
    return builder.compile(checkpointer=checkpointer)


class Question(TypedDict, total=False):
    question: str
    reply: str


class Outer(TypedDict, total=False):
    question: str
    reply: str
    log: Annotated[list[str], operator.add]


async def restate(state: Question) -> dict[str, Any]:
    return {"question": f"{state['question']}?"}


async def ask(state: Question) -> dict[str, Any]:
    return {"reply": interrupt({"ask": state["question"]})}


async def intro(state: Outer) -> dict[str, Any]:
    return {"log": [f"asking {state['question']}"]}


async def wrap(state: Outer) -> dict[str, Any]:
    return {"log": [f"heard {state['reply']}"]}


def outer_graph(checkpointer: Any) -> Any:
    """intro -> child (restate -> ask, which interrupts) -> wrap."""
    child = StateGraph(Question)
    child.add_node("restate", restate)
    child.add_node("ask", ask)
    child.add_edge(START, "restate")
    child.add_edge("restate", "ask")
    builder = StateGraph(Outer)
    builder.add_node("intro", intro)
    builder.add_node("child", child.compile())
    builder.add_node("wrap", wrap)
    builder.add_edge(START, "intro")
    builder.add_edge("intro", "child")
    builder.add_edge("child", "wrap")
    builder.add_edge("wrap", END)
    return builder.compile(checkpointer=checkpointer)


def extend(current: list[str], writes: Sequence[list[str]]) -> list[str]:
    return [*current, *(item for batch in writes for item in batch)]


class Journal(TypedDict, total=False):
    events: Annotated[list[str], DeltaChannel(extend, snapshot_frequency=3)]
    rounds: int
    turn: int


async def begin(state: Journal) -> dict[str, Any]:
    return {"events": [f"turn {state['turn']} begins"], "rounds": 0}


async def tick(state: Journal) -> dict[str, Any]:
    done = state["rounds"] + 1
    return {"events": [f"turn {state['turn']} round {done}"], "rounds": done}


def again(state: Journal) -> str:
    return "tick" if state["rounds"] < 4 else END


def journal_graph(checkpointer: Any) -> Any:
    """A DeltaChannel `events` stored in full only every third update."""
    builder = StateGraph(Journal)
    builder.add_node("begin", begin)
    builder.add_node("tick", tick)
    builder.add_edge(START, "begin")
    builder.add_edge("begin", "tick")
    builder.add_conditional_edges("tick", again, ["tick", END])
    return builder.compile(checkpointer=checkpointer)


class Counter(TypedDict):
    count: int


async def bump(state: Counter) -> dict[str, Any]:
    return {"count": state["count"] + 1}


def counter_graph(checkpointer: Any, limit: int) -> Any:
    """One checkpoint per bump until count reaches `limit`."""
    builder = StateGraph(Counter)
    builder.add_node("bump", bump)
    builder.add_edge(START, "bump")
    builder.add_conditional_edges("bump", lambda s: "bump" if s["count"] < limit else END)
    return builder.compile(checkpointer=checkpointer)


# --- helpers: storage ---------------------------------------------------------------------


async def load_all(cp: Any, thread_id: str) -> dict[tuple[str, str], Any]:
    """{(checkpoint_ns, checkpoint_id): tuple} of every checkpoint of a thread, each read
    with get_tuple as a graph reads one."""
    keys = [
        (t.config["configurable"]["checkpoint_ns"], t.config["configurable"]["checkpoint_id"])
        async for t in cp.alist(whole_thread(thread_id))
    ]
    return {(ns, cid): await cp.aget_tuple(config(thread_id, ns, cid)) for ns, cid in keys}


def root_ids(store: Any, thread_id: str, namespace: str = "") -> list[str]:
    """The thread's root checkpoint ids, oldest first."""
    found = raw_rows(
        store,
        "SELECT checkpoint_id FROM history_checkpoints WHERE thread_id = ? AND namespace = ? "
        "AND checkpoint_ns = '' ORDER BY checkpoint_id",
        (thread_id, namespace),
    )
    return [r[0] for r in found]


def age(
    store: Any, thread_id: str | None = None, ids: Sequence[str] | None = None, days: float = OLD
) -> None:
    """Move created_at of checkpoints (of a thread; only `ids` if given) `days` back."""
    where, params = ["1 = 1"], []
    if thread_id is not None:
        where.append("thread_id = ?")
        params.append(thread_id)
    if ids is not None:
        where.append(f"checkpoint_id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    raw_rows(
        store,
        f"UPDATE history_checkpoints SET created_at = created_at - ? WHERE {' AND '.join(where)}",
        (days * DAY, *params),
    )


def table_counts(store: Any) -> dict[str, int]:
    return {table: count_rows(store, table) for table in TABLES}


def as_object(value: Any) -> dict[str, str]:
    """A JSON column as read raw: text on SQLite, already a dict from PostgreSQL's jsonb."""
    return json.loads(value) if isinstance(value, str) else dict(value)


def stored(store: Any, namespace: str = "") -> dict[str, set[tuple[Any, ...]]]:
    """The keys of every row of a saver namespace, table by table (namespace left out)."""
    return {
        "checkpoints": set(
            raw_rows(
                store,
                "SELECT thread_id, checkpoint_ns, checkpoint_id FROM history_checkpoints "
                "WHERE namespace = ?",
                (namespace,),
            )
        ),
        "blobs": set(
            raw_rows(
                store,
                "SELECT thread_id, checkpoint_ns, channel, version FROM history_blobs "
                "WHERE namespace = ?",
                (namespace,),
            )
        ),
        "writes": set(
            raw_rows(
                store,
                "SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx FROM history_writes "
                "WHERE namespace = ?",
                (namespace,),
            )
        ),
    }


def referenced_blobs(store: Any, namespace: str = "") -> set[tuple[str, str, str, str]]:
    """(thread_id, checkpoint_ns, channel, version) every stored checkpoint needs: the blobs
    it names and, for a delta, its snapshot and the deltas before it on its chain."""
    found = raw_rows(
        store,
        "SELECT thread_id, checkpoint_ns, blob_versions FROM history_checkpoints "
        "WHERE namespace = ?",
        (namespace,),
    )
    named = {
        (tid, ns, channel, version)
        for tid, ns, versions in found
        for channel, version in as_object(versions).items()
    }
    bases = {
        (tid, ns, ch, v): base
        for tid, ns, ch, v, base in raw_rows(
            store,
            "SELECT thread_id, checkpoint_ns, channel, version, base FROM history_blobs "
            "WHERE namespace = ?",
            (namespace,),
        )
    }
    needed = set(named)
    for tid, ns, ch, v in named:
        base = bases.get((tid, ns, ch, v))
        if base is not None:
            needed.add((tid, ns, ch, base))
            needed.update(
                key
                for key, b in bases.items()
                if b == base and key[:3] == (tid, ns, ch) and key[3] < v
            )
    return needed


def assert_consistent(store: Any, blobs_before: set[Any], namespace: str = "") -> None:
    """No blob a checkpoint names and that existed before went missing, and no write is left
    whose checkpoint is gone."""
    now = stored(store, namespace)
    missing = (referenced_blobs(store, namespace) & blobs_before) - now["blobs"]
    assert missing == set(), f"blobs still named by a checkpoint were deleted: {missing}"
    orphans = {(tid, ns, cid) for tid, ns, cid, _, _ in now["writes"]} - now["checkpoints"]
    assert orphans == set(), f"writes left behind by deleted checkpoints: {orphans}"


def counts(report: CleanupReport) -> dict[str, Any]:
    """What a report says was (or would be) deleted."""
    out = report.as_dict()
    del out["seconds"], out["dry_run"]
    return out


# --- helpers: background work -------------------------------------------------------------


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` until it holds or the deadline passes (the only waiting loop here)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


def live_sweepers() -> set[Any]:
    """Sweeper threads, and sweeper tasks of the running event loop, not yet finished."""
    found: set[Any] = {t for t in threading.enumerate() if t.name == SWEEPER}
    tasks = asyncio.all_tasks()  # unasync: remove
    found |= {t for t in tasks if t.get_name() == SWEEPER}  # unasync: remove
    return found


def run_to_end(body: Callable[[], Any]) -> Any:
    """Call `body` in this thread; a coroutine it returns runs on an event loop of its own."""
    result = body()
    if inspect.iscoroutine(result):  # unasync: remove
        result = asyncio.run(result)  # unasync: remove
    return result


class HeldThread:
    """Another connection's open transaction holding what a cleanup of `thread_id` must take:
    SQLite's write lock, or PostgreSQL's advisory lock on the thread."""

    def __init__(self, store: Any, thread_id: str) -> None:
        self.store, self.thread_id = store, thread_id
        self.conn: Any
        if store.schema is None:
            self.conn = sqlite3.connect(store.path, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn = psycopg.connect(store.path)
            self.conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (thread_id, "")
            )

    def release(self) -> None:
        self.conn.close()  # ends the transaction without committing; safe to repeat

    async def waiter(self, cp: Any) -> Callable[[], bool]:
        """Whether `cp` has started the transaction that waits for this one."""
        if self.store.schema is None:
            began = threading.Event()

            def note(sql: str) -> None:
                if sql.lstrip().upper().startswith("BEGIN IMMEDIATE"):
                    began.set()

            await cp.conn.set_trace_callback(note)
            return began.is_set

        def waiting() -> bool:
            found = raw_rows(
                self.store,
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid = (hashtext(?)::bigint & 4294967295)::oid",
                (self.thread_id,),
            )
            return bool(found[0][0])

        return waiting


# --- 1. keep_last on real graph threads ---------------------------------------------------


async def test_keep_last_trims_each_thread_to_its_newest_checkpoints(open_saver: Any) -> None:
    async with open_saver() as cp:
        await run_steps(cp, "a")
        await run_steps(cp, "b", runs=2)
        await run_steps(cp, "short", runs=1)
        newest = {t: root_ids(open_saver, t)[-5:] for t in ("a", "b", "short")}
        report = await cp.acleanup(RetentionPolicy(keep_last=5))
    assert {t: root_ids(open_saver, t) for t in ("a", "b", "short")} == newest
    assert [len(ids) for ids in newest.values()] == [5, 5, 4]
    assert (report.checkpoints_deleted, report.threads_deleted) == (7 + 3, 0)


async def test_checkpoints_kept_by_keep_last_load_exactly_as_before(open_saver: Any) -> None:
    async with open_saver() as cp:
        await run_steps(cp, "a")
        before = await load_all(cp, "a")
        await cp.acleanup(RetentionPolicy(keep_last=5))
        after = await load_all(cp, "a")
    assert sorted(after) == sorted(before)[-5:]
    for key, kept in after.items():
        assert kept is not None
        assert kept.checkpoint == before[key].checkpoint
        assert kept.metadata == before[key].metadata
        assert kept.pending_writes == before[key].pending_writes
        assert kept.parent_config == before[key].parent_config
        assert kept == before[key]


async def test_a_graph_continues_from_its_head_after_keep_last(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = steps_graph(cp)
        await run_steps(cp, "a")
        head = await graph.aget_state(on("a"))
        await cp.acleanup(RetentionPolicy(keep_last=2))
        assert (await graph.aget_state(on("a"))).values == head.values
        result = await graph.ainvoke({"log": ["more"]}, on("a"))
    assert result == {
        "log": [*head.values["log"], "more", "first of run 3", "second of run 3"],
        "runs": 4,
    }


async def test_a_graph_replays_from_the_oldest_kept_checkpoint(open_saver: Any) -> None:
    """Replaying from the oldest checkpoint keep_last kept gives what the same replay gives
    on an untouched copy of the thread."""
    async with open_saver() as cp:
        graph = steps_graph(cp)
        await run_steps(cp, "a")
        await cp.acopy_thread("a", "untouched")
        await cp.acleanup(RetentionPolicy(keep_last=3), thread_id="a")
        oldest = root_ids(open_saver, "a")[0]
        assert (await graph.aget_state(on("a", oldest))).next == ("first",)
        replayed = await graph.ainvoke(None, on("a", oldest))
        expected = await graph.ainvoke(None, on("untouched", oldest))
        assert len(root_ids(open_saver, "a")) > 3  # the replay forked from `oldest`
    assert replayed == expected
    assert replayed["runs"] == 3


async def test_state_history_after_keep_last_ends_cleanly_at_the_oldest_kept(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        graph = steps_graph(cp)
        await run_steps(cp, "a")
        before = {
            s.config["configurable"]["checkpoint_id"]: s
            async for s in graph.aget_state_history(on("a"))
        }
        await cp.acleanup(RetentionPolicy(keep_last=4))
        history = [s async for s in graph.aget_state_history(on("a"))]
        oldest = history[-1]
        # The oldest kept one still names its parent, which is gone: history just stops there.
        assert oldest.parent_config is not None
        assert await cp.aget_tuple(oldest.parent_config) is None
    ids = [s.config["configurable"]["checkpoint_id"] for s in history]
    assert ids == sorted(before, reverse=True)[:4]
    assert history == [before[cid] for cid in ids]


# --- 2. max_age and delete_checkpoints ----------------------------------------------------


async def test_max_age_deletes_checkpoints_created_before_the_cutoff(open_saver: Any) -> None:
    async with open_saver() as cp:
        await run_steps(cp, "a")
        ids = root_ids(open_saver, "a")
        age(open_saver, "a", ids[:8])  # the first two runs
        before = await load_all(cp, "a")
        report = await cp.acleanup(RetentionPolicy(max_age=timedelta(days=1)))
        after = await load_all(cp, "a")
    assert root_ids(open_saver, "a") == ids[8:]
    assert after == {key: before[key] for key in after}
    assert report.checkpoints_deleted == 8


async def test_max_age_never_deletes_a_thread_head(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = steps_graph(cp)
        await run_steps(cp, "a")
        head = await cp.aget_tuple(config("a"))
        age(open_saver, "a")
        await cp.acleanup(RetentionPolicy(max_age=timedelta(days=1)))
        assert root_ids(open_saver, "a") == [head.config["configurable"]["checkpoint_id"]]
        assert await cp.aget_tuple(config("a")) == head
        result = await graph.ainvoke({"log": ["later"]}, on("a"))
    assert result["runs"] == 4


async def test_delete_checkpoints_before_a_moment_trims_only_the_given_thread(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        for tid in ("a", "b"):
            await put_counter_chain(cp, tid, 6, with_writes=True)
            age(open_saver, tid, [checkpoint_id(n) for n in (1, 2, 3)])
        b_before = await load_all(cp, "b")
        report = await cp.adelete_checkpoints(
            before=datetime.now(timezone.utc) - timedelta(days=1), thread_id="a"
        )
        assert await load_all(cp, "b") == b_before
    assert root_ids(open_saver, "a") == [checkpoint_id(n) for n in (4, 5, 6)]
    assert (report.checkpoints_deleted, report.writes_deleted) == (3, 3)


async def test_delete_checkpoints_before_a_moment_trims_every_thread_keeping_heads(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "partly-old", 6)
        age(open_saver, "partly-old", [checkpoint_id(n) for n in (1, 2)])
        await put_counter_chain(cp, "all-old", 4)
        age(open_saver, "all-old")
        await put_counter_chain(cp, "new", 3)
        # A naive datetime is local time, as datetime.now() gives it.
        report = await cp.adelete_checkpoints(before=datetime.now() - timedelta(days=1))
        head = await cp.aget_tuple(config("all-old"))
    assert root_ids(open_saver, "partly-old") == [checkpoint_id(n) for n in (3, 4, 5, 6)]
    assert root_ids(open_saver, "all-old") == [checkpoint_id(4)]
    assert head.checkpoint["channel_values"] == {"topic": "topic-of-all-old", "count": 4}
    assert len(root_ids(open_saver, "new")) == 3
    assert report.checkpoints_deleted == 2 + 3


# --- 3. thread_ttl and interrupts ---------------------------------------------------------


async def test_thread_ttl_deletes_idle_threads_entirely(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("idle-1", "idle-2", "active"):
            await run_steps(cp, tid)
        await run_steps(cp, "idle-2", runs=1)
        age(open_saver, "idle-1")
        age(open_saver, "idle-2")
        active = await load_all(cp, "active")
        report = await cp.acleanup(RetentionPolicy(thread_ttl=WEEK))
        assert await cp.aget_tuple(config("idle-1")) is None
        assert await load_all(cp, "active") == active
    for tid in ("idle-1", "idle-2"):
        assert thread_rows(open_saver, tid) == dict.fromkeys(TABLES, 0)
    assert (report.threads_deleted, report.checkpoints_deleted) == (2, 12 + 16)


async def test_thread_ttl_report_names_the_threads_it_deleted(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("idle-1", "idle-2", "active"):
            await put_counter_chain(cp, tid, 2)
        age(open_saver, "idle-1")
        age(open_saver, "idle-2")
        report = await cp.acleanup(RetentionPolicy(thread_ttl=WEEK))
    assert report.threads_deleted == 2
    assert sorted(report.thread_ids) == ["idle-1", "idle-2"]


async def test_thread_ttl_spares_an_idle_thread_waiting_on_interrupt(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = approval_graph(cp)
        paused = await graph.ainvoke({"request": "launch", "log": []}, on("waiting"))
        assert paused["__interrupt__"][0].value == {"approve?": "launch"}
        age(open_saver, "waiting")
        rows = thread_rows(open_saver, "waiting")
        report = await cp.acleanup(RetentionPolicy(thread_ttl=WEEK))
        assert thread_rows(open_saver, "waiting") == rows
        assert (await graph.aget_state(on("waiting"))).next == ("approve",)
        done = await graph.ainvoke(Command(resume="yes"), on("waiting"))
    assert report.threads_deleted == 0
    assert done["log"] == ["drafted launch", "answered yes", "published with yes"]


async def test_spare_interrupted_false_deletes_an_idle_thread_waiting_on_interrupt(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await approval_graph(cp).ainvoke({"request": "launch", "log": []}, on("waiting"))
        age(open_saver, "waiting")
        report = await cp.acleanup(RetentionPolicy(thread_ttl=WEEK, spare_interrupted=False))
    assert report.threads_deleted == 1
    assert thread_rows(open_saver, "waiting") == dict.fromkeys(TABLES, 0)


async def test_an_answered_interrupt_does_not_spare_an_idle_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = approval_graph(cp)
        await graph.ainvoke({"request": "launch", "log": []}, on("answered"))
        await graph.ainvoke(Command(resume="yes"), on("answered"))
        age(open_saver, "answered")
        await cp.acleanup(RetentionPolicy(thread_ttl=WEEK))
    assert thread_rows(open_saver, "answered") == dict.fromkeys(TABLES, 0)


async def test_thread_ttl_deletes_an_idle_thread_paused_by_a_static_interrupt_before(
    open_saver: Any,
) -> None:
    """What the saver does today: a pause from compile(interrupt_before=[...]) stores no
    interrupt write (only interrupt() does), so spare_interrupted does not see it and an idle
    thread paused that way is deleted like any other."""
    async with open_saver() as cp:
        graph = steps_graph(cp, interrupt_before=["second"])
        await graph.ainvoke({"log": []}, on("paused"))
        assert (await graph.aget_state(on("paused"))).next == ("second",)
        assert count_rows(open_saver, "history_writes", "channel = '__interrupt__'") == 0
        age(open_saver, "paused")
        report = await cp.acleanup(RetentionPolicy(thread_ttl=WEEK))
    assert report.threads_deleted == 1
    assert thread_rows(open_saver, "paused") == dict.fromkeys(TABLES, 0)


# --- 4. writes and blobs of deleted checkpoints -------------------------------------------


async def test_cleanup_deletes_the_pending_writes_of_deleted_checkpoints(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await run_steps(cp, "a")
        before = count_rows(open_saver, "history_writes")
        blobs = stored(open_saver)["blobs"]
        report = await cp.acleanup(RetentionPolicy(keep_last=2))
    assert report.writes_deleted > 0
    assert count_rows(open_saver, "history_writes") == before - report.writes_deleted
    assert_consistent(open_saver, blobs)


async def test_cleanup_deletes_blobs_no_kept_checkpoint_names(open_saver: Any) -> None:
    """count changes at every checkpoint; topic is stored once, at the first."""
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 6)
        before = count_rows(open_saver, "history_blobs")
        report = await cp.acleanup(RetentionPolicy(keep_last=2))
    assert stored(open_saver)["blobs"] == {
        ("t", "", "topic", "1"),
        ("t", "", "count", "5"),
        ("t", "", "count", "6"),
    }
    assert report.blobs_deleted == 4
    assert count_rows(open_saver, "history_blobs") == before - 4


async def test_blobs_kept_checkpoints_still_name_stay_and_load(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 6, with_writes=True)
        before = await load_all(cp, "t")
        await cp.acleanup(RetentionPolicy(keep_last=2))
        after = await load_all(cp, "t")
    assert after == {key: before[key] for key in [("", checkpoint_id(5)), ("", checkpoint_id(6))]}
    assert after[("", checkpoint_id(5))].checkpoint["channel_values"] == {
        "topic": "topic-of-t",
        "count": 5,
    }


async def test_after_cleanup_every_blob_is_named_by_a_kept_checkpoint(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("a", "b"):
            await run_steps(cp, tid)
        await cp.acleanup(RetentionPolicy(keep_last=3))
    assert stored(open_saver)["blobs"] - referenced_blobs(open_saver) == set()


async def test_keep_last_after_a_fork_from_an_old_step_collects_the_abandoned_branch(
    open_saver: Any,
) -> None:
    """The kept checkpoints are a fork's; the older branch's newer versions go too."""
    async with open_saver() as cp:
        await run_steps(cp, "f", runs=4)
        graph = steps_graph(cp)
        early = [s async for s in graph.aget_state_history(on("f"))][-3]
        forked = await graph.aupdate_state(early.config, {"log": ["forked"]})
        await graph.ainvoke(None, forked)
        await graph.ainvoke({"log": ["after the fork"]}, on("f"))
        before = await load_all(cp, "f")
        blobs_before = stored(open_saver)["blobs"]
        report = await cp.acleanup(RetentionPolicy(keep_last=4))
        after = await load_all(cp, "f")
    assert after == {key: before[key] for key in sorted(before)[-4:]}
    assert stored(open_saver)["blobs"] - referenced_blobs(open_saver) == set()
    assert_consistent(open_saver, blobs_before)
    assert report.blobs_deleted == len(blobs_before - stored(open_saver)["blobs"])


async def test_keep_last_alone_deletes_what_keep_last_with_a_lenient_max_age_deletes(
    open_saver: Any,
) -> None:
    """keep_last alone trims by range; with max_age each row is judged: same outcome."""
    async with open_saver() as cp:
        for tid in ("by-range", "row-by-row"):
            await put_counter_chain(cp, tid, 12, with_writes=True)
        by_range = await cp.acleanup(RetentionPolicy(keep_last=4), thread_id="by-range")
        lenient = RetentionPolicy(keep_last=4, max_age=timedelta(days=3650))
        row_by_row = await cp.acleanup(lenient, thread_id="row-by-row")
    assert counts(by_range) == counts(row_by_row)
    rows = stored(open_saver)
    for table in ("checkpoints", "blobs", "writes"):
        kept = {
            tid: {r[1:] for r in rows[table] if r[0] == tid} for tid in ("by-range", "row-by-row")
        }
        assert kept["by-range"] == kept["row-by-row"], table


# --- 5. DeltaChannel ----------------------------------------------------------------------


async def test_a_delta_channel_thread_reads_the_same_after_keep_last(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = journal_graph(cp)
        for turn in range(3):
            await graph.ainvoke({"turn": turn}, on("d"))
        before = {
            s.config["configurable"]["checkpoint_id"]: s
            async for s in graph.aget_state_history(on("d"))
        }
        await cp.acleanup(RetentionPolicy(keep_last=2))
        after = [s async for s in graph.aget_state_history(on("d"))]
        # Each kept checkpoint read on its own, so nothing is shared with a neighbour's read.
        points = [await graph.aget_state(s.config) for s in after]
    # More than 2 kept: the second newest replays `events` from an older snapshot.
    assert 2 < len(after) < len(before)
    assert after == [before[s.config["configurable"]["checkpoint_id"]] for s in after]
    assert points == after


async def test_a_delta_channel_thread_continues_after_keep_last_like_an_unpruned_one(
    open_saver: Any,
) -> None:
    memory = InMemorySaver()
    unpruned = journal_graph(memory)
    async with open_saver() as cp:
        graph = journal_graph(cp)
        for turn in range(3):
            await graph.ainvoke({"turn": turn}, on("d"))
            await unpruned.ainvoke({"turn": turn}, on("d"))
        await cp.acleanup(RetentionPolicy(keep_last=1))
        result = await graph.ainvoke({"turn": 3}, on("d"))
        state = await graph.aget_state(on("d"))
    assert result == await unpruned.ainvoke({"turn": 3}, on("d"))
    assert state.values == (await unpruned.aget_state(on("d"))).values
    assert len(result["events"]) == 4 * 5


# --- 6. subgraph checkpoints --------------------------------------------------------------


async def run_questions(cp: Any, thread_id: str, answered: int) -> Any:
    """`answered` questions asked and answered, then one more asked and left waiting."""
    graph = outer_graph(cp)
    for n in range(answered):
        await graph.ainvoke({"question": f"q{n}", "log": []}, on(thread_id))
        await graph.ainvoke(Command(resume=f"a{n}"), on(thread_id))
    await graph.ainvoke({"question": f"q{answered}", "log": []}, on(thread_id))
    return graph


async def test_subgraph_state_at_kept_checkpoints_is_unchanged_by_cleanup(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        graph = await run_questions(cp, "s", answered=2)
        history = [s async for s in graph.aget_state_history(on("s"))]
        asked = [s.config for s in history if any(t.interrupts for t in s.tasks)]
        # The newest two root checkpoints where the child interrupted: the head (waiting
        # now) and the one of the previous, answered question.
        kept_asked = asked[:2]
        keep = [s.config for s in history].index(kept_asked[1]) + 1
        before = [await graph.aget_state(c, subgraphs=True) for c in kept_asked]
        report = await cp.acleanup(RetentionPolicy(keep_last=keep))
        after = [await graph.aget_state(c, subgraphs=True) for c in kept_asked]
        done = await graph.ainvoke(Command(resume="a2"), on("s"))
    assert report.checkpoints_deleted > 0
    assert before[0].tasks[0].state.next == ("ask",)
    assert after == before
    unpruned = await run_questions(InMemorySaver(), "s", answered=2)
    assert done == await unpruned.ainvoke(Command(resume="a2"), on("s"))
    assert done["log"][-1] == "heard a2"


async def test_subgraph_checkpoints_of_deleted_steps_are_deleted_with_them(
    open_saver: Any,
) -> None:
    """A subgraph call's checkpoints belong to the root checkpoint it started from; once that
    root checkpoint is gone, nothing can reach them, and keep_last must not keep them."""
    async with open_saver() as cp:
        await run_questions(cp, "s", answered=3)
        await cp.acleanup(RetentionPolicy(keep_last=3))
    roots = set(root_ids(open_saver, "s"))
    found = raw_rows(
        open_saver,
        "SELECT checkpoint_ns, checkpoint_id, metadata FROM history_checkpoints "
        "WHERE thread_id = ? AND checkpoint_ns <> ''",
        ("s",),
    )
    orphans = {(ns, cid) for ns, cid, meta in found if as_object(meta)["parents"][""] not in roots}
    assert orphans == set(), f"{len(orphans)} subgraph checkpoints outlived their root step"


# --- 7. dry_run ---------------------------------------------------------------------------


async def fill_mixed(cp: Any, store: Any) -> None:
    """Long threads, idle threads, and an idle thread waiting on an interrupt."""
    for tid in ("long-1", "long-2"):
        await run_steps(cp, tid)
    for tid in ("idle-1", "idle-2"):
        await run_steps(cp, tid, runs=1)
        age(store, tid)
    await approval_graph(cp).ainvoke({"request": "x", "log": []}, on("waiting"))
    age(store, "waiting")


async def test_dry_run_reports_what_the_real_run_deletes_and_changes_nothing(
    open_saver: Any,
) -> None:
    policy = RetentionPolicy(keep_last=3, thread_ttl=WEEK)
    async with open_saver() as cp:
        await fill_mixed(cp, open_saver)
        rows = table_counts(open_saver)
        keys = stored(open_saver)
        dry = await cp.acleanup(policy, dry_run=True, batch_size=5)
        assert table_counts(open_saver) == rows
        assert stored(open_saver) == keys
        real = await cp.acleanup(policy, batch_size=5)
    assert (dry.dry_run, real.dry_run) == (True, False)
    assert counts(dry) == counts(real)
    assert real.threads_deleted == 2 and real.checkpoints_deleted > 0
    after = table_counts(open_saver)
    assert rows["history_checkpoints"] - after["history_checkpoints"] == dry.checkpoints_deleted
    assert rows["history_writes"] - after["history_writes"] == dry.writes_deleted
    assert rows["history_blobs"] - after["history_blobs"] == dry.blobs_deleted


# --- 8. one thread ------------------------------------------------------------------------


async def test_cleanup_of_one_thread_leaves_every_other_thread_alone(open_saver: Any) -> None:
    policy = RetentionPolicy(keep_last=2, thread_ttl=WEEK)
    async with open_saver() as cp:
        for tid in ("a", "b", "c", "idle"):
            await run_steps(cp, tid)
        age(open_saver, "idle")
        others = {tid: await load_all(cp, tid) for tid in ("a", "c", "idle")}
        rows = {tid: thread_rows(open_saver, tid) for tid in ("a", "c", "idle")}
        report = await cp.acleanup(policy, thread_id="b")
        assert {tid: await load_all(cp, tid) for tid in ("a", "c", "idle")} == others
    assert {tid: thread_rows(open_saver, tid) for tid in ("a", "c", "idle")} == rows
    assert len(root_ids(open_saver, "b")) == 2
    assert (report.threads_examined, report.checkpoints_deleted) == (1, 10)


# --- 9. retention on write ----------------------------------------------------------------


async def test_retention_on_write_keeps_each_thread_near_keep_last(open_saver: Any) -> None:
    limit = 5 + TRIM_EVERY
    seen: dict[str, list[int]] = {}
    in_memory = InMemorySaver()
    memory = counter_graph(in_memory, 40)
    async with open_saver(retention=RetentionPolicy(keep_last=5)) as cp:
        graph = counter_graph(cp, 40)
        for tid in ("w1", "w2"):
            seen[tid] = []
            async for _ in graph.astream(
                {"count": 0}, {**on(tid), "recursion_limit": 100}, durability="sync"
            ):
                seen[tid].append(len(root_ids(open_saver, tid)))
            await memory.ainvoke({"count": 0}, {**on(tid), "recursion_limit": 100})
        kept = {tid: await load_all(cp, tid) for tid in ("w1", "w2")}
        final = await graph.aget_state(on("w1"))
    expected = {
        t.metadata["step"]: t.checkpoint["channel_values"] async for t in in_memory.alist(on("w1"))
    }
    assert final.values == {"count": 40}
    for tid in ("w1", "w2"):
        assert len(seen[tid]) == 40
        assert max(seen[tid]) <= limit, seen[tid]
        assert 5 <= len(kept[tid]) <= limit
        for t in kept[tid].values():
            assert t.checkpoint["channel_values"] == expected[t.metadata["step"]]


# --- 10. the background sweeper -----------------------------------------------------------


async def test_sweeping_runs_cleanups_in_the_background(open_saver: Any) -> None:
    before = live_sweepers()
    async with open_saver(retention=RetentionPolicy(keep_last=2)) as cp:
        for tid in ("a", "b"):
            await put_counter_chain(cp, tid, 6)
        async with cp.sweeping(every=0.01):
            sweeper = cp.sweeper
            assert sweeper is not None
            await wait_for(lambda: sweeper.sweeps >= 2, "two sweeps")
        assert cp.sweeper is None
        assert live_sweepers() <= before
    assert sweeper.failures == 0
    assert {tid: len(root_ids(open_saver, tid)) for tid in ("a", "b")} == {"a": 2, "b": 2}


async def test_start_sweeper_applies_its_policy_until_stopped(open_saver: Any) -> None:
    before = live_sweepers()
    async with open_saver() as cp:
        await put_counter_chain(cp, "idle", 3)
        await put_counter_chain(cp, "busy", 3)
        age(open_saver, "idle")
        cp.start_sweeper(0.01, RetentionPolicy(thread_ttl=WEEK))
        sweeper = cp.sweeper
        await wait_for(lambda: not root_ids(open_saver, "idle"), "the idle thread to go")
        await wait_for(lambda: sweeper.sweeps >= 1, "a finished sweep")
        await cp.astop_sweeper()
        assert cp.sweeper is None
        assert live_sweepers() <= before
        sweeps = sweeper.sweeps
        assert len(root_ids(open_saver, "busy")) == 3
        await put_counter_chain(cp, "after", 2)
    assert sweeper.sweeps == sweeps
    assert sweeper.last_report is not None


async def test_from_conn_string_with_sweep_every_sweeps_until_closed(open_saver: Any) -> None:
    before = live_sweepers()
    async with open_saver(retention=RetentionPolicy(keep_last=1), sweep_every=0.01) as cp:
        sweeper = cp.sweeper
        assert sweeper is not None
        await put_counter_chain(cp, "t", 4)  # fewer puts than TRIM_EVERY: no trim on write
        await wait_for(lambda: len(root_ids(open_saver, "t")) == 1, "the sweep to trim t")
    assert live_sweepers() <= before


async def test_a_sweep_skips_a_thread_it_cannot_read_logs_it_and_trims_the_others(
    open_saver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="saver.sweeper")
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 6)
        await put_counter_chain(cp, "other", 6)
        head = checkpoint_id(6)
        (good,) = raw_rows(
            open_saver,
            "SELECT blob_versions FROM history_checkpoints WHERE checkpoint_id = ? "
            "AND thread_id = 't'",
            (head,),
        )[0]
        bad = "{not json" if open_saver.schema is None else '["not", "an", "object"]'
        sql = (
            "UPDATE history_checkpoints SET blob_versions = ? WHERE checkpoint_id = ? "
            "AND thread_id = 't'"
        )
        raw_rows(open_saver, sql, (bad, head))
        cp.start_sweeper(0.01, RetentionPolicy(keep_last=2))
        sweeper = cp.sweeper
        try:
            await wait_for(lambda: len(root_ids(open_saver, "other")) == 2, "the other trimmed")
            await wait_for(lambda: sweeper.sweeps >= 2, "two sweeps")
            assert len(root_ids(open_saver, "t")) == 6
            assert sweeper.failures == 0
            raw_rows(open_saver, sql, (json.dumps(as_object(good)), head))
            await wait_for(lambda: len(root_ids(open_saver, "t")) == 2, "a sweep after repair")
        finally:
            await cp.astop_sweeper()
    warned = [r.getMessage() for r in caplog.records if r.name == "saver.sweeper"]
    assert warned and "skipped 1 threads" in warned[0] and "'t'" in warned[0]
    assert "saver doctor" in warned[0]


async def test_stopping_the_sweeper_in_the_middle_of_a_sweep_leaves_the_saver_usable(
    open_saver: Any,
) -> None:
    """The sweeper is stopped while its sweep waits for a lock another connection holds, and
    the lock is let go around the stop: the stop returns, and the saver reads and writes."""
    tid = f"held-{uuid.uuid4().hex}"
    async with open_saver() as cp:
        await put_counter_chain(cp, tid, 6)
        held = HeldThread(open_saver, tid)
        try:
            waiting = await held.waiter(cp)
            cp.start_sweeper(0.01, RetentionPolicy(keep_last=2))
            await wait_for(waiting, "the sweep to wait for the lock")
            if open_saver.class_name.startswith("Async"):
                # An async stop cancels the sweep in hand at once; the lock goes after that.
                stopping = asyncio.ensure_future(cp.astop_sweeper())  # unasync: remove
                await asyncio.sleep(0)  # unasync: remove
                held.release()
                await wait_for(stopping.done, "the stop to return", 10)  # unasync: remove
            else:
                # A sync stop lets the sweep in hand finish, so the lock goes first.
                held.release()
                await cp.astop_sweeper()
        finally:
            held.release()
        assert cp.sweeper is None
        await put_counter_chain(cp, "after", 2)
        latest = await cp.aget_tuple(config("after"))
        assert latest.checkpoint["channel_values"] == {"topic": "topic-of-after", "count": 2}
        await cp.acleanup(RetentionPolicy(keep_last=2))
    assert len(root_ids(open_saver, tid)) == 2


async def test_closing_the_saver_stops_a_sweeper_started_on_it(open_saver: Any) -> None:
    before = live_sweepers()
    async with open_saver() as cp:
        cp.start_sweeper(0.01, RetentionPolicy(keep_last=2))
        await wait_for(lambda: cp.sweeper.sweeps >= 1, "a sweep")
    try:
        assert live_sweepers() <= before, "the sweeper outlived its saver"
    finally:
        await cp.astop_sweeper()


async def test_start_sweeper_refuses_a_second_sweeper_no_policy_or_a_bad_interval(
    open_saver: Any,
) -> None:
    before = live_sweepers()
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="needs a policy"):
            cp.start_sweeper(0.01)
        for every in (0, -1, "5m"):
            with pytest.raises(InvalidConfigError, match="every"):
                cp.start_sweeper(every, RetentionPolicy(keep_last=2))  # type: ignore[arg-type]
        cp.start_sweeper(0.01, RetentionPolicy(keep_last=2))
        try:
            with pytest.raises(InvalidConfigError, match="already running"):
                cp.start_sweeper(0.01, RetentionPolicy(keep_last=3))
        finally:
            await cp.astop_sweeper()
        assert live_sweepers() <= before


# --- 11. a concurrent writer --------------------------------------------------------------


class Writer:
    """Puts checkpoints to one thread, continuing its chain, from another thread through a
    saver of its own on the same storage. It writes as far as it is allowed, then waits for
    more allowance (so a tight loop cannot starve the cleanup of SQLite's write lock)."""

    def __init__(self, open_saver: Any, thread_id: str, parent: str, first: int) -> None:
        self.open_saver, self.thread_id = open_saver, thread_id
        self.parent, self.first = parent, first
        self.written: list[tuple[int, str]] = []
        self.errors: list[BaseException] = []
        self.allowed = 0
        self.finished = self.stopping = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self.main, name="retention-writer")

    def main(self) -> None:
        try:
            run_to_end(self.write)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            self.errors.append(exc)
        finally:
            with self.changed:
                self.finished = True
                self.changed.notify_all()

    def may_write(self) -> bool:
        with self.changed:
            self.changed.wait_for(lambda: self.stopping or len(self.written) < self.allowed, 30)
            if self.stopping:
                return False
            assert len(self.written) < self.allowed, "no allowance to write came in 30s"
            return True

    async def write(self) -> None:
        async with self.open_saver() as cp:
            parent, n = self.parent, self.first
            while self.may_write():
                topic = f"topic-of-{self.thread_id}"
                saved = await put_step(
                    cp,
                    self.thread_id,
                    n,
                    {"topic": topic, "count": n},
                    {"topic": 1, "count": n},
                    changed={"count": n},
                    parent=parent,
                )
                parent = saved["configurable"]["checkpoint_id"]
                with self.changed:
                    self.written.append((n, parent))
                    self.changed.notify_all()
                n += 1

    def allow(self, more: int) -> None:
        with self.changed:
            self.allowed += more
            self.changed.notify_all()

    def wait_for_puts(self, total: int) -> None:
        with self.changed:
            self.changed.wait_for(lambda: len(self.written) >= total or self.finished, 30)
            assert not self.errors, self.errors
            assert len(self.written) >= total, "the writer stopped making progress"

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        self.thread.join(30)
        assert not self.thread.is_alive()


async def test_cleanup_beside_a_concurrent_writer_loses_nothing_and_fails_nothing(
    open_saver: Any,
) -> None:
    """All checkpoints written before are old; a writer keeps adding fresh ones to one of
    the threads, through its own saver, while a max_age cleanup walks all of them in small
    batches. After each batch the writer puts one checkpoint before the next batch starts
    and one more that races it."""
    threads = [f"t-{i:02}" for i in range(30)]
    live = threads[7]
    async with open_saver() as cp:
        for tid in threads:
            await put_counter_chain(cp, tid, 5)
        age(open_saver)
        writer = Writer(open_saver, live, parent=checkpoint_id(5), first=100)
        writer.thread.start()
        try:
            writer.allow(1)
            writer.wait_for_puts(1)

            def between_batches(report: CleanupReport) -> None:
                done = len(writer.written)
                writer.allow(2)
                writer.wait_for_puts(done + 1)

            report = await cp.acleanup(
                RetentionPolicy(max_age=timedelta(days=1)), batch_size=10, progress=between_batches
            )
        finally:
            writer.stop()
        assert writer.errors == []
        kept = await load_all(cp, live)
    assert report.batches >= 10
    assert len(writer.written) > report.batches
    assert sorted(kept) == sorted(("", cid) for _, cid in writer.written)
    for n, cid in writer.written:
        values = kept[("", cid)].checkpoint["channel_values"]
        assert values == {"topic": f"topic-of-{live}", "count": n}
    for tid in threads:
        if tid != live:
            assert root_ids(open_saver, tid) == [checkpoint_id(5)]
    assert report.checkpoints_deleted == (len(threads) - 1) * 4 + 5


# --- 12. a cleanup killed halfway ---------------------------------------------------------


class Killed(Exception):
    """Stands for the process dying between two batches."""


async def fill_for_kill(open_saver: Any, namespace: str) -> None:
    async with open_saver(namespace=namespace) as cp:
        for i in range(8):
            tid = f"t-{i}"
            await put_counter_chain(cp, tid, 6, with_writes=True)
            await put_counter_chain(cp, tid, 3, checkpoint_ns="tool:x", first=10, with_writes=True)
    raw_rows(
        open_saver,
        "UPDATE history_checkpoints SET created_at = created_at - ? "
        "WHERE namespace = ? AND thread_id IN ('t-0', 't-3', 't-6')",
        (OLD * DAY, namespace),
    )


async def test_a_cleanup_killed_halfway_leaves_a_consistent_database_and_the_next_run_finishes(
    open_saver: Any,
) -> None:
    policy = RetentionPolicy(keep_last=2, thread_ttl=WEEK)
    for namespace in ("whole", "killed"):
        await fill_for_kill(open_saver, namespace)
    assert stored(open_saver, "whole") == stored(open_saver, "killed")
    async with open_saver(namespace="whole") as cp:
        whole = await cp.acleanup(policy, batch_size=18)
    blobs_before = stored(open_saver, "killed")["blobs"]
    deleted_when_killed: list[int] = []

    def die_after_first_batch(report: CleanupReport) -> None:
        deleted_when_killed.append(report.checkpoints_deleted)
        raise Killed

    async with open_saver(namespace="killed") as cp:
        with pytest.raises(Killed):
            await cp.acleanup(policy, batch_size=18, progress=die_after_first_batch)
        assert 0 < deleted_when_killed[0] < whole.checkpoints_deleted
        assert_consistent(open_saver, blobs_before, "killed")
        for i in range(8):
            for t in (await load_all(cp, f"t-{i}")).values():
                assert t is not None and "count" in t.checkpoint["channel_values"]
        rest = await cp.acleanup(policy, batch_size=18)
    assert stored(open_saver, "killed") == stored(open_saver, "whole")
    assert deleted_when_killed[0] + rest.checkpoints_deleted == whole.checkpoints_deleted
    assert whole.threads_deleted == 3


# --- 13. bad arguments --------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["x", "30d", None, {"keep_last": 2}])
async def test_cleanup_with_something_other_than_a_policy_deletes_nothing(
    open_saver: Any, policy: Any
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 6, with_writes=True)
        rows = table_counts(open_saver)
        with pytest.raises(InvalidConfigError, match="RetentionPolicy"):
            await cp.acleanup(policy)
    assert table_counts(open_saver) == rows


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "10"])
async def test_cleanup_with_a_bad_batch_size_deletes_nothing(
    open_saver: Any, batch_size: Any
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 6, with_writes=True)
        rows = table_counts(open_saver)
        with pytest.raises(InvalidConfigError, match="batch_size"):
            await cp.acleanup(RetentionPolicy(keep_last=1), batch_size=batch_size)
        with pytest.raises(InvalidConfigError, match="batch_size"):
            await cp.acleanup(RetentionPolicy(keep_last=1), dry_run=True, batch_size=batch_size)
    assert table_counts(open_saver) == rows


@pytest.mark.parametrize("before", ["2020-01-01", 1_600_000_000, None])
async def test_delete_checkpoints_needs_a_datetime(open_saver: Any, before: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3)
        age(open_saver)
        with pytest.raises(InvalidConfigError, match="before must be a datetime"):
            await cp.adelete_checkpoints(before=before)
    assert len(root_ids(open_saver, "t")) == 3


async def test_a_saver_refuses_a_retention_that_is_not_a_policy(open_saver: Any) -> None:
    with pytest.raises(InvalidConfigError, match="retention must be a RetentionPolicy"):
        async with open_saver(retention="30d"):
            pass


async def test_start_sweeper_refuses_something_other_than_a_policy_at_once(
    open_saver: Any,
) -> None:
    """A bad policy must fail the call, not every background sweep after it."""
    async with open_saver() as cp:
        try:
            with pytest.raises(InvalidConfigError, match="RetentionPolicy"):
                cp.start_sweeper(0.01, "30d")  # type: ignore[arg-type]
        finally:
            await cp.astop_sweeper()


async def test_start_sweeper_refuses_a_bad_batch_size_at_once(open_saver: Any) -> None:
    async with open_saver() as cp:
        try:
            with pytest.raises(InvalidConfigError, match="batch_size"):
                cp.start_sweeper(0.01, RetentionPolicy(keep_last=2), batch_size=0)
        finally:
            await cp.astop_sweeper()


async def test_a_trim_on_write_that_fails_does_not_fail_the_put(open_saver: Any) -> None:
    """The checkpoint is stored before the trim runs; the trim's error is logged, not raised.
    (max_age makes the trim read every row, the unreadable one too.)"""
    policy = RetentionPolicy(keep_last=3, max_age=timedelta(days=365))
    async with open_saver(retention=policy) as cp:
        stored = await put_counter_chain(cp, "t", 2)
        corrupt_json(open_saver, "metadata", "t", stored[0]["configurable"]["checkpoint_id"])
        more = await put_counter_chain(cp, "t", 10, first=3)
        for saved in more:
            assert await cp.aget_tuple(saved) is not None


async def sqlite_pragma(cp: Any, name: str) -> Any:
    cursor = await cp.conn.execute(f"PRAGMA {name}")
    row = await cursor.fetchone()
    return row[0]


async def test_a_sqlite_cleanup_leaves_the_connection_settings_as_it_found_them(
    open_sqlite_saver: Any,
) -> None:
    """A cleanup batch commits without fsync and frees pages without zero-filling them;
    the saver's own writes afterwards are durable (FULL) and as secure as the build says."""
    async with open_sqlite_saver() as cp:
        await put_counter_chain(cp, "t", 6)
        before = await sqlite_pragma(cp, "secure_delete")
        await cp.acleanup(RetentionPolicy(keep_last=2))
        after = (await sqlite_pragma(cp, "synchronous"), await sqlite_pragma(cp, "secure_delete"))
    assert after == (2, before)
