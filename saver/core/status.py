"""A thread's status, as LangGraph's Agent Server names it, from what the saver is given.

The saver sees checkpoints and writes, not runs: a head with tasks left to run is a run that
stopped before it finished (`interrupt_before`/`interrupt_after`, or a run that ended), so it
waits as `interrupted` until a run takes the thread (`busy`, see claim_thread); an interrupt()
or an error written on the head is its status until the next checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langgraph.checkpoint.base import Checkpoint

STATUSES = ("idle", "busy", "interrupted", "error")
INTERRUPT, ERROR = "__interrupt__", "__error__"
# What a StateGraph writes to start a node: START's input, an edge or Command(goto=...) to
# it, a join of several edges, a Send. Written in a step, they name the next step's tasks.
STARTS = ("__start__", "__pregel_tasks")
STARTS_PREFIX = ("branch:to:", "join:")
# Without updated_channels (update_state writes none): the channels that last one step only,
# so that being there at all means just written.
EPHEMERAL_PREFIX = "branch:to:"


def of_checkpoint(checkpoint: Checkpoint | Mapping[str, Any]) -> str:
    """A new head's status: `interrupted` if it has tasks left to run, else `idle`."""
    updated = checkpoint.get("updated_channels")
    if updated is not None:
        pending = any(_starts_a_task(c) for c in updated)
    else:
        values = checkpoint.get("channel_values") or {}
        pending = "__start__" in values or any(c.startswith(EPHEMERAL_PREFIX) for c in values)
    return "interrupted" if pending else "idle"


def _starts_a_task(channel: str) -> bool:
    return channel in STARTS or channel.startswith(STARTS_PREFIX)


def of_writes(channels: Iterable[str]) -> str | None:
    """What writes on the head make the thread: an error over an interrupt, else no change."""
    seen = set(channels)
    if ERROR in seen:
        return "error"
    if INTERRUPT in seen:
        return "interrupted"
    return None


def shown(stored: str, run_id: str | None, run_until: float | None, now: float) -> str:
    """The status a reader sees: busy while a run's lease lasts; error once a lease ran out
    unreleased (the process running it died; release_thread clears the run)."""
    if run_until is not None and float(run_until) > now:
        return "busy"
    return "error" if run_id is not None else stored
