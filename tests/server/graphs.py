"""The graphs the server tests run, loaded by `saver serve --graph NAME=tests/server/graphs.py:attr`:
each compiled without a checkpointer (or left a builder), as langgraph.json files name them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import interrupt


def chat(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}


def approve(state: MessagesState) -> dict[str, Any]:
    answer = interrupt({"question": "approve?", "messages": len(state["messages"])})
    return {"messages": [AIMessage(content=f"approved: {answer}")]}


# chat, then wait for a person's answer: the approval flow.
_approval = StateGraph(MessagesState)
_approval.add_node("chat", chat)
_approval.add_node("approve", approve)
_approval.add_edge(START, "chat")
_approval.add_edge("chat", "approve")
_approval.add_edge("approve", END)
approval = _approval.compile()

# a plain chat, given as a builder (the server compiles it)
echo = StateGraph(MessagesState)
echo.add_node("chat", chat)
echo.add_edge(START, "chat")


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def model(state: MessagesState) -> dict[str, Any]:
    """A scripted model: call the tool once, then answer with its result."""
    last = state["messages"][-1]
    if isinstance(last, ToolMessage):
        return {"messages": [AIMessage(content=f"the sum is {last.content}")]}
    call = {"name": "add", "args": {"a": 2, "b": 3}, "id": f"call-{len(state['messages'])}"}
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


def route(state: MessagesState) -> str:
    return "tools" if state["messages"][-1].tool_calls else END  # type: ignore[attr-defined]


_tools = StateGraph(MessagesState)
_tools.add_node("model", model)
_tools.add_node("tools", ToolNode([add]))
_tools.add_edge(START, "model")
_tools.add_conditional_edges("model", route, ["tools", END])
_tools.add_edge("tools", "model")
tools = _tools.compile()

# a subgraph that waits on an interrupt inside the parent's node
_inner = StateGraph(MessagesState)
_inner.add_node("approve", approve)
_inner.add_edge(START, "approve")
_nested = StateGraph(MessagesState)
_nested.add_node("chat", chat)
_nested.add_node("inner", _inner.compile())
_nested.add_edge(START, "chat")
_nested.add_edge("chat", "inner")
nested = _nested.compile()


def fail(state: MessagesState) -> dict[str, Any]:
    raise ValueError("the model is down")


_failing = StateGraph(MessagesState)
_failing.add_node("fail", fail)
_failing.add_edge(START, "fail")
failing = _failing.compile()


def hold(state: MessagesState) -> dict[str, Any]:
    """Wait until the file the message names exists: a run the test holds open."""
    gate = Path(str(state["messages"][-1].content))
    while not gate.exists():
        time.sleep(0.01)
    return {"messages": [AIMessage(content=f"released by {gate.name} in {os.getpid()}")]}


_held = StateGraph(MessagesState)
_held.add_node("hold", hold)
_held.add_edge(START, "hold")
held = _held.compile()
