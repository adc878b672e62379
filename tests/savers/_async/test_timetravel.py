"""The time-travel toolkit in Python: list_threads, history, diff, search_messages and
export/import, on real graphs over real SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph, add_messages
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from saver.core import threads
from saver.errors import CorruptRowError, InvalidConfigError


class Chat(TypedDict, total=False):
    messages: Annotated[list[Any], add_messages]
    turns: int


async def reply(state: Chat) -> dict[str, Any]:
    said = state["messages"][-1].content
    return {"messages": [AIMessage(f"you said: {said}")], "turns": state.get("turns", 0) + 1}


async def approve(state: Chat) -> dict[str, Any]:
    answer = interrupt("send it?")
    return {"messages": [AIMessage(f"approved: {answer}")]}


def chat_graph(cp: Any, with_approval: bool = False) -> Any:
    builder = StateGraph(Chat)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    if with_approval:
        builder.add_node("approve", approve)
        builder.add_edge("reply", "approve")
        builder.add_edge("approve", END)
    else:
        builder.add_edge("reply", END)
    return builder.compile(checkpointer=cp)


def on(thread_id: str, **extra: Any) -> Any:
    return {"configurable": {"thread_id": thread_id, **extra}}


async def chat(cp: Any, thread_id: str, *lines: str, user: str = "alice") -> None:
    graph = chat_graph(cp)
    for line in lines:
        await graph.ainvoke(
            {"messages": [HumanMessage(line)]}, {**on(thread_id), "metadata": {"user_id": user}}
        )


async def test_list_threads_gives_each_thread_newest_first_with_its_count(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "a", "one", "two")
        await chat(cp, "b", "one")
        found = await cp.alist_threads()
    assert [t.thread_id for t in found] == ["b", "a"]
    assert [t.checkpoints for t in found] == [3, 6]
    assert found[1].first_at <= found[1].last_at <= found[0].last_at
    assert found[0].metadata["user_id"] == "alice"


async def test_list_threads_filters_by_head_metadata_prefix_and_last_update(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await chat(cp, "org-1:user-1:s1", "hi", user="alice")
        await chat(cp, "org-1:user-2:s1", "hi", user="bob")
        await chat(cp, "org-2:user-1:s1", "hi", user="alice")
        alice = await cp.alist_threads({"user_id": "alice"})
        org1 = await cp.alist_threads(prefix="org-1:")
        later = datetime.now(timezone.utc) + timedelta(minutes=1)
        before = await cp.alist_threads(before=later, limit=1)
        after = await cp.alist_threads(after=later)
    assert {t.thread_id for t in alice} == {"org-1:user-1:s1", "org-2:user-1:s1"}
    assert {t.thread_id for t in org1} == {"org-1:user-1:s1", "org-1:user-2:s1"}
    assert [t.thread_id for t in before] == ["org-2:user-1:s1"]
    assert after == []


async def test_list_threads_pages_with_offset(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("a", "b", "c"):
            await chat(cp, tid, "hi")
        first = await cp.alist_threads(limit=2)
        rest = await cp.alist_threads(limit=2, offset=2)
    assert [t.thread_id for t in first] == ["c", "b"]
    assert [t.thread_id for t in rest] == ["a"]


async def test_list_threads_sorted_by_creation_puts_the_newest_thread_first(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await chat(cp, "old", "hi")
        await chat(cp, "new", "hi")
        await chat(cp, "old", "again")  # the oldest thread is now the last one active
        active = await cp.alist_threads()
        created = await cp.alist_threads(sort="created")
    assert [t.thread_id for t in active] == ["old", "new"]
    assert [t.thread_id for t in created] == ["new", "old"]


async def test_list_threads_searches_the_thread_id_in_any_case(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("Support-Ticket-42", "sales-7", "ticket_100%"):
            await chat(cp, tid, "hi")
        found = await cp.alist_threads(search="TICKET")
        literal = await cp.alist_threads(search="_100%")
    assert {t.thread_id for t in found} == {"Support-Ticket-42", "ticket_100%"}
    assert [t.thread_id for t in literal] == ["ticket_100%"]  # no wildcards


@pytest.mark.parametrize(
    "bad", [{"offset": -1}, {"offset": "2"}, {"sort": "name"}, {"search": 3}], ids=repr
)
async def test_list_threads_refuses_a_bad_page_sort_or_search(
    open_saver: Any, bad: dict[str, Any]
) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match=next(iter(bad))):
            await cp.alist_threads(**bad)


async def test_get_thread_gives_one_thread_as_list_threads_does(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "a", "one", "two")
        await chat(cp, "b", "one")
        one = await cp.aget_thread("a")
        listed = {t.thread_id: t for t in await cp.alist_threads()}
        missing = await cp.aget_thread("nobody")
    assert one == listed["a"]
    assert missing is None


async def test_list_threads_says_which_thread_waits_on_an_interrupt(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = chat_graph(cp, with_approval=True)
        for tid in ("waiting", "answered"):
            await graph.ainvoke({"messages": [HumanMessage("draft")]}, on(tid))
        await graph.ainvoke(Command(resume="yes"), on("answered"))
        found = {t.thread_id: t.waiting for t in await cp.alist_threads()}
    assert found == {"waiting": True, "answered": False}


async def test_history_rows_match_state_history_with_writes_next_and_interrupts(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        graph = chat_graph(cp, with_approval=True)
        await graph.ainvoke({"messages": [HumanMessage("draft")]}, on("t"))
        states = [s async for s in graph.aget_state_history(on("t"))]
        steps = await cp.ahistory(on("t"))
    assert [s.checkpoint_id for s in steps] == [
        s.config["configurable"]["checkpoint_id"] for s in states
    ]
    assert [s.source for s in steps] == [s.metadata["source"] for s in states]
    assert [tuple(s.next) for s in steps[:-1]] == [s.next for s in states[:-1]]
    head, replied = steps[0], steps[1]
    assert (head.interrupts, head.waiting) == (["send it?"], True)
    assert replied.writes == {"reply": ["messages", "turns"]}


async def test_history_without_interrupts_reads_the_same_rows_but_their_interrupts(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        graph = chat_graph(cp, with_approval=True)
        await graph.ainvoke({"messages": [HumanMessage("draft")]}, on("t"))
        await graph.ainvoke(Command(resume="yes"), on("t"))
        old = [s async for s in graph.aget_state_history(on("t"))][3].config
        await graph.aupdate_state(old, {"messages": [HumanMessage("fork")]})
        full = await cp.ahistory(on("t"))
        light = await cp.ahistory(on("t"), with_interrupts=False)
    assert [dataclasses.replace(s, interrupts=[]) for s in full] == light


async def test_diff_lists_the_messages_added_between_two_checkpoints(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one", "two")
        states = [s async for s in chat_graph(cp).aget_state_history(on("t"))]
        changes = await cp.adiff(states[3].config, states[0].config)
        same = await cp.adiff(states[0].config, states[0].config)
    by_channel = {c.channel: c for c in changes}
    added = by_channel["messages"].added
    assert [m.content for m in added] == ["two", "you said: two"]
    assert (by_channel["turns"].before, by_channel["turns"].after) == (1, 2)
    assert same == []


async def test_diff_of_an_unknown_checkpoint_names_it(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one")
        with pytest.raises(InvalidConfigError, match="nope"):
            await cp.adiff(on("t"), on("t", checkpoint_id="nope"))


async def test_search_messages_finds_where_a_message_first_appeared(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "a", "I like bananas", "and apples")
        await chat(cp, "b", "BANANA bread")
        hits = await cp.asearch_messages("banana")
        only_b = await cp.asearch_messages("banana", thread_id="b")
        first = await cp.asearch_messages("banana", limit=1)
        states = [s async for s in chat_graph(cp).aget_state_history(on("a"))]
    assert [(h.thread_id, h.message.content) for h in hits] == [
        ("a", "I like bananas"),
        ("a", "you said: I like bananas"),
        ("b", "BANANA bread"),
        ("b", "you said: BANANA bread"),
    ]
    first_seen = next(
        s for s in reversed(states) if any("bananas" in m.content for m in s.values["messages"])
    )
    assert hits[0].checkpoint_id == first_seen.config["configurable"]["checkpoint_id"]
    assert [h.thread_id for h in only_b] == ["b", "b"]
    assert len(first) == 1


async def test_an_exported_thread_imports_with_the_same_history(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = chat_graph(cp, with_approval=True)
        await graph.ainvoke({"messages": [HumanMessage("draft")]}, on("t"))
        lines = list(threads.to_lines(await cp.aexport_thread("t")))
        await cp.aimport_thread(threads.from_lines(lines), "copy")
        original = [s async for s in graph.aget_state_history(on("t"))]
        copied = [s async for s in graph.aget_state_history(on("copy"))]
        resumed = await graph.ainvoke(Command(resume="ok"), on("copy"))
    assert len(copied) == len(original) == 3
    for a, b in zip(original, copied, strict=True):
        assert (a.values, a.next, a.metadata, a.created_at) == (
            b.values,
            b.next,
            b.metadata,
            b.created_at,
        )
        assert (
            a.config["configurable"]["checkpoint_id"] == b.config["configurable"]["checkpoint_id"]
        )
        assert [t.interrupts for t in a.tasks] == [t.interrupts for t in b.tasks]
    assert resumed["messages"][-1].content == "approved: ok"


async def test_import_refuses_a_thread_that_already_exists(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one")
        data = await cp.aexport_thread("t")
        with pytest.raises(InvalidConfigError, match="already has 3 checkpoints"):
            await cp.aimport_thread(data)


async def test_export_of_an_unknown_thread_names_it(open_saver: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="nobody"):
            await cp.aexport_thread("nobody")


def test_a_truncated_export_is_refused_with_what_is_missing() -> None:
    data = threads.ThreadRows("t", {"checkpoint": [], "blob": [], "write": []})
    lines = list(threads.to_lines(data))
    lines[0] = lines[0].replace('"checkpoint": 0', '"checkpoint": 2')
    with pytest.raises(CorruptRowError, match="truncated"):
        threads.from_lines(lines)
