"""saver.core.plans: which checkpoints prune drops, and bad calls failing before any SQL."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from saver.core import plans
from saver.core.lineage import Node
from saver.dialects.sqlite import SQLITE
from saver.errors import InvalidConfigError

CTX = plans.Context(SQLITE, JsonPlusSerializer(), "")


def node(
    cid: str,
    parent: str | None,
    versions: dict[str, str] | None = None,
    delta: tuple[str, ...] = (),
    ns: str = "",
) -> Node:
    return Node(ns, cid, parent, versions or {}, frozenset(delta))


# --- keep_latest_drops ----------------------------------------------------------------------


def test_keep_latest_of_nothing_drops_nothing() -> None:
    assert plans.keep_latest_drops([], []) == []


def test_keep_latest_drops_everything_but_the_highest_checkpoint_id() -> None:
    nodes = [node("c2", "c1"), node("c3", "c2"), node("c1", None)]
    assert sorted(plans.keep_latest_drops(nodes, [])) == [("", "c1"), ("", "c2")]


def test_keep_latest_keeps_one_head_per_checkpoint_ns() -> None:
    nodes = [
        node("c1", None),
        node("c2", "c1"),
        node("c1", None, ns="child:1"),
        node("c4", "c1", ns="child:1"),
        node("c9", None, ns="child:2"),
    ]
    assert sorted(plans.keep_latest_drops(nodes, [])) == [("", "c1"), ("child:1", "c1")]


def test_keep_latest_keeps_the_chain_a_delta_head_replays_from() -> None:
    nodes = [
        node("c1", None, {"d": "1"}),
        node("c2", "c1", {"d": "2"}),
        node("c3", "c2", {"d": "3"}),
        node("c4", "c3", {"d": "4"}, delta=("d",)),
    ]
    stored = [("", "d", "2")]
    assert plans.keep_latest_drops(nodes, stored) == [("", "c1")]


def test_keep_latest_looks_for_stored_delta_values_in_the_heads_own_checkpoint_ns() -> None:
    nodes = [
        node("c1", None, {"d": "1"}),
        node("c2", "c1", {"d": "2"}, delta=("d",)),
    ]
    stored_elsewhere = [("child:1", "d", "1")]
    assert plans.keep_latest_drops(nodes, stored_elsewhere) == []


def test_keep_latest_drops_a_fork_branch_that_is_not_the_latest() -> None:
    nodes = [
        node("c1", None),
        node("c2", "c1"),
        node("c3", "c1", {"d": "3"}, delta=("d",)),
    ]
    assert plans.keep_latest_drops(nodes, []) == [("", "c2")]


# --- bad calls fail before any statement ----------------------------------------------------


def test_prune_with_an_unknown_strategy_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="keep_latest, delete"):
        plans.prune_each(CTX, ["t"], "nope")


def test_prune_of_a_single_string_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="not a single string"):
        plans.prune_each(CTX, "t", "keep_latest")


def test_prune_plans_one_transaction_per_thread() -> None:
    assert len(plans.prune_each(CTX, ["a", "b", "c"], "delete")) == 3


def test_put_writes_without_checkpoint_id_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="checkpoint_id"):
        plans.put_writes(CTX, {"configurable": {"thread_id": "t"}}, [("a", 1)], "task", "")


def test_put_without_thread_id_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="thread_id"):
        plans.put(CTX, {"configurable": {}}, empty_checkpoint(), {}, {})


def test_copy_thread_onto_itself_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="both"):
        plans.copy_thread(CTX, "t", "t")


def test_delete_for_runs_of_a_single_string_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="not a single string"):
        plans.delete_for_runs(CTX, "run-1")


def test_delete_for_no_runs_issues_no_statement() -> None:
    plan = plans.delete_for_runs(CTX, [])
    with pytest.raises(StopIteration):
        next(plan)


@pytest.mark.parametrize("limit", ["10", 1.5, True])
def test_list_with_a_limit_that_is_not_an_int_fails_when_planned(limit: Any) -> None:
    with pytest.raises(InvalidConfigError, match="limit"):
        plans.ListQuery.of(CTX, None, None, None, limit)


def test_list_with_a_bad_filter_fails_when_planned() -> None:
    with pytest.raises(InvalidConfigError, match="filter must be a dict"):
        plans.ListQuery.of(CTX, None, ["source"], None, None)  # type: ignore[arg-type]


def test_delta_history_for_no_channels_issues_no_statement() -> None:
    plan = plans.delta_channel_history(CTX, {"configurable": {"thread_id": "t"}}, [])
    with pytest.raises(StopIteration) as done:
        next(plan)
    assert done.value.value == {}


# --- which statements run without JIT (PostgreSQL) ------------------------------------------


@pytest.mark.parametrize("limit", [None, 2, 10])
def test_a_list_page_of_several_checkpoints_runs_without_jit(limit: int | None) -> None:
    query = plans.ListQuery.of(CTX, {"configurable": {"thread_id": "t"}}, None, None, limit)
    assert next(query.next_page()).jit_off


def test_a_list_page_of_one_checkpoint_runs_with_jit_as_set() -> None:
    query = plans.ListQuery.of(CTX, {"configurable": {"thread_id": "t"}}, None, None, 1)
    assert not next(query.next_page()).jit_off


def test_get_tuple_reads_a_page_of_one_written_into_its_statement() -> None:
    stmt = next(plans.get_tuple(CTX, {"configurable": {"thread_id": "t"}}))
    assert not stmt.jit_off
    assert "LIMIT 1)" in stmt.sql
    assert len(stmt.params) == stmt.sql.count("?")  # no parameter for the size
