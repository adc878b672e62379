"""The delta encoding of growing lists (saver/core/deltas.py), without a database."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from saver.core import codec
from saver.core.deltas import Chains, DeltaTracker, join
from saver.errors import CorruptRowError

SERDE = JsonPlusSerializer()
KEY = ("", "t", "")


def put(tracker: DeltaTracker, parent: str | None, cid: str, version: str, value: Any) -> Any:
    tracker.issued(version)  # as get_next_version would have
    plan = tracker.plan(SERDE, KEY, parent, cid, {"m": version}, {"m": (version, value)})
    tracker.commit(plan)
    return plan.blobs["m"]


def messages(n: int) -> list[Any]:
    return [
        HumanMessage(f"m{i}", id=f"h{i}") if i % 2 else AIMessage(f"m{i}", id=f"a{i}")
        for i in range(n)
    ]


def test_a_list_extending_the_last_one_written_is_stored_as_its_new_items() -> None:
    tracker, value = DeltaTracker(compress=False), messages(3)
    first = put(tracker, None, "c1", "01", value)
    second = put(tracker, "c1", "c2", "02", [*value, AIMessage("new", id="n")])
    assert (first.format, second.format, second.base) == (
        codec.FORMAT_FULL,
        codec.FORMAT_DELTA,
        "01",
    )
    assert SERDE.loads_typed(("msgpack", second.data)) == [AIMessage("new", id="n")]


def test_a_snapshot_and_its_deltas_join_to_the_bytes_of_the_whole_list() -> None:
    tracker, value = DeltaTracker(compress=False, snapshot_ratio=float("inf")), messages(20)
    pieces = [put(tracker, None, "c0", "00", value[:1]).data]
    for i in range(2, 21):
        pieces.append(
            put(tracker, f"c{i - 2}" if i > 2 else "c0", f"c{i - 1}", f"{i - 1:02}", value[:i]).data
        )
    assert join(pieces, "test") == SERDE.dumps_typed(value)[1]


@pytest.mark.parametrize(
    "change",
    [
        lambda v: [
            HumanMessage("edited", id="h1"),
            *v[1:],
            AIMessage("x", id="x"),
        ],  # replaced by id
        lambda v: v[1:],  # a message removed
        lambda v: [],  # a reset
    ],
)
def test_a_list_that_does_not_extend_the_last_one_is_stored_whole(change: Any) -> None:
    tracker, value = DeltaTracker(compress=False), messages(4)
    put(tracker, None, "c1", "01", value)
    assert put(tracker, "c1", "c2", "02", change(value)).format == codec.FORMAT_FULL


def test_a_put_from_another_parent_than_the_last_one_is_stored_whole() -> None:
    tracker, value = DeltaTracker(compress=False), messages(4)
    put(tracker, None, "c1", "01", value)
    put(tracker, "c1", "c2", "02", [*value, AIMessage("a", id="a")])
    fork = put(tracker, "c1", "c3", "02.b", [*value, AIMessage("b", id="b")])
    assert fork.format == codec.FORMAT_FULL


def test_a_forgotten_thread_starts_again_with_a_snapshot() -> None:
    tracker, value = DeltaTracker(compress=False), messages(4)
    put(tracker, None, "c1", "01", value)
    tracker.forget(["t"])
    assert (
        put(tracker, "c1", "c2", "02", [*value, AIMessage("a", id="a")]).format == codec.FORMAT_FULL
    )


def test_every_max_links_deltas_a_snapshot_bounds_the_chain() -> None:
    tracker = DeltaTracker(max_links=3, compress=False, snapshot_ratio=float("inf"))
    value = messages(8)
    formats = [put(tracker, None, "c1", "01", value[:1]).format]
    for i in range(2, 9):
        formats.append(put(tracker, f"c{i - 1}", f"c{i}", f"{i:02}", value[:i]).format)
    assert formats == [1, 2, 2, 1, 2, 2, 1, 2]


def test_a_snapshot_once_the_deltas_outweigh_the_last_snapshot_keeps_snapshots_geometric() -> None:
    tracker, value = DeltaTracker(compress=False), messages(200)
    stored = [put(tracker, None, "c1", "001", value[:1])]
    for i in range(2, 201):
        stored.append(put(tracker, f"c{i - 1}", f"c{i}", f"{i:03}", value[:i]))
    snapshots = [len(e.data or b"") for e in stored if e.format == codec.FORMAT_FULL]
    deltas = sum(len(e.data or b"") for e in stored if e.format == codec.FORMAT_DELTA)
    assert all(b > 1.5 * a for a, b in zip(snapshots, snapshots[1:], strict=False))
    assert sum(snapshots) < 2 * len(SERDE.dumps_typed(value)[1]) and deltas > 0


def test_compression_shrinks_big_values_and_reads_back_the_same() -> None:
    data = SERDE.dumps_typed(["the same words again and again " * 40])[1]
    fmt, packed = codec.compress(codec.FORMAT_FULL, data)
    assert fmt == codec.FORMAT_FULL | codec.COMPRESSED_DICT and len(packed or b"") < len(data) / 4
    assert codec.plain(fmt, packed, "test") == (codec.FORMAT_FULL, data)
    assert codec.compress(codec.FORMAT_FULL, b"\x91\xa1x") == (codec.FORMAT_FULL, b"\x91\xa1x")


def test_a_delta_whose_snapshot_is_gone_is_a_corrupt_row_not_a_wrong_value() -> None:
    chains = Chains()
    chains.add(("t", "", "m", "02"), codec.FORMAT_DELTA, "msgpack", b"\x91\xa1x", "01")
    with pytest.raises(CorruptRowError, match="snapshot '01'"):
        chains.whole(("t", "", "m", "02"), "m@02")


def test_a_version_this_saver_did_not_hand_out_is_stored_whole_and_starts_no_chain() -> None:
    """Data moved in (saver migrate) names versions whose rows may exist already."""
    tracker, value = DeltaTracker(compress=False), messages(3)
    plan = tracker.plan(SERDE, KEY, None, "c1", {"m": "01"}, {"m": ("01", value)})
    tracker.commit(plan)
    after = put(tracker, "c1", "c2", "02", [*value, AIMessage("a", id="a")])
    assert (plan.blobs["m"].format, after.format) == (codec.FORMAT_FULL, codec.FORMAT_FULL)


def test_a_channel_whose_version_did_not_change_keeps_its_chain() -> None:
    tracker, value = DeltaTracker(compress=False), messages(3)
    put(tracker, None, "c1", "01", value)
    put(tracker, "c1", "c2", "02", [*value, AIMessage("a", id="a")])
    grown = [*value, AIMessage("a", id="a")]
    plan = tracker.plan(SERDE, KEY, "c2", "c3", {"m": "02"}, {"m": ("02", grown)})
    tracker.commit(plan)
    after = put(tracker, "c3", "c4", "03", [*grown, AIMessage("b", id="b")])
    assert (after.format, after.base) == (codec.FORMAT_DELTA, "01")


def test_a_second_put_from_the_same_parent_before_the_first_commits_is_stored_whole() -> None:
    """Two puts at once from one parent must not make two delta branches on one snapshot."""
    tracker, value = DeltaTracker(compress=False), messages(3)
    put(tracker, None, "c1", "01", value)
    plans = []
    for cid, version, extra in (("a", "02.a", "A"), ("b", "02.b", "B")):
        tracker.issued(version)
        grown = [*value, AIMessage(extra, id=extra)]
        plans.append(tracker.plan(SERDE, KEY, "c1", cid, {"m": version}, {"m": (version, grown)}))
    assert [p.blobs["m"].format for p in plans] == [codec.FORMAT_DELTA, codec.FORMAT_FULL]
    for plan in plans:
        tracker.commit(plan)


def test_a_put_after_one_that_failed_is_stored_whole() -> None:
    tracker, value = DeltaTracker(compress=False), messages(3)
    put(tracker, None, "c1", "01", value)
    tracker.issued("02")
    grown = [*value, AIMessage("a", id="a")]
    tracker.plan(SERDE, KEY, "c1", "c2", {"m": "02"}, {"m": ("02", grown)})  # never committed
    assert put(tracker, "c1", "c2", "02", grown).format == codec.FORMAT_FULL
