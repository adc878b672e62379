"""The trivial chat graph the server benchmark serves: a reply per user message, no model."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph


def reply(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(content=f"noted: {state['messages'][-1].content}")]}


chat = StateGraph(MessagesState)
chat.add_node("reply", reply)
chat.add_edge(START, "reply")
chat_graph = chat.compile()  # for langgraph dev, which takes compiled graphs


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}
