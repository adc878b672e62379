"""Parity with InMemorySaver when one branch of a Send fan-out fails and the run is resumed.

The writes of the branches that succeeded are saved as pending writes of the failed step;
after a restart, `invoke(None, ...)` must re-run only the branch that failed.
"""

from __future__ import annotations

import operator
from collections import Counter
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from typing_extensions import TypedDict

from tests.parity import MemoryOpener, Transcript

THREAD = {"configurable": {"thread_id": "fan-out"}}
# One worker at a time, in the order of the Sends: the failing branch is the last one, so the
# others have always finished (and their writes were handed to the saver) when it raises.
CONFIG = {**THREAD, "max_concurrency": 1}
ITEMS = ["apple", "banana", "cherry"]
FAILS_ONCE = "cherry"


class Jobs(TypedDict, total=False):
    items: list[str]
    results: Annotated[list[str], operator.add]
    summary: str


class Job(TypedDict):
    item: str


def fan_out(state: Jobs) -> list[Send]:
    return [Send("work", {"item": item}) for item in state["items"]]


def jobs_graph(checkpointer: Any, calls: Counter[str]) -> Any:
    """`calls` counts each branch's runs for the whole scenario, across restarts."""

    async def plan(state: Jobs) -> dict[str, Any]:
        calls["plan"] += 1
        return {}

    async def work(job: Job) -> dict[str, Any]:
        calls[job["item"]] += 1
        if job["item"] == FAILS_ONCE and calls[job["item"]] == 1:
            raise ValueError(f"{job['item']} failed on its first attempt")
        return {"results": [job["item"].upper()]}

    async def summarise(state: Jobs) -> dict[str, Any]:
        calls["summarise"] += 1
        return {"summary": ", ".join(sorted(state["results"]))}

    builder = StateGraph(Jobs)
    builder.add_node("plan", plan)
    builder.add_node("work", work)
    builder.add_node("summarise", summarise)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["work"])
    builder.add_edge("work", "summarise")
    builder.add_edge("summarise", END)
    return builder.compile(checkpointer=checkpointer)


# --- 8. a failing Send branch: pending writes survive, only that branch re-runs ----------


async def failed_branch(open_cp: Any) -> tuple[dict[str, Any], dict[str, Counter[str]]]:
    seen = Transcript()
    calls: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = {}
    async with open_cp() as cp:
        graph = jobs_graph(cp, calls)
        with pytest.raises(ValueError, match="cherry failed on its first attempt"):
            await graph.ainvoke({"items": ITEMS, "results": []}, CONFIG)
    counts["after failure"] = Counter(calls)
    async with open_cp() as cp:
        graph = jobs_graph(cp, calls)
        seen.add("failed state", await graph.aget_state(THREAD))
        seen.add("history after failure", [s async for s in graph.aget_state_history(THREAD)])
    async with open_cp() as cp:
        graph = jobs_graph(cp, calls)
        seen.add("resumed", await graph.ainvoke(None, CONFIG))
    counts["after resume"] = Counter(calls)
    async with open_cp() as cp:
        graph = jobs_graph(cp, calls)
        seen.add("final state", await graph.aget_state(THREAD))
        seen.add("history", [s async for s in graph.aget_state_history(THREAD)])
    return seen.entries, counts


async def test_failed_send_branch_resumes_alone_after_restart(open_saver: Any) -> None:
    expected, expected_counts = await failed_branch(MemoryOpener())
    ours, counts = await failed_branch(open_saver)

    # What the failed step shows: the error on one task, results on the others.
    # (LangGraph hands a saved error back as its repr.)
    tasks = ours["failed state"]["tasks"]
    assert [t["name"] for t in tasks] == ["work"] * 3
    assert [t["error"] for t in tasks] == [
        None,
        None,
        "ValueError('cherry failed on its first attempt')",
    ]
    assert [t["result"] for t in tasks] == [{"results": ["APPLE"]}, {"results": ["BANANA"]}, None]
    # Only the failed branch ran again; the others' saved writes were reused.
    assert counts == {
        "after failure": {"plan": 1, "apple": 1, "banana": 1, "cherry": 1},
        "after resume": {"plan": 1, "apple": 1, "banana": 1, "cherry": 2, "summarise": 1},
    }
    assert ours["final state"]["values"]["summary"] == "APPLE, BANANA, CHERRY"
    assert counts == expected_counts
    assert ours == expected
