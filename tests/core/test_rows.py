"""saver.core.rows: a put becomes rows, union rows become CheckpointTuples (no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from saver.core import codec, rows
from saver.core.config import Target
from saver.errors import CorruptRowError

SERDE = JsonPlusSerializer()
TARGET = Target("ns-a", "thread-1", "", "parent-id")


def make_checkpoint(cid: str, values: dict[str, Any], versions: dict[str, Any]) -> Any:
    cp = empty_checkpoint()
    cp["id"] = cid
    cp["channel_values"] = values
    cp["channel_versions"] = versions
    return cp


def c_row(
    thread_id: str,
    cid: str,
    versions: dict[str, Any],
    *,
    ns: str = "",
    parent: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    body = {k: v for k, v in make_checkpoint(cid, {}, versions).items() if k != "channel_values"}
    type_, data = SERDE.dumps_typed(body)
    blob_versions = json.dumps({k: str(v) for k, v in versions.items()})
    meta = json.dumps(metadata or {})
    return ("c", thread_id, ns, cid, parent, None, 0.0, type_, data, meta, blob_versions)


def b_row(
    thread_id: str, channel: str, version: Any, value: Any, *, ns: str = "", fmt: int = 1
) -> tuple[Any, ...]:
    type_, data = SERDE.dumps_typed(value)
    return ("b", thread_id, ns, channel, str(version), None, fmt, type_, data, None, None)


def w_row(
    thread_id: str,
    cid: str,
    task_id: str,
    idx: int,
    channel: str,
    value: Any,
    *,
    ns: str = "",
    task_path: str = "",
) -> tuple[Any, ...]:
    type_, data = SERDE.dumps_typed(value)
    return ("w", thread_id, ns, cid, task_id, task_path, idx, type_, data, channel, None)


# --- a put becomes rows ---------------------------------------------------------------------


def test_checkpoint_row_leads_with_the_target_and_names_the_parent() -> None:
    cp = make_checkpoint("cid-2", {"a": 1}, {"a": 1})
    row = rows.checkpoint_row(TARGET, SERDE, {"configurable": {}}, cp, {"step": 2})
    assert row[:5] == ("thread-1", "ns-a", "", "cid-2", "parent-id")


def test_checkpoint_row_body_leaves_channel_values_to_the_blobs() -> None:
    cp = make_checkpoint("cid-2", {"a": "big value"}, {"a": 1})
    row = rows.checkpoint_row(TARGET, SERDE, {"configurable": {}}, cp, {})
    body = SERDE.loads_typed((row[5], codec.unpack(row[5], row[6], "here")))
    assert "channel_values" not in body
    assert body["channel_versions"] == {"a": 1}


@pytest.mark.parametrize("compress", [True, False])
def test_only_a_packed_checkpoint_body_leaves_its_id_to_the_column(compress: bool) -> None:
    """An older saver refuses packed bytes but would read a plain body, so that keeps its id."""
    cp = make_checkpoint("cid-2", {}, {"a": 1})
    cp["versions_seen"] = {"agent": {"a": "x" * 60}}  # enough bytes to be worth packing
    row = rows.checkpoint_row(TARGET, SERDE, {"configurable": {}}, cp, {}, compress)
    body = SERDE.loads_typed((row[5], codec.unpack(row[5], row[6], "here")))
    assert codec.is_packed(row[5], row[6]) is compress
    assert ("id" in body) is not compress and row[3] == "cid-2"


def test_checkpoint_row_stores_versions_as_strings_and_metadata_as_json() -> None:
    cp = make_checkpoint("cid-2", {}, {"a": 3, "b": "00002.5"})
    row = rows.checkpoint_row(TARGET, SERDE, {"configurable": {}}, cp, {"step": 2, "k": [1]})
    assert json.loads(row[7]) == {"a": "3", "b": "00002.5"}
    assert json.loads(row[8]) == {"step": 2, "k": [1]}


def test_checkpoint_row_takes_run_id_from_metadata() -> None:
    cp = make_checkpoint("cid-2", {}, {})
    with_run = rows.checkpoint_row(TARGET, SERDE, {"configurable": {}}, cp, {"run_id": "r-1"})
    without = rows.checkpoint_row(TARGET, SERDE, {"configurable": {}}, cp, {})
    assert with_run[9] == "r-1"
    assert without[9] is None


def test_blob_rows_cover_only_channels_with_a_new_version() -> None:
    cp = make_checkpoint("cid", {"a": 1, "b": 2}, {"a": 1, "b": 7})
    out = rows.blob_rows(TARGET, SERDE, cp, {"b": 7})
    assert [(r[3], r[4], r[5]) for r in out] == [("b", "7", codec.FORMAT_FULL)]
    assert out[0][:3] == ("thread-1", "ns-a", "")
    assert SERDE.loads_typed((out[0][6], out[0][7])) == 2


def test_blob_rows_skip_a_new_version_whose_value_is_absent() -> None:
    """A DeltaChannel between snapshots bumps its version but stores no value."""
    cp = make_checkpoint("cid", {"a": 1}, {"a": 1, "delta": 4})
    assert [r[3] for r in rows.blob_rows(TARGET, SERDE, cp, {"a": 1, "delta": 4})] == ["a"]


def test_write_rows_split_special_writes_from_regular_ones() -> None:
    replace, keep_first = rows.write_rows(
        TARGET, SERDE, "cid", [("a", 1), ("__error__", "boom"), ("b", 2)], "task", "path"
    )
    assert [(r[5], r[7]) for r in keep_first] == [(0, "a"), (2, "b")]
    assert [(r[5], r[7]) for r in replace] == [(-1, "__error__")]
    assert {r[:5] for r in replace + keep_first} == {("thread-1", "ns-a", "", "cid", "task")}
    assert {r[6] for r in replace + keep_first} == {"path"}


# --- union rows become tuples ---------------------------------------------------------------


def test_tuples_come_back_newest_checkpoint_first() -> None:
    found = rows.TupleReader(SERDE).read(
        [c_row("t", "cid-1", {}), c_row("t", "cid-3", {}), c_row("t", "cid-2", {})]
    )
    assert [t.config["configurable"]["checkpoint_id"] for t in found] == [
        "cid-3",
        "cid-2",
        "cid-1",
    ]


def test_a_tuple_has_config_parent_config_and_metadata() -> None:
    (tup,) = rows.TupleReader(SERDE).read(
        [c_row("t", "cid-2", {}, ns="child:1", parent="cid-1", metadata={"step": 4})]
    )
    assert tup.config == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "child:1", "checkpoint_id": "cid-2"}
    }
    assert tup.parent_config == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "child:1", "checkpoint_id": "cid-1"}
    }
    assert tup.metadata == {"step": 4}
    assert tup.pending_writes == []


def test_a_root_checkpoint_has_no_parent_config() -> None:
    (tup,) = rows.TupleReader(SERDE).read([c_row("t", "cid-1", {})])
    assert tup.parent_config is None


def test_values_are_the_blobs_matching_each_channel_version() -> None:
    found = rows.TupleReader(SERDE).read(
        [
            c_row("t", "cid-2", {"a": 2, "b": 1}),
            c_row("t", "cid-1", {"a": 1, "b": 1}),
            b_row("t", "a", 1, "a-one"),
            b_row("t", "a", 2, "a-two"),
            b_row("t", "b", 1, "b-one"),
        ]
    )
    assert [t.checkpoint["channel_values"] for t in found] == [
        {"a": "a-two", "b": "b-one"},
        {"a": "a-one", "b": "b-one"},
    ]


def test_a_channel_version_without_a_blob_has_no_value() -> None:
    (tup,) = rows.TupleReader(SERDE).read([c_row("t", "cid-1", {"a": 1, "delta": 3})])
    assert tup.checkpoint["channel_values"] == {}
    assert tup.checkpoint["channel_versions"] == {"a": 1, "delta": 3}


def test_blobs_of_another_thread_or_checkpoint_ns_are_never_mixed_in() -> None:
    found = rows.TupleReader(SERDE).read(
        [
            c_row("t1", "cid-1", {"a": 1}),
            c_row("t2", "cid-1", {"a": 1}, ns="child:1"),
            b_row("t1", "a", 1, "from-t1"),
            b_row("t2", "a", 1, "from-t2-child", ns="child:1"),
        ]
    )
    by_thread = {t.config["configurable"]["thread_id"]: t for t in found}
    assert by_thread["t1"].checkpoint["channel_values"] == {"a": "from-t1"}
    assert by_thread["t2"].checkpoint["channel_values"] == {"a": "from-t2-child"}


def test_pending_writes_are_ordered_by_task_path_task_id_and_idx() -> None:
    (tup,) = rows.TupleReader(SERDE).read(
        [
            c_row("t", "cid", {}),
            w_row("t", "cid", "task-b", 1, "x", "b1", task_path="~1"),
            w_row("t", "cid", "task-b", 0, "x", "b0", task_path="~1"),
            w_row("t", "cid", "task-a", 0, "x", "a0", task_path="~2"),
            w_row("t", "cid", "task-z", 0, "x", "input"),
        ]
    )
    assert tup.pending_writes == [
        ("task-z", "x", "input"),
        ("task-b", "x", "b0"),
        ("task-b", "x", "b1"),
        ("task-a", "x", "a0"),
    ]


def test_pending_writes_belong_only_to_their_own_checkpoint() -> None:
    found = rows.TupleReader(SERDE).read(
        [
            c_row("t", "cid-2", {}),
            c_row("t", "cid-1", {}),
            w_row("t", "cid-1", "task", 0, "x", "for-one"),
            w_row("t", "cid-2", "task", 0, "x", "for-two"),
        ]
    )
    assert [t.pending_writes for t in found] == [
        [("task", "x", "for-two")],
        [("task", "x", "for-one")],
    ]


def test_a_shared_blob_gives_each_tuple_its_own_container() -> None:
    found = rows.TupleReader(SERDE).read(
        [
            c_row("t", "cid-2", {"items": 1}),
            c_row("t", "cid-1", {"items": 1}),
            b_row("t", "items", 1, [1, 2]),
        ]
    )
    found[0].checkpoint["channel_values"]["items"].append(3)
    assert found[1].checkpoint["channel_values"]["items"] == [1, 2]


def test_an_undecodable_checkpoint_raises_corrupt_row_error_naming_thread_and_checkpoint() -> None:
    bad = list(c_row("thread-x", "cid-9", {}))
    bad[8] = b"\xc1\xc1"
    with pytest.raises(CorruptRowError) as caught:
        rows.TupleReader(SERDE).read([bad])
    assert "thread-x" in str(caught.value)
    assert "cid-9" in str(caught.value)


def test_a_checkpoint_body_that_is_not_a_mapping_is_corrupt() -> None:
    bad = list(c_row("t", "cid-9", {}))
    bad[7], bad[8] = SERDE.dumps_typed(["not", "a", "checkpoint"])
    with pytest.raises(CorruptRowError, match="cid-9"):
        rows.TupleReader(SERDE).read([bad])


def test_channel_versions_left_out_of_the_body_are_read_from_blob_versions() -> None:
    row = list(c_row("t", "cid-9", {"a": 1}))
    row[7], row[8] = SERDE.dumps_typed({"v": 4, "id": "cid-9", "ts": "", "versions_seen": {}})
    found = rows.TupleReader(SERDE).read([row, b_row("t", "a", 1, "value")])
    assert found[0].checkpoint["channel_versions"] == {"a": "1"}
    assert found[0].checkpoint["channel_values"] == {"a": "value"}


def test_an_undecodable_blob_raises_corrupt_row_error_naming_the_channel() -> None:
    bad = list(b_row("t", "a", 1, "x"))
    bad[8] = b"\xc1\xc1"
    with pytest.raises(CorruptRowError) as caught:
        rows.TupleReader(SERDE).read([c_row("t", "cid", {"a": 1}), bad])
    assert "'a'" in str(caught.value)


def test_a_blob_in_a_newer_format_raises_corrupt_row_error() -> None:
    with pytest.raises(CorruptRowError, match="newer"):
        rows.TupleReader(SERDE).read([c_row("t", "cid", {"a": 1}), b_row("t", "a", 1, 5, fmt=9)])


def test_invalid_metadata_json_raises_corrupt_row_error() -> None:
    bad = list(c_row("t", "cid-9", {}))
    bad[9] = "{nope"
    with pytest.raises(CorruptRowError, match="cid-9"):
        rows.TupleReader(SERDE).read([bad])


def test_a_put_read_back_through_union_rows_round_trips() -> None:
    cp = make_checkpoint("cid-2", {"a": [1, 2], "b": {"k": "v"}}, {"a": 2, "b": 1})
    target = Target("", "t", "", "cid-1")
    c = rows.checkpoint_row(target, SERDE, {"configurable": {}}, cp, {"step": 1})
    blobs = rows.blob_rows(target, SERDE, cp, {"a": 2, "b": 1})
    _, writes = rows.write_rows(target, SERDE, "cid-2", [("a", [3])], "task", "")
    union = [("c", c[0], c[2], c[3], c[4], None, c[10], c[5], c[6], c[8], c[7])]
    union += [("b", b[0], b[2], b[3], b[4], None, b[5], b[6], b[7], None, None) for b in blobs]
    union += [("w", w[0], w[2], w[3], w[4], w[6], w[5], w[8], w[9], w[7], None) for w in writes]
    (tup,) = rows.TupleReader(SERDE).read(union)
    assert tup.checkpoint == cp
    assert tup.metadata == {"step": 1}
    assert tup.pending_writes == [("task", "a", [3])]
    assert tup.parent_config is not None
    assert tup.parent_config["configurable"]["checkpoint_id"] == "cid-1"
