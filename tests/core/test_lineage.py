"""saver.core.lineage: parent chains, DeltaChannel replay chains and unreferenced blobs."""

from __future__ import annotations

import json

import pytest

from saver.core.lineage import Node, ancestors, delta_chain, garbage_blobs, node_from_row
from saver.errors import CorruptRowError


def node(
    cid: str,
    parent: str | None,
    versions: dict[str, str] | None = None,
    delta: tuple[str, ...] = (),
    ns: str = "",
) -> Node:
    return Node(ns, cid, parent, versions or {}, frozenset(delta))


def chain(*nodes: Node) -> dict[str, Node]:
    return {n.checkpoint_id: n for n in nodes}


def test_node_from_row_reads_versions_and_delta_channels_from_counters() -> None:
    counters = json.dumps({"items": [2, 3]})
    versions = json.dumps({"items": "5", "x": "2"})
    row = ("child:1", "cid-3", "cid-2", versions, 7.5, "1", "r1", counters)
    assert node_from_row(row) == Node(
        "child:1", "cid-3", "cid-2", {"items": "5", "x": "2"}, frozenset({"items"}), 7.5, "r1"
    )


def test_node_from_row_without_counters_has_no_delta_channels() -> None:
    row = ("", "cid-1", None, "{}", 1.0, "1", None, None)
    assert node_from_row(row).delta_channels == frozenset()


def test_a_root_checkpoint_has_no_root_parent_even_if_its_metadata_names_one() -> None:
    assert node_from_row(("", "cid-1", None, "{}", 1.0, "1", "cid-0", None)).root_parent is None


def test_node_from_row_with_unreadable_metadata_raises_corrupt_row_error() -> None:
    with pytest.raises(CorruptRowError, match="cid-1.*metadata"):
        node_from_row(("", "cid-1", None, "{}", 1.0, "", None, None))


def test_node_from_row_with_bad_versions_raises_corrupt_row_error_naming_the_checkpoint() -> None:
    node = node_from_row(("", "cid-1", None, "{bad", 1.0, "1", None, None))
    with pytest.raises(CorruptRowError, match="cid-1.*blob_versions"):
        dict(node.blob_versions)


def test_ancestors_are_listed_nearest_first() -> None:
    by_id = chain(node("c1", None), node("c2", "c1"), node("c3", "c2"))
    assert [n.checkpoint_id for n in ancestors(by_id, "c3")] == ["c3", "c2", "c1"]


def test_ancestors_of_nothing_are_empty() -> None:
    assert ancestors(chain(node("c1", None)), None) == []


def test_ancestors_stop_at_a_missing_parent() -> None:
    by_id = chain(node("c2", "gone"), node("c3", "c2"))
    assert [n.checkpoint_id for n in ancestors(by_id, "c3")] == ["c3", "c2"]


def test_ancestors_stop_at_a_loop() -> None:
    by_id = chain(node("c1", "c2"), node("c2", "c1"))
    assert [n.checkpoint_id for n in ancestors(by_id, "c2")] == ["c2", "c1"]


def test_delta_chain_of_a_head_without_delta_channels_is_empty() -> None:
    by_id = chain(node("c1", None, {"a": "1"}), node("c2", "c1", {"a": "2"}))
    assert delta_chain(by_id, by_id["c2"], set()) == []


def test_delta_chain_of_a_head_that_stores_its_delta_value_is_empty() -> None:
    by_id = chain(node("c1", None, {"d": "1"}), node("c2", "c1", {"d": "2"}, delta=("d",)))
    assert delta_chain(by_id, by_id["c2"], {("d", "2")}) == []


def test_delta_chain_reaches_back_to_and_includes_the_nearest_stored_value() -> None:
    by_id = chain(
        node("c1", None, {"d": "1"}),
        node("c2", "c1", {"d": "2"}),
        node("c3", "c2", {"d": "3"}),
        node("c4", "c3", {"d": "4"}, delta=("d",)),
    )
    stored = {("d", "1"), ("d", "2")}
    assert [n.checkpoint_id for n in delta_chain(by_id, by_id["c4"], stored)] == ["c3", "c2"]


def test_delta_chain_goes_to_the_root_when_nothing_was_ever_stored() -> None:
    by_id = chain(
        node("c1", None, {"d": "1"}),
        node("c2", "c1", {"d": "2"}),
        node("c3", "c2", {"d": "3"}, delta=("d",)),
    )
    assert [n.checkpoint_id for n in delta_chain(by_id, by_id["c3"], set())] == ["c2", "c1"]


def test_delta_chain_walks_until_every_delta_channel_has_a_stored_value() -> None:
    by_id = chain(
        node("c1", None, {"d": "1", "e": "1"}),
        node("c2", "c1", {"d": "2", "e": "2"}),
        node("c3", "c2", {"d": "3", "e": "3"}, delta=("d", "e")),
    )
    stored = {("d", "2"), ("e", "1")}
    assert [n.checkpoint_id for n in delta_chain(by_id, by_id["c3"], stored)] == ["c2", "c1"]


def test_delta_chain_ignores_a_delta_channel_the_head_has_no_version_for() -> None:
    by_id = chain(node("c1", None, {}), node("c2", "c1", {"a": "1"}, delta=("d",)))
    assert delta_chain(by_id, by_id["c2"], set()) == []


def test_delta_chain_stops_at_a_missing_parent() -> None:
    by_id = chain(node("c2", "gone", {"d": "2"}), node("c3", "c2", {"d": "3"}, delta=("d",)))
    assert [n.checkpoint_id for n in delta_chain(by_id, by_id["c3"], set())] == ["c2"]


def test_garbage_blobs_are_the_ones_no_kept_checkpoint_refers_to() -> None:
    kept = [node("c3", "c2", {"a": "3", "b": "1"})]
    keys = [("", "a", "1"), ("", "a", "3"), ("", "b", "1"), ("", "c", "1")]
    assert garbage_blobs(kept, keys) == [("", "a", "1"), ("", "c", "1")]


def test_garbage_blobs_respect_checkpoint_ns() -> None:
    kept = [node("c1", None, {"a": "1"}, ns="")]
    keys = [("", "a", "1"), ("child:1", "a", "1")]
    assert garbage_blobs(kept, keys) == [("child:1", "a", "1")]


def test_nothing_is_garbage_when_everything_is_referenced() -> None:
    kept = [node("c1", None, {"a": "1"}), node("c2", "c1", {"a": "2"})]
    assert garbage_blobs(kept, [("", "a", "1"), ("", "a", "2")]) == []
