"""Parity with InMemorySaver for interrupt() and resume, at the top level and in a subgraph.

The saver is reopened (a new process, as far as the saver knows) between the interrupt and
the resume, so pending interrupt and resume writes must survive the restart.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from tests.parity import MemoryOpener, Transcript

THREAD = {"configurable": {"thread_id": "review"}}


class Review(TypedDict, total=False):
    topic: str
    draft: str
    verdict: str
    note: str
    log: Annotated[list[str], operator.add]


async def write_draft(state: Review) -> dict[str, Any]:
    return {"draft": f"a post about {state['topic']}", "log": ["drafted"]}


async def review(state: Review) -> dict[str, Any]:
    """Two questions in one node: the second one re-runs the node with the first answer saved."""
    verdict = interrupt({"question": "publish?", "draft": state["draft"]})
    note = interrupt({"question": "any note?", "verdict": verdict})
    return {"verdict": verdict, "note": note, "log": [f"reviewed: {verdict}"]}


async def publish(state: Review) -> dict[str, Any]:
    return {"log": [f"published with note {state['note']!r}"]}


def review_graph(checkpointer: Any) -> Any:
    builder = StateGraph(Review)
    builder.add_node("write_draft", write_draft)
    builder.add_node("review", review)
    builder.add_node("publish", publish)
    builder.add_edge(START, "write_draft")
    builder.add_edge("write_draft", "review")
    builder.add_edge("review", "publish")
    return builder.compile(checkpointer=checkpointer)


# --- 5. interrupt() in a node, Command(resume=...) after a restart -----------------------


async def interrupt_and_resume(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp() as cp:
        graph = review_graph(cp)
        seen.add("first question", await graph.ainvoke({"topic": "savers", "log": []}, THREAD))
    async with open_cp() as cp:
        seen.add("waiting on first", await review_graph(cp).aget_state(THREAD))
    async with open_cp() as cp:
        graph = review_graph(cp)
        seen.add("second question", await graph.ainvoke(Command(resume="yes"), THREAD))
    async with open_cp() as cp:
        seen.add("waiting on second", await review_graph(cp).aget_state(THREAD))
    async with open_cp() as cp:
        graph = review_graph(cp)
        seen.add("done", await graph.ainvoke(Command(resume="ship it"), THREAD))
        seen.add("final state", await graph.aget_state(THREAD))
    async with open_cp() as cp:
        graph = review_graph(cp)
        seen.add("history", [s async for s in graph.aget_state_history(THREAD)])
    return seen.entries


async def test_interrupt_in_node_resumed_after_restart(open_saver: Any) -> None:
    expected = await interrupt_and_resume(MemoryOpener())
    assert expected["waiting on first"]["interrupts"][0]["value"]["question"] == "publish?"
    assert expected["waiting on second"]["interrupts"][0]["value"]["verdict"] == "yes"
    assert expected["final state"]["values"]["note"] == "ship it"
    assert await interrupt_and_resume(open_saver) == expected


# --- 7. a subgraph that interrupts: namespaces, subgraph state, resume -------------------


class Outer(TypedDict, total=False):
    topic: str
    draft: str
    verdict: str
    note: str
    log: Annotated[list[str], operator.add]


async def prepare(state: Outer) -> dict[str, Any]:
    return {"draft": f"notes on {state['topic']}", "log": ["prepared"]}


async def ask(state: Review) -> dict[str, Any]:
    """Two questions: the first answer must be saved in the child's namespace to be replayed."""
    verdict = interrupt({"question": "approve the draft?", "draft": state["draft"]})
    note = interrupt({"question": "a note for the log?", "verdict": verdict})
    return {"verdict": verdict, "log": [f"child heard {verdict}, noted {note}"]}


async def polish(state: Review) -> dict[str, Any]:
    return {"draft": f"{state['draft']} ({state['verdict']})", "log": ["child polished"]}


async def wrap_up(state: Outer) -> dict[str, Any]:
    return {"log": [f"outer saw {state['draft']!r}"]}


def child_graph() -> Any:
    builder = StateGraph(Review)
    builder.add_node("ask", ask)
    builder.add_node("polish", polish)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "polish")
    return builder.compile()


def outer_graph(checkpointer: Any) -> Any:
    builder = StateGraph(Outer)
    builder.add_node("prepare", prepare)
    builder.add_node("child", child_graph())
    builder.add_node("wrap_up", wrap_up)
    builder.add_edge(START, "prepare")
    builder.add_edge("prepare", "child")
    builder.add_edge("child", "wrap_up")
    return builder.compile(checkpointer=checkpointer)


async def subgraph_interrupt(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp() as cp:
        graph = outer_graph(cp)
        seen.add("interrupted", await graph.ainvoke({"topic": "namespaces", "log": []}, THREAD))
    async with open_cp() as cp:
        graph = outer_graph(cp)
        seen.add("outer state", await graph.aget_state(THREAD))
        paused = await graph.aget_state(THREAD, subgraphs=True)
        seen.add("state with subgraphs", paused)
        # What a user would keep: the child's namespace, not the config object (which holds
        # this process's saver).
        child_ns = paused.tasks[0].state.config["configurable"]["checkpoint_ns"]
        child_config = {"configurable": {**THREAD["configurable"], "checkpoint_ns": child_ns}}
        seen.add("child state", await graph.aget_state(child_config))
        seen.add("child history", [s async for s in graph.aget_state_history(child_config)])
        seen.add("outer history", [s async for s in graph.aget_state_history(THREAD)])
    async with open_cp() as cp:
        graph = outer_graph(cp)
        seen.add("second question", await graph.ainvoke(Command(resume="approved"), THREAD))
    async with open_cp() as cp:
        graph = outer_graph(cp)
        seen.add("waiting on second", await graph.aget_state(THREAD, subgraphs=True))
        seen.add("child waiting on second", await graph.aget_state(child_config))
    async with open_cp() as cp:
        graph = outer_graph(cp)
        seen.add("resumed", await graph.ainvoke(Command(resume="looks good"), THREAD))
    async with open_cp() as cp:
        graph = outer_graph(cp)
        seen.add("final state with subgraphs", await graph.aget_state(THREAD, subgraphs=True))
        seen.add("child state after resume", await graph.aget_state(child_config))
        seen.add(
            "child history after resume", [s async for s in graph.aget_state_history(child_config)]
        )
        seen.add("outer history after resume", [s async for s in graph.aget_state_history(THREAD)])
    return seen.entries


async def test_subgraph_interrupt_resumed_after_restart(open_saver: Any) -> None:
    expected = await subgraph_interrupt(MemoryOpener())
    child = expected["state with subgraphs"]["tasks"][0]["state"]
    assert child["config"]["configurable"]["checkpoint_ns"].startswith("child:")
    assert child["next"] == ("ask",)
    waiting = expected["waiting on second"]["tasks"][0]["state"]["interrupts"]
    assert waiting[0]["value"] == {"question": "a note for the log?", "verdict": "approved"}
    assert (
        expected["final state with subgraphs"]["values"]["draft"]
        == "notes on namespaces (approved)"
    )
    assert await subgraph_interrupt(open_saver) == expected
