"""delete_for_runs, copy_thread and prune: what goes, what stays, and that blobs follow."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from saver.errors import InvalidConfigError
from tests.savers._async.spec_helpers import (
    TABLES,
    checkpoint_id,
    config,
    count_rows,
    ids,
    put_counter_chain,
    put_step,
    thread_rows,
    whole_thread,
)
from tests.support import raw_rows


def blob_keys(store: Any, thread_id: str) -> set[tuple[str, str, str]]:
    found = raw_rows(
        store,
        "SELECT checkpoint_ns, channel, version FROM history_blobs WHERE thread_id = ?",
        (thread_id,),
    )
    return {(ns, ch, v) for ns, ch, v in found}


def summary(tuples: list[Any]) -> list[tuple[Any, ...]]:
    """Everything a tuple says except its thread id."""
    return [
        (
            t.config["configurable"]["checkpoint_ns"],
            t.config["configurable"]["checkpoint_id"],
            t.parent_config["configurable"]["checkpoint_id"] if t.parent_config else None,
            t.checkpoint,
            t.metadata,
            t.pending_writes,
        )
        for t in tuples
    ]


# --- delete_for_runs ------------------------------------------------------------------------


async def put_two_runs(cp: Any, thread_id: str = "t") -> None:
    """run-a writes checkpoints 1-2 (topic set at 1), run-b writes 3-4 (topic unchanged)."""
    parent = None
    for n in (1, 2, 3, 4):
        run = "run-a" if n <= 2 else "run-b"
        changed: dict[str, int] = {"count": n, **({"topic": 1} if n == 1 else {})}
        saved = await put_step(
            cp,
            thread_id,
            n,
            {"topic": "shared", "count": n},
            {"topic": 1, "count": n},
            changed=changed,
            parent=parent,
            metadata={"source": "loop", "step": n, "run_id": run},
        )
        await cp.aput_writes(saved, [("count", n * 10)], task_id=f"task-{n}")
        parent = saved["configurable"]["checkpoint_id"]


async def test_delete_for_runs_removes_the_checkpoints_of_those_runs(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_two_runs(cp)
        await cp.adelete_for_runs(["run-a"])
        left = [t async for t in cp.alist(config("t"))]
    assert ids(left) == [checkpoint_id(4), checkpoint_id(3)]
    assert {t.metadata["run_id"] for t in left} == {"run-b"}


async def test_delete_for_runs_removes_the_writes_of_deleted_checkpoints(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_two_runs(cp)
        await cp.adelete_for_runs(["run-a"])
    assert count_rows(open_saver, "history_writes", "thread_id = 't'") == 2


async def test_delete_for_runs_keeps_blobs_a_surviving_checkpoint_still_uses(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_two_runs(cp)
        await cp.adelete_for_runs(["run-a"])
        latest = await cp.aget_tuple(config("t"))
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"topic": "shared", "count": 4}
    assert latest.pending_writes == [("task-4", "count", 40)]


async def test_delete_for_runs_removes_blobs_no_surviving_checkpoint_uses(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_two_runs(cp)
        await cp.adelete_for_runs(["run-a"])
    assert blob_keys(open_saver, "t") == {
        ("", "topic", "1"),
        ("", "count", "3"),
        ("", "count", "4"),
    }


async def test_delete_for_runs_reaches_every_thread_of_the_run(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_two_runs(cp, "t1")
        await put_two_runs(cp, "t2")
        await put_counter_chain(cp, "unrelated", 2, metadata={"run_id": "run-c"})
        await cp.adelete_for_runs(["run-a", "run-b"])
        assert await cp.aget_tuple(config("t1")) is None
        assert await cp.aget_tuple(config("t2")) is None
        assert await cp.aget_tuple(config("unrelated")) is not None
    for thread in ("t1", "t2"):
        assert thread_rows(open_saver, thread) == dict.fromkeys(TABLES, 0)


async def test_delete_for_runs_with_an_unknown_or_empty_run_list_changes_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_two_runs(cp)
        before = thread_rows(open_saver, "t")
        await cp.adelete_for_runs([])
        await cp.adelete_for_runs(["no-such-run"])
        assert thread_rows(open_saver, "t") == before
        assert len([t async for t in cp.alist(config("t"))]) == 4


# --- copy_thread ----------------------------------------------------------------------------


async def put_rich_thread(cp: Any, thread_id: str) -> None:
    """Two checkpoint namespaces, parent chains, writes and shared blobs."""
    await put_counter_chain(cp, thread_id, 3, with_writes=True)
    await put_counter_chain(cp, thread_id, 2, checkpoint_ns="child:1", first=4, with_writes=True)


async def test_copy_thread_copies_every_checkpoint_with_the_same_ids(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "src")
        await cp.acopy_thread("src", "dst")
        source = [t async for t in cp.alist(whole_thread("src"))]
        copied = [t async for t in cp.alist(whole_thread("dst"))]
    assert len(copied) == 5
    assert summary(copied) == summary(source)
    assert {t.config["configurable"]["thread_id"] for t in copied} == {"dst"}


async def test_copy_thread_copies_every_checkpoint_blob_and_write_row(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "src")
        await cp.acopy_thread("src", "dst")
    assert thread_rows(open_saver, "dst") == thread_rows(open_saver, "src")
    assert blob_keys(open_saver, "dst") == blob_keys(open_saver, "src")


async def test_copy_thread_leaves_the_source_unchanged(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "src")
        before = [t async for t in cp.alist(whole_thread("src"))]
        await cp.acopy_thread("src", "dst")
        await put_step(cp, "dst", 99, {"count": 99}, {"count": 99}, parent=checkpoint_id(3))
        await cp.aprune(["dst"])
        after = [t async for t in cp.alist(whole_thread("src"))]
    assert summary(after) == summary(before)


async def test_copy_thread_refuses_a_target_that_already_has_checkpoints(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "src")
        await put_counter_chain(cp, "dst", 1, first=50)
        before = thread_rows(open_saver, "dst")
        with pytest.raises(InvalidConfigError, match="already has"):
            await cp.acopy_thread("src", "dst")
        assert thread_rows(open_saver, "dst") == before
        assert ids([t async for t in cp.alist(whole_thread("dst"))]) == [checkpoint_id(50)]


async def test_copy_thread_onto_itself_is_rejected(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "src")
        with pytest.raises(InvalidConfigError, match="src"):
            await cp.acopy_thread("src", "src")
        assert len([t async for t in cp.alist(whole_thread("src"))]) == 5


async def test_copy_thread_of_an_unknown_thread_creates_nothing(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.acopy_thread("nobody", "dst")
        assert await cp.aget_tuple(config("dst")) is None


class Steps(TypedDict):
    log: list[str]


def build_two_step_graph(checkpointer: Any) -> Any:
    def first(state: Steps) -> dict[str, list[str]]:
        return {"log": [*state["log"], "first"]}

    def second(state: Steps) -> dict[str, list[str]]:
        return {"log": [*state["log"], "second"]}

    graph = StateGraph(Steps)
    graph.add_node("first", first)
    graph.add_node("second", second)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    graph.add_edge("second", END)
    return graph.compile(checkpointer=checkpointer, interrupt_before=["second"])


async def test_a_copied_thread_resumes_a_real_graph_from_where_the_source_stopped(
    open_saver: Any,
) -> None:
    src = {"configurable": {"thread_id": "src"}}
    dst = {"configurable": {"thread_id": "dst"}}
    async with open_saver() as cp:
        graph = build_two_step_graph(cp)
        await graph.ainvoke({"log": ["start"]}, src)
        assert (await graph.aget_state(src)).next == ("second",)
        await cp.acopy_thread("src", "dst")
        copied = await graph.aget_state(dst)
        assert copied.next == ("second",)
        assert copied.values == {"log": ["start", "first"]}
        assert await graph.ainvoke(None, dst) == {"log": ["start", "first", "second"]}
        source = await graph.aget_state(src)
    assert source.next == ("second",)
    assert source.values == {"log": ["start", "first"]}


# --- prune ----------------------------------------------------------------------------------


async def test_prune_keep_latest_keeps_only_the_latest_checkpoint_of_each_checkpoint_ns(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        await cp.aprune(["t"])
        root = [t async for t in cp.alist(config("t", ""))]
        child = [t async for t in cp.alist(config("t", "child:1"))]
    assert ids(root) == [checkpoint_id(3)]
    assert ids(child) == [checkpoint_id(5)]


async def test_prune_keep_latest_keeps_the_latest_values_including_long_unchanged_ones(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        before = await cp.aget_tuple(config("t"))
        await cp.aprune(["t"])
        after = await cp.aget_tuple(config("t"))
    assert before is not None and after is not None
    assert after.checkpoint == before.checkpoint
    assert after.checkpoint["channel_values"] == {"topic": "topic-of-t", "count": 3}


async def test_prune_keep_latest_keeps_the_pending_writes_of_the_latest(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        await cp.aprune(["t"])
        root = await cp.aget_tuple(config("t"))
        child = await cp.aget_tuple(config("t", "child:1"))
    assert root is not None and child is not None
    assert root.pending_writes == [("task-3", "count", 4)]
    assert child.pending_writes == [("task-5", "count", 6)]
    assert count_rows(open_saver, "history_writes", "thread_id = 't'") == 2


async def test_prune_keep_latest_removes_blob_rows_no_kept_checkpoint_refers_to(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        assert count_rows(open_saver, "history_blobs", "thread_id = 't'") == 7
        await cp.aprune(["t"])
    assert blob_keys(open_saver, "t") == {
        ("", "topic", "1"),
        ("", "count", "3"),
        ("child:1", "topic", "1"),
        ("child:1", "count", "5"),
    }


async def test_prune_keep_latest_leaves_other_threads_alone(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        await put_rich_thread(cp, "other")
        before = thread_rows(open_saver, "other")
        await cp.aprune(["t"])
        assert len([t async for t in cp.alist(whole_thread("other"))]) == 5
    assert thread_rows(open_saver, "other") == before


async def test_prune_keep_latest_prunes_every_listed_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "a")
        await put_rich_thread(cp, "b")
        await cp.aprune(["a", "b", "never-existed"])
        for thread in ("a", "b"):
            assert len([t async for t in cp.alist(whole_thread(thread))]) == 2


async def test_prune_keep_latest_twice_changes_nothing_the_second_time(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        await cp.aprune(["t"])
        once = thread_rows(open_saver, "t")
        await cp.aprune(["t"])
        assert thread_rows(open_saver, "t") == once
        latest = await cp.aget_tuple(config("t"))
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"topic": "topic-of-t", "count": 3}


async def test_a_pruned_thread_keeps_growing_from_its_latest_checkpoint(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        await cp.aprune(["t"])
        await put_step(
            cp,
            "t",
            9,
            {"topic": "topic-of-t", "count": 9},
            {"topic": 1, "count": 9},
            changed={"count": 9},
            parent=checkpoint_id(3),
        )
        latest = await cp.aget_tuple(config("t"))
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"topic": "topic-of-t", "count": 9}
    assert latest.parent_config == config("t", "", checkpoint_id(3))


async def test_prune_delete_removes_every_row_of_the_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "t")
        await put_rich_thread(cp, "other")
        before = thread_rows(open_saver, "other")
        await cp.aprune(["t"], strategy="delete")
        assert await cp.aget_tuple(config("t")) is None
        assert [t async for t in cp.alist(whole_thread("t"))] == []
    assert thread_rows(open_saver, "t") == dict.fromkeys(TABLES, 0)
    assert thread_rows(open_saver, "other") == before


async def test_prune_delete_of_several_threads_removes_each(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_rich_thread(cp, "a")
        await put_rich_thread(cp, "b")
        await put_rich_thread(cp, "c")
        await cp.aprune(["a", "b"], strategy="delete")
        assert [t.config["configurable"]["thread_id"] async for t in cp.alist(None)] == ["c"] * 5
