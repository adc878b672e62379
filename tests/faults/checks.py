"""What the fault tests require of a thread after a fault: every checkpoint reported as
committed reads back whole, the history is one unbroken chain, and the thread goes on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple

from tests.faults.graph import build_graph, check_values, config_of


def read_whole(saver: Any, thread: str, checkpoint_id: str, where: str) -> CheckpointTuple:
    """get_tuple of one checkpoint: there, values whole, parent there too."""
    got = saver.get_tuple(config_of(thread, checkpoint_id))
    assert got is not None, f"{where}: checkpoint {checkpoint_id} is gone"
    assert got.checkpoint["id"] == checkpoint_id, where
    check_values(got.checkpoint["channel_values"], f"{where} {checkpoint_id}")
    if got.parent_config is not None:
        parent_id = got.parent_config["configurable"]["checkpoint_id"]
        parent = saver.get_tuple(config_of(thread, parent_id))
        assert parent is not None, f"{where}: parent {parent_id} of {checkpoint_id} is gone"
    return got


def check_reported(
    saver: Any, thread: str, puts: list[dict[str, Any]], writes: Iterable[dict[str, Any]]
) -> list[str]:
    """Every put and put_writes a child reported as returned is there, whole; returns the
    checkpoints of reported writes that are not there, none of them a reported put.

    LangGraph saves a step's writes as its tasks finish, and a step's checkpoint in the
    background: with durability="async" (its default) the tasks run while their
    checkpoint is being put, and with "sync" too in the first step of an invoke. A writer
    killed then leaves writes of a checkpoint that never committed (and whose put was never
    reported), which no reader sees: not a lost step."""
    reported = {put["id"] for put in puts}
    for put in puts:
        got = read_whole(saver, thread, put["id"], "reported put")
        assert got.metadata.get("step") == put["step"], (put, got.metadata)
        assert got.checkpoint["channel_values"].get("count", 0) == put["count"], put
        parent = got.parent_config["configurable"]["checkpoint_id"] if got.parent_config else None
        assert parent == put["parent"], (put, parent)
    orphans = []
    for write in writes:
        if write["id"] not in reported and saver.get_tuple(config_of(thread, write["id"])) is None:
            orphans.append(write["id"])
            continue
        got = read_whole(saver, thread, write["id"], "reported writes")
        stored = {(task, channel) for task, channel, _ in got.pending_writes or []}
        missing = {(write["task"], ch) for ch in write["channels"]} - stored
        assert not missing, f"writes of {write} lost {missing}; stored {sorted(stored)}"
    return orphans


def check_chain(saver: Any, thread: str) -> list[CheckpointTuple]:
    """The thread's history, newest first, is one chain: each checkpoint's parent is the
    next one listed, steps go down by one, the oldest has no parent, and every one (and the
    latest get_tuple gives) reads back whole. Returns the list."""
    listed = list(saver.list(config_of(thread)))
    for newer, older in zip(listed, listed[1:], strict=False):
        assert newer.parent_config is not None, f"{newer.checkpoint['id']} lost its parent"
        assert newer.parent_config["configurable"]["checkpoint_id"] == older.checkpoint["id"], (
            f"chain broken between {newer.checkpoint['id']} and {older.checkpoint['id']}"
        )
        assert newer.metadata["step"] == older.metadata["step"] + 1, (
            newer.metadata,
            older.metadata,
        )
    if listed:
        assert listed[-1].parent_config is None, "the oldest checkpoint names a parent"
        latest = saver.get_tuple(config_of(thread))
        assert latest is not None and latest.checkpoint["id"] == listed[0].checkpoint["id"]
    for tup in listed:
        check_values(tup.checkpoint["channel_values"], f"listed {tup.checkpoint['id']}")
        read_whole(saver, thread, tup.checkpoint["id"], "listed")
    return listed


def go_on(saver: Any, thread: str) -> int:
    """Finish the thread's interrupted step, if any, then run one more step: the thread is
    still writable. Returns the new count."""
    graph = build_graph(saver)
    config = config_of(thread)
    if graph.get_state(config).next:
        graph.invoke(None, config)
    count = graph.get_state(config).values.get("count", 0)
    result = graph.invoke({"goal": count + 1}, config)
    assert result["count"] == count + 1, result
    latest = saver.get_tuple(config)
    assert latest is not None and latest.checkpoint["channel_values"]["count"] == count + 1
    return count + 1
