"""A thread's status from what the saver is given (saver/core/status.py), without a database."""

from __future__ import annotations

from typing import Any

import pytest

from saver.core import status


def checkpoint(updated: list[str] | None, values: dict[str, Any] | None = None) -> Any:
    return {"updated_channels": updated, "channel_values": values or {}}


@pytest.mark.parametrize(
    "updated", [["__start__"], ["branch:to:agent", "messages"], ["join:a+b:c"], ["__pregel_tasks"]]
)
def test_a_checkpoint_that_starts_a_node_has_tasks_left(updated: list[str]) -> None:
    assert status.of_checkpoint(checkpoint(updated)) == "interrupted"


def test_a_checkpoint_that_only_updated_state_is_a_finished_run() -> None:
    # join:/__pregel_tasks values stay in channel_values after their step: only updates count
    values = {"messages": [], "join:a+b:c": ["a", "b"], "__pregel_tasks": []}
    assert status.of_checkpoint(checkpoint(["messages"], values)) == "idle"


def test_without_updated_channels_an_edge_written_is_still_seen() -> None:
    # update_state's checkpoints carry no updated_channels
    assert status.of_checkpoint(checkpoint(None, {"branch:to:tools": None})) == "interrupted"
    assert status.of_checkpoint(checkpoint(None, {"messages": []})) == "idle"


def test_an_error_on_the_head_wins_over_an_interrupt() -> None:
    assert status.of_writes(["__interrupt__", "__error__"]) == "error"
    assert status.of_writes(["__interrupt__", "messages"]) == "interrupted"
    assert status.of_writes(["messages", "__resume__"]) is None


def test_a_run_s_lease_shows_as_busy_until_it_ends() -> None:
    assert status.shown("interrupted", "run-1", 10.0, now=9.0) == "busy"
    assert status.shown("idle", None, None, now=10.0) == "idle"


def test_a_lease_that_ran_out_unreleased_is_an_error() -> None:
    # release_thread clears the run: one still named after its lease is a run that died
    assert status.shown("interrupted", "run-1", 10.0, now=10.0) == "error"
