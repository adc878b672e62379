"""Parity with InMemorySaver on a chat graph with a tool loop, reopening our saver between steps.

Each scenario runs once on InMemorySaver and once on our saver; what the user sees (outputs,
state, history) must be the same once ids are labelled (see tests/parity.py).
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from tests.parity import MemoryOpener, Transcript

THREAD = {"configurable": {"thread_id": "chat"}}


# Every message gets an id up front: add_messages fills in a missing id by mutating the
# message, which can race with a background put_writes serialising the same object (in
# LangGraph itself, with any saver), making task results flaky.


async def model(state: MessagesState) -> dict[str, Any]:
    """A fake model: odd user turns ask for two tools, then answer once the results are in."""
    messages = state["messages"]
    turn = sum(isinstance(m, HumanMessage) for m in messages)
    msg_id = f"ai-{len(messages)}"
    if isinstance(messages[-1], HumanMessage) and turn % 2 == 1:
        calls = [
            {"name": "add", "args": {"a": turn, "b": 10}, "id": f"call-{turn}-add"},
            {"name": "mul", "args": {"a": turn, "b": 10}, "id": f"call-{turn}-mul"},
        ]
        return {"messages": [AIMessage(content="", tool_calls=calls, id=msg_id)]}
    results = [m.content for m in messages if isinstance(m, ToolMessage)]
    return {"messages": [AIMessage(content=f"turn {turn}: tools said {results}", id=msg_id)]}


async def tools(state: MessagesState) -> dict[str, Any]:
    ops = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}
    call_msg = state["messages"][-1]
    assert isinstance(call_msg, AIMessage)
    return {
        "messages": [
            ToolMessage(
                str(ops[c["name"]](**c["args"])),
                tool_call_id=c["id"],
                name=c["name"],
                id=f"tool-{c['id']}",
            )
            for c in call_msg.tool_calls
        ]
    }


def route(state: MessagesState) -> str:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


def chat_graph(checkpointer: Any, **compile_kwargs: Any) -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("model", model)
    builder.add_node("tools", tools)
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", route, ["tools", END])
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=checkpointer, **compile_kwargs)


def user(turn: int) -> dict[str, Any]:
    return {"messages": [HumanMessage(content=f"question {turn}", id=f"human-{turn}")]}


async def chat(open_cp: Any, seen: Transcript, turns: range) -> None:
    """One user turn per 'process': reopen the saver and recompile the graph every time."""
    for turn in turns:
        async with open_cp() as cp:
            graph = chat_graph(cp)
            config = {**THREAD, "metadata": {"user": "ann" if turn % 2 else "bob"}}
            seen.add(f"invoke {turn}", await graph.ainvoke(user(turn), config))
        async with open_cp() as cp:
            seen.add(f"state after {turn}", await chat_graph(cp).aget_state(THREAD))


async def full_history(open_cp: Any, seen: Transcript, what: str) -> list[Any]:
    async with open_cp() as cp:
        history = [s async for s in chat_graph(cp).aget_state_history(THREAD)]
    seen.add(what, history)
    return history


# --- 1. a multi-turn chat with a tool loop ----------------------------------------------


async def multi_turn_chat(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    await chat(open_cp, seen, range(5))
    await full_history(open_cp, seen, "history")
    return seen.entries


async def test_multi_turn_chat_with_tool_loop(open_saver: Any) -> None:
    expected = await multi_turn_chat(MemoryOpener())
    assert len(expected["history"]) == 2 * 3 + 3 * 5  # plain turns: 3 checkpoints; tools: 5
    assert await multi_turn_chat(open_saver) == expected


# --- 2. history with limit, before and a metadata filter --------------------------------


async def history_queries(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    await chat(open_cp, seen, range(4))
    history = await full_history(open_cp, seen, "history")
    pivot = history[5].config
    queries: dict[str, dict[str, Any]] = {
        "limit 3": {"limit": 3},
        "limit 0": {"limit": 0},
        "limit past the end": {"limit": 1000},
        "before": {"before": pivot},
        "before, limit 2": {"before": pivot, "limit": 2},
        "source loop": {"filter": {"source": "loop"}},
        "source input": {"filter": {"source": "input"}},
        "step 2": {"filter": {"step": 2}},
        "source loop, step 3": {"filter": {"source": "loop", "step": 3}},
        "user ann": {"filter": {"user": "ann"}},
        "no match": {"filter": {"step": 99}},
        "filter, before, limit": {"filter": {"source": "loop"}, "before": pivot, "limit": 3},
    }
    for what, kwargs in queries.items():
        async with open_cp() as cp:
            graph = chat_graph(cp)
            seen.add(what, [s async for s in graph.aget_state_history(THREAD, **kwargs)])
    return seen.entries


async def test_history_with_limit_before_and_filter(open_saver: Any) -> None:
    expected = await history_queries(MemoryOpener())
    assert len(expected["step 2"]) == 1
    assert len(expected["before, limit 2"]) == 2
    assert expected["no match"] == []
    assert await history_queries(open_saver) == expected


async def filter_equality(open_cp: Any) -> dict[str, Any]:
    """Run metadata (only scalars reach checkpoints) filtered by equal values of other types."""
    seen = Transcript()
    async with open_cp() as cp:
        graph = chat_graph(cp)
        config = {**THREAD, "metadata": {"attempt": 1, "vip": True, "score": 2.0}}
        seen.add("invoke", await graph.ainvoke(user(0), config))
    queries: list[dict[str, Any]] = [
        {"attempt": 1},
        {"attempt": 1.0},
        {"score": 2},
        {"vip": True},
        {"vip": 1},
        {"attempt": True},
        {"attempt": "1"},
        {"vip": False},
    ]
    for query in queries:
        async with open_cp() as cp:
            graph = chat_graph(cp)
            found = [s async for s in graph.aget_state_history(THREAD, filter=query)]
            seen.add(f"filter {query!r}", len(found))
    return seen.entries


async def test_history_filter_compares_bools_and_numbers_like_python(open_saver: Any) -> None:
    # InMemorySaver compares with ==, so True matches 1 and 1 matches 1.0 (LangGraph's own
    # SqliteSaver agrees: SQLite stores true as 1).
    expected = await filter_equality(MemoryOpener())
    assert expected["filter {'vip': 1}"] == expected["filter {'vip': True}"] == 5
    assert expected["filter {'attempt': '1'}"] == expected["filter {'vip': False}"] == 0
    assert await filter_equality(open_saver) == expected


# --- 3. replay from a mid-history checkpoint --------------------------------------------


async def replay(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    await chat(open_cp, seen, range(3))
    history = await full_history(open_cp, seen, "history before replay")
    # The oldest checkpoint about to run the tools: replaying it re-runs tools and model.
    before_tools = [s for s in history if s.next == ("tools",)][-1]
    async with open_cp() as cp:
        graph = chat_graph(cp)
        seen.add("replayed", await graph.ainvoke(None, before_tools.config))
    async with open_cp() as cp:
        seen.add("state after replay", await chat_graph(cp).aget_state(THREAD))
        seen.add("replayed checkpoint", await chat_graph(cp).aget_state(before_tools.config))
    await full_history(open_cp, seen, "history after replay")
    await chat(open_cp, seen, range(3, 4))
    await full_history(open_cp, seen, "history after another turn")
    return seen.entries


async def test_replay_from_mid_history_checkpoint(open_saver: Any) -> None:
    expected = await replay(MemoryOpener())
    assert len(expected["history after replay"]) > len(expected["history before replay"])
    assert await replay(open_saver) == expected


# --- 4. fork with update_state on an old checkpoint -------------------------------------


async def fork(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    await chat(open_cp, seen, range(3))
    history = await full_history(open_cp, seen, "history before forks")
    oldest_first = list(reversed(history))
    before_tools = next(s for s in oldest_first if s.next == ("tools",))
    first_answer = next(s for s in oldest_first if s.next == () and s.metadata["step"] > 0)

    # Fork 1: pretend the model answered instead of calling tools, then keep chatting.
    async with open_cp() as cp:
        graph = chat_graph(cp)
        forked = await graph.aupdate_state(
            before_tools.config,
            {"messages": [AIMessage(content="no tools needed", id="fork-1")]},
            "model",
        )
        seen.add("fork as model", forked)
    async with open_cp() as cp:
        graph = chat_graph(cp)
        seen.add("state at fork", await graph.aget_state(forked))
        seen.add("invoke on fork", await graph.ainvoke(user(10), THREAD))

    # Fork 2: answer the tool calls by hand, as the tools node, and let the model continue.
    tool_call_msg = before_tools.values["messages"][-1]
    results = [
        ToolMessage(content="by hand", tool_call_id=c["id"], name=c["name"], id=f"hand-{c['id']}")
        for c in tool_call_msg.tool_calls
    ]
    async with open_cp() as cp:
        graph = chat_graph(cp)
        by_hand = await graph.aupdate_state(before_tools.config, {"messages": results}, "tools")
        seen.add("fork as tools", by_hand)
    async with open_cp() as cp:
        graph = chat_graph(cp)
        seen.add("state at tools fork", await graph.aget_state(by_hand))
        seen.add("continue tools fork", await graph.ainvoke(None, by_hand))

    # Fork 3: no as_node, on a finished turn: LangGraph picks the last node that ran.
    async with open_cp() as cp:
        graph = chat_graph(cp)
        edited = await graph.aupdate_state(
            first_answer.config, {"messages": [HumanMessage(content="an aside", id="aside")]}
        )
        seen.add("fork without as_node", edited)
    async with open_cp() as cp:
        graph = chat_graph(cp)
        seen.add("state at aside", await graph.aget_state(edited))
        seen.add("continue aside", await graph.ainvoke(user(11), edited))
    await full_history(open_cp, seen, "history after forks")
    return seen.entries


async def test_fork_with_update_state_on_old_checkpoint(open_saver: Any) -> None:
    expected = await fork(MemoryOpener())
    assert expected["state at fork"]["metadata"]["source"] == "update"
    assert await fork(open_saver) == expected


# --- 6. static interrupt_before, update_state, resume -----------------------------------


async def interrupt_before_tools(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp() as cp:
        graph = chat_graph(cp, interrupt_before=["tools"])
        seen.add("invoke 0 stops before tools", await graph.ainvoke(user(0), THREAD))
    async with open_cp() as cp:
        graph = chat_graph(cp, interrupt_before=["tools"])
        paused = await graph.aget_state(THREAD)
        seen.add("paused", paused)
        # Replace the tool calls (same message id, so add_messages swaps it in place).
        call_msg = paused.values["messages"][-1]
        edited = AIMessage(
            content="",
            id=call_msg.id,
            tool_calls=[{"name": "add", "args": {"a": 100, "b": 1}, "id": "call-edited"}],
        )
        seen.add("update", await graph.aupdate_state(THREAD, {"messages": [edited]}))
    async with open_cp() as cp:
        graph = chat_graph(cp, interrupt_before=["tools"])
        seen.add("edited", await graph.aget_state(THREAD))
    async with open_cp() as cp:
        graph = chat_graph(cp, interrupt_before=["tools"])
        seen.add("resumed", await graph.ainvoke(None, THREAD))
        seen.add("state after resume", await graph.aget_state(THREAD))
    for turn in (1, 2):
        async with open_cp() as cp:
            graph = chat_graph(cp, interrupt_before=["tools"])
            seen.add(f"invoke {turn}", await graph.ainvoke(user(turn), THREAD))
            seen.add(f"state after {turn}", await graph.aget_state(THREAD))
    async with open_cp() as cp:
        graph = chat_graph(cp, interrupt_before=["tools"])
        seen.add("resume 2 unedited", await graph.ainvoke(None, THREAD))
    async with open_cp() as cp:
        graph = chat_graph(cp, interrupt_before=["tools"])
        seen.add("history", [s async for s in graph.aget_state_history(THREAD)])
    return seen.entries


async def test_interrupt_before_update_state_and_resume(open_saver: Any) -> None:
    expected = await interrupt_before_tools(MemoryOpener())
    assert expected["paused"]["next"] == ("tools",)
    assert expected["state after resume"]["next"] == ()
    assert expected["state after 2"]["next"] == ("tools",)
    assert await interrupt_before_tools(open_saver) == expected
