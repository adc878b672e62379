"""What the benchmarks run: savers that time their puts (SQLite and PostgreSQL, LangGraph's and
ours), and a chat graph to run on them.

The chat has a fake, deterministic model. One turn is a user message, then the model. On every
`TOOL_EVERY`-th turn the model first asks for a tool, the tool node answers with a ToolMessage
and the model replies to that. A plain turn makes 3 checkpoints (input, start, model), a tool
turn 5, so 200 turns make 732.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver as LangGraphPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from saver import PostgresSaver, SqliteSaver

TOOL_EVERY = 3
WORDS = (
    "checkpoint history thread saver replay fork state channel version blob write "
    "message model tool answer question context summary detail reason step"
).split()


class PutTimer:
    """Mixin: records (turn, seconds) of every put, as graph.invoke calls it."""

    turn = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.put_log: list[tuple[int, float]] = []

    def put(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return super().put(*args, **kwargs)  # type: ignore[misc]
        finally:
            self.put_log.append((self.turn, time.perf_counter() - start))


class TimedLangGraphSaver(PutTimer, LangGraphSqliteSaver):
    """LangGraph's own SqliteSaver, timing its puts."""


class TimedOurSaver(PutTimer, SqliteSaver):
    """saver.SqliteSaver, timing its puts."""


class TimedLangGraphPostgres(PutTimer, LangGraphPostgresSaver):
    """LangGraph's PostgresSaver, timing its puts."""


class TimedOurPostgres(PutTimer, PostgresSaver):
    """saver.PostgresSaver, timing its puts."""


def _text(seed: int, length: int) -> str:
    """Deterministic filler prose of exactly `length` characters."""
    words: list[str] = []
    size, state = 0, seed
    while size < length:
        state = (state * 1103515245 + 12345) % 2**31  # a tiny LCG: varied, repeatable
        word = WORDS[(state >> 8) % len(WORDS)]
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length]


def user_input(turn: int) -> dict[str, Any]:
    """The graph input for one user turn (1-based)."""
    content = f"Turn {turn}: " + _text(turn, 120)
    return {"messages": [HumanMessage(content=content, id=f"human-{turn}")]}


def tool_turns(turns: int) -> int:
    return turns // TOOL_EVERY


def expected_checkpoints(turns: int) -> int:
    return 3 * turns + 2 * tool_turns(turns)


def model(state: MessagesState) -> dict[str, Any]:
    messages = state["messages"]
    turn = sum(1 for m in messages if isinstance(m, HumanMessage))
    last = messages[-1]
    if isinstance(last, HumanMessage) and turn % TOOL_EVERY == 0:
        call = {"name": "lookup", "args": {"query": f"facts for turn {turn}"}, "id": f"call-{turn}"}
        reply = AIMessage(content="", tool_calls=[call], id=f"ai-call-{turn}")
    else:
        content = f"Answer to turn {turn}. " + _text(turn * 31, 360)
        reply = AIMessage(content=content, id=f"ai-{turn}")
    return {"messages": [reply]}


def tools(state: MessagesState) -> dict[str, Any]:
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    out = [
        ToolMessage(
            content=f"lookup({call['args']['query']!r}) -> " + _text(len(state["messages"]), 240),
            tool_call_id=call["id"] or "",
            id=f"tool-{call['id']}",
        )
        for call in last.tool_calls
    ]
    return {"messages": out}


def route(state: MessagesState) -> str:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


def chat_graph(checkpointer: BaseCheckpointSaver, model_seconds: float = 0.0) -> CompiledStateGraph:
    """The chat for `invoke`; the model node sleeps `model_seconds` first, if any."""

    def slow_model(state: MessagesState) -> dict[str, Any]:
        time.sleep(model_seconds)
        return model(state)

    return _build(checkpointer, slow_model if model_seconds else model, tools)


def async_chat_graph(
    checkpointer: BaseCheckpointSaver, model_seconds: float = 0.0
) -> CompiledStateGraph:
    """The same chat with async nodes, for `ainvoke`: the model yields to the event loop
    (`asyncio.sleep(model_seconds)`, 0 by default) and never blocks it."""

    async def amodel(state: MessagesState) -> dict[str, Any]:
        await asyncio.sleep(model_seconds)
        return model(state)

    async def atools(state: MessagesState) -> dict[str, Any]:
        return tools(state)

    async def aroute(state: MessagesState) -> str:  # a sync one would go through a thread pool
        return route(state)

    return _build(checkpointer, amodel, atools, aroute)


def _build(
    checkpointer: BaseCheckpointSaver, model_node: Any, tools_node: Any, router: Any = route
) -> CompiledStateGraph:
    builder = StateGraph(MessagesState)
    builder.add_node("model", model_node)
    builder.add_node("tools", tools_node)
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", router, ["tools", END])
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=checkpointer)
