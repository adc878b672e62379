"""The graph the fault tests run, and what every one of its checkpoints must hold.

A counter: each `inc` step adds one to `count`, appends `n{count}` to `log` (an
`operator.add` channel) and replaces `blob` with 32 KB of bytes that depend on `count`
only, so a checkpoint's values follow from its `count` alone: a torn checkpoint shows.
An invoke with `{"goal": g}` runs `inc` until `count` reaches `g`.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

BLOB_SIZE = 32 * 1024


class CounterState(TypedDict, total=False):
    goal: int
    count: int
    log: Annotated[list[str], operator.add]
    blob: bytes


def blob(count: int) -> bytes:
    """Incompressible and specific to `count` (the saver compresses values)."""
    return random.Random(f"blob:{count}").randbytes(BLOB_SIZE)


def build_graph(checkpointer: Any, on_step: Callable[[int], None] | None = None) -> Any:
    """START -> inc* -> END; `on_step(count)` runs inside the node that reaches `count`."""

    def inc(state: CounterState) -> dict[str, Any]:
        count = state.get("count", 0) + 1
        if on_step is not None:
            on_step(count)
        return {"count": count, "log": [f"n{count}"], "blob": blob(count)}

    def route(state: CounterState) -> str:
        return "inc" if state.get("count", 0) < state.get("goal", 0) else END

    builder = StateGraph(CounterState)
    builder.add_node("inc", inc)
    builder.add_conditional_edges(START, route, ["inc", END])
    builder.add_conditional_edges("inc", route, ["inc", END])
    return builder.compile(checkpointer=checkpointer)


def config_of(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def check_values(values: dict[str, Any], where: str) -> int:
    """Assert a checkpoint's channel values are whole and consistent; returns its count."""
    count = values.get("count", 0)
    assert isinstance(count, int), f"{where}: count is {count!r}"
    assert values.get("log", []) == [f"n{i}" for i in range(1, count + 1)], (
        f"{where}: log {values.get('log')!r} does not match count {count}"
    )
    if count:
        assert values.get("blob") == blob(count), f"{where}: blob is not the one of step {count}"
    else:
        assert "blob" not in values, f"{where}: a blob before any step"
    return count
