"""Threads as records: a thread's status (idle, busy, interrupted, error), what the user sets
on it (put_thread: name, user_id, metadata) and how long that lasts, a run's hold on it, and
its messages as agentflow reads them (list_messages, get_message)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph, add_messages
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from saver import RetentionPolicy
from saver.errors import InvalidConfigError


class Chat(TypedDict, total=False):
    messages: Annotated[list[Any], add_messages]


async def reply(state: Chat) -> dict[str, Any]:
    return {"messages": [AIMessage(f"you said: {state['messages'][-1].content}")]}


async def approve(state: Chat) -> dict[str, Any]:
    answer = interrupt("send it?")
    return {"messages": [AIMessage(f"approved: {answer}")]}


async def fail(state: Chat) -> dict[str, Any]:
    raise RuntimeError("the model is down")


def graph_of(cp: Any, second: Any = None, **compile: Any) -> Any:
    """START -> reply (-> second) -> END."""
    builder = StateGraph(Chat)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    if second is None:
        builder.add_edge("reply", END)
    else:
        builder.add_node("second", second)
        builder.add_edge("reply", "second")
        builder.add_edge("second", END)
    return builder.compile(checkpointer=cp, **compile)


def on(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}


def said(text: str) -> dict[str, Any]:
    return {"messages": [HumanMessage(text)]}


# --- status ----------------------------------------------------------------------------------


async def test_a_thread_whose_run_finished_is_idle(open_saver: Any) -> None:
    async with open_saver() as cp:
        await graph_of(cp).ainvoke(said("hi"), on("t"))
        found = await cp.aget_thread("t")
    assert found is not None and found.status == "idle"


async def test_a_thread_waiting_on_interrupt_is_interrupted_until_resumed(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = graph_of(cp, approve)
        await graph.ainvoke(said("hi"), on("t"))
        waiting = await cp.aget_thread("t")
        await graph.ainvoke(Command(resume="yes"), on("t"))
        done = await cp.aget_thread("t")
    assert waiting is not None and (waiting.status, waiting.waiting) == ("interrupted", True)
    assert done is not None and (done.status, done.waiting) == ("idle", False)


@pytest.mark.parametrize("breakpoint", ["interrupt_before", "interrupt_after"])
async def test_a_thread_stopped_at_a_breakpoint_is_interrupted(
    open_saver: Any, breakpoint: str
) -> None:
    nodes = {"interrupt_before": ["second"], "interrupt_after": ["reply"]}[breakpoint]
    async with open_saver() as cp:
        graph = graph_of(cp, reply, **{breakpoint: nodes})
        await graph.ainvoke(said("hi"), on("t"))
        stopped = await cp.aget_thread("t")
        await graph.ainvoke(None, on("t"))
        done = await cp.aget_thread("t")
    assert stopped is not None and (stopped.status, stopped.waiting) == ("interrupted", False)
    assert done is not None and done.status == "idle"


async def test_a_thread_whose_last_step_raised_is_in_error(open_saver: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(RuntimeError, match="the model is down"):
            await graph_of(cp, fail).ainvoke(said("hi"), on("t"))
        found = await cp.aget_thread("t")
    assert found is not None and found.status == "error"


async def test_an_error_beside_an_interrupt_in_one_step_is_an_error(open_saver: Any) -> None:
    builder = StateGraph(Chat)
    builder.add_node("approve", approve)
    builder.add_node("fail", fail)
    builder.add_edge(START, "approve")
    builder.add_edge(START, "fail")
    async with open_saver() as cp:
        with pytest.raises(RuntimeError):
            await builder.compile(checkpointer=cp).ainvoke(said("hi"), on("t"))
        found = await cp.aget_thread("t")
    assert found is not None and found.status == "error"


async def test_a_copy_or_import_of_a_stopped_thread_is_interrupted_too(open_saver: Any) -> None:
    async with open_saver() as cp:
        await graph_of(cp, reply, interrupt_before=["second"]).ainvoke(said("hi"), on("t"))
        await cp.acopy_thread("t", "copy")
        await cp.aimport_thread(await cp.aexport_thread("t"), "imported")
        found = [await cp.aget_thread(tid) for tid in ("copy", "imported")]
    assert [t.status for t in found if t is not None] == ["interrupted", "interrupted"]


async def test_list_threads_filters_by_status(open_saver: Any) -> None:
    async with open_saver() as cp:
        await graph_of(cp).ainvoke(said("hi"), on("idle"))
        await graph_of(cp, approve).ainvoke(said("hi"), on("waiting"))
        with pytest.raises(RuntimeError):
            await graph_of(cp, fail).ainvoke(said("hi"), on("failed"))
        assert await cp.aclaim_thread("idle", "run-1")
        found = {s: [t.thread_id for t in await cp.alist_threads(status=s)] for s in STATUSES}
    assert found == {"idle": [], "busy": ["idle"], "interrupted": ["waiting"], "error": ["failed"]}


STATUSES = ("idle", "busy", "interrupted", "error")


# --- a run's hold on a thread ----------------------------------------------------------------


async def test_a_claimed_thread_is_busy_and_refuses_another_run(open_saver: Any) -> None:
    async with open_saver() as cp:
        await graph_of(cp).ainvoke(said("hi"), on("t"))
        first = await cp.aclaim_thread("t", "run-1")
        second = await cp.aclaim_thread("t", "run-2")
        again = await cp.aclaim_thread("t", "run-1")  # the holder extends its lease
        held = await cp.aget_thread("t")
        await cp.arelease_thread("t", "run-1")
        released = await cp.aget_thread("t")
    assert (first, second, again) == (True, False, True)
    assert held is not None and (held.status, held.run_id) == ("busy", "run-1")
    assert released is not None and (released.status, released.run_id) == ("idle", None)


async def test_a_lease_that_ran_out_lets_another_run_take_the_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        assert await cp.aclaim_thread("t", "run-1", lease=1e-9)
        taken = await cp.aclaim_thread("t", "run-2")
        found = await cp.aget_thread("t")
    assert taken and found is not None and found.run_id == "run-2"


async def test_a_claim_on_a_new_thread_leaves_nothing_behind_once_released(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await cp.aclaim_thread("new", "run-1")
        held = await cp.aget_thread("new")
        await cp.arelease_thread("new", "run-1")
        after = await cp.aget_thread("new")
    assert held is not None and (held.status, held.checkpoints) == ("busy", 0)
    assert after is None


async def test_retention_never_deletes_a_thread_a_run_holds_as_idle(open_saver: Any) -> None:
    async with open_saver() as cp:
        await graph_of(cp).ainvoke(said("hi"), on("held"))
        await graph_of(cp).ainvoke(said("hi"), on("free"))
        await cp.aclaim_thread("held", "run-1")
        report = await cp.acleanup(RetentionPolicy(thread_ttl=timedelta(microseconds=1)))
        left = [t.thread_id for t in await cp.alist_threads()]
    assert report.thread_ids == ["free"] and left == ["held"]


async def test_a_lease_that_ran_out_unreleased_shows_the_thread_in_error(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await graph_of(cp).ainvoke(said("hi"), on("t"))
        await cp.aclaim_thread("t", "run-1", lease=1e-9)  # its process died: never released
        found = await cp.aget_thread("t")
        in_error = await cp.alist_threads(status="error")
        idle = await cp.alist_threads(status="idle")
    assert found is not None and (found.status, found.run_id) == ("error", "run-1")
    assert [t.thread_id for t in in_error] == ["t"] and idle == []


async def test_head_version_holds_while_the_head_state_cannot_change(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = graph_of(cp, approve)
        await graph.ainvoke(said("hi"), on("t"))  # waits on the interrupt
        first, again = await cp.ahead_version("t"), await cp.ahead_version("t")
        head = await cp.aget_tuple(on("t"))
        await cp.aput_writes(head.config, [("messages", AIMessage("late"))], "task-2")
        written = await cp.ahead_version("t")
        await graph.ainvoke(Command(resume="yes"), on("t"))
        moved = await cp.ahead_version("t")
        unknown = await cp.ahead_version("nobody")
    assert first == again and first is not None
    assert len({first, written, moved}) == 3 and unknown is None


async def test_only_the_holder_releases_a_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aclaim_thread("t", "run-1")
        await cp.arelease_thread("t", "run-2")
        found = await cp.aget_thread("t")
    assert found is not None and found.status == "busy"


@pytest.mark.parametrize("lease", [0, -1, "60", True])
async def test_claim_refuses_a_bad_lease(open_saver: Any, lease: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="lease"):
            await cp.aclaim_thread("t", "run-1", lease=lease)


# --- what the user sets on a thread ----------------------------------------------------------


async def test_put_thread_makes_a_thread_with_no_checkpoint_yet(open_saver: Any) -> None:
    async with open_saver() as cp:
        made = await cp.aput_thread("t", name="Weather", user_id="alice", metadata={"tag": "w"})
        listed = await cp.alist_threads()
    assert (made.thread_id, made.checkpoints, made.head_id, made.status) == ("t", 0, None, "idle")
    assert (made.name, made.user_id, made.thread_metadata) == ("Weather", "alice", {"tag": "w"})
    assert listed == [made]


async def test_put_thread_merges_metadata_and_keeps_what_it_is_not_given(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await cp.aput_thread("t", name="Weather", metadata={"a": 1, "b": 1})
        found = await cp.aput_thread("t", metadata={"b": 2, "c": 3})
    assert found.name == "Weather"
    assert found.thread_metadata == {"a": 1, "b": 2, "c": 3}


async def test_a_thread_made_first_keeps_its_record_and_time_through_its_runs(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        made = await cp.aput_thread("t", name="Weather", user_id="alice")
        await graph_of(cp).ainvoke(said("hi"), on("t"))
        found = await cp.aget_thread("t")
    assert found is not None and (found.name, found.user_id, found.checkpoints) == (
        "Weather",
        "alice",
        3,
    )
    assert found.first_at == made.first_at and found.head_id is not None


async def test_list_threads_finds_a_user_s_threads_and_searches_names(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aput_thread("a", name="Weather in Paris", user_id="alice")
        await cp.aput_thread("b", name="Taxes", user_id="bob")
        await cp.aput_thread("c", name="weather at sea", user_id="alice")
        alice = await cp.alist_threads(user_id="alice")
        weather = await cp.alist_threads(search="WEATHER")
        both = await cp.alist_threads(search="weather", user_id="bob")
    assert [t.thread_id for t in alice] == ["c", "a"]
    assert [t.thread_id for t in weather] == ["c", "a"]
    assert both == []


async def test_list_threads_filters_by_the_metadata_put_thread_gave(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aput_thread("a", metadata={"team": "red", "tier": {"level": 2}})
        await cp.aput_thread("b", metadata={"team": "blue"})
        await graph_of(cp).ainvoke(said("hi"), on("c"))  # no record: matches no key
        red = await cp.alist_threads(thread_metadata={"team": "red"})
        nested = await cp.alist_threads(thread_metadata={"tier": {"level": 2}})
        none = await cp.alist_threads(thread_metadata={"team": "green"})
    assert [t.thread_id for t in red] == ["a"] == [t.thread_id for t in nested]
    assert none == []


async def test_count_threads_counts_what_list_threads_finds(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aput_thread("a", user_id="alice", metadata={"team": "red"})
        await cp.aput_thread("b", user_id="alice")
        await graph_of(cp, approve).ainvoke(said("hi"), on("c"))
        counts = (
            await cp.acount_threads(),
            await cp.acount_threads(user_id="alice"),
            await cp.acount_threads(thread_metadata={"team": "red"}),
            await cp.acount_threads(status="interrupted"),
            await cp.acount_threads(prefix="z"),
        )
    assert counts == (3, 2, 1, 1, 0)


async def test_list_threads_lists_oldest_first_when_asked(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("a", "b", "c"):
            await cp.aput_thread(tid)
        oldest = await cp.alist_threads(sort="created", ascending=True, limit=2)
    assert [t.thread_id for t in oldest] == ["a", "b"]


async def test_a_record_outlives_the_trimming_of_its_checkpoints(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aput_thread("t", name="kept", metadata={"k": 1})
        graph = graph_of(cp)
        for line in ("one", "two", "three"):
            await graph.ainvoke(said(line), {**on("t"), "metadata": {"run_id": "r"}})
        await cp.acleanup(RetentionPolicy(keep_last=2))
        trimmed = await cp.aget_thread("t")
        await cp.adelete_for_runs(["r"])  # every checkpoint the thread has left
        emptied = await cp.aget_thread("t")
    assert trimmed is not None and (trimmed.name, trimmed.checkpoints) == ("kept", 2)
    assert emptied is not None and (emptied.name, emptied.checkpoints) == ("kept", 0)
    assert emptied.thread_metadata == {"k": 1} and emptied.head_id is None


async def test_a_record_goes_with_its_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aput_thread("t", name="gone")
        await graph_of(cp).ainvoke(said("hi"), on("t"))
        await cp.adelete_thread("t")
        found = await cp.aget_thread("t")
    assert found is None


async def test_a_record_is_copied_exported_and_imported_with_its_thread(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        made = await cp.aput_thread("t", name="n", user_id="u", metadata={"k": [1, 2]})
        await graph_of(cp).ainvoke(said("hi"), on("t"))
        await cp.acopy_thread("t", "copy")
        await cp.aimport_thread(await cp.aexport_thread("t"), "imported")
        await cp.aput_thread("empty", name="no checkpoints")
        await cp.aimport_thread(await cp.aexport_thread("empty"), "empty-2")
        found = {tid: await cp.aget_thread(tid) for tid in ("copy", "imported", "empty-2")}
    for tid in ("copy", "imported"):
        thread = found[tid]
        assert thread is not None
        assert (thread.name, thread.user_id, thread.thread_metadata) == ("n", "u", {"k": [1, 2]})
        assert (thread.checkpoints, thread.first_at) == (3, made.first_at)
    assert found["empty-2"] is not None and found["empty-2"].name == "no checkpoints"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"metadata": ["not", "a", "dict"]},
        {"metadata": {"when": object()}},
        {"metadata": {1: "int key"}},
        {"name": 3.5},
        {"user_id": ["alice"]},
    ],
)
async def test_put_thread_refuses_what_it_cannot_keep(open_saver: Any, kwargs: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError):
            await cp.aput_thread("t", **kwargs)
        assert await cp.aget_thread("t") is None


async def test_list_threads_refuses_an_unknown_status(open_saver: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="status must be one of"):
            await cp.alist_threads(status="waiting")


# --- messages --------------------------------------------------------------------------------


async def conversation(cp: Any) -> Any:
    """Two turns, then a message added by update_state, then a third turn."""
    graph = graph_of(cp)
    await graph.ainvoke(said("hello"), on("t"))
    await graph.ainvoke(said("weather in Paris?"), on("t"))
    await graph.aupdate_state(on("t"), {"messages": [HumanMessage("from the side")]})
    await graph.ainvoke(said("thanks"), on("t"))
    return graph


async def first_steps(graph: Any) -> dict[str, int]:
    """Message id -> the step of the first checkpoint holding it, from the whole history."""
    first: dict[str, int] = {}
    async for snapshot in graph.aget_state_history(on("t")):
        for message in snapshot.values.get("messages", []):
            first[message.id] = snapshot.metadata["step"]  # oldest last: it wins
    return first


async def test_list_messages_gives_the_state_s_messages_with_the_step_that_added_each(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        graph = await conversation(cp)
        found = await cp.alist_messages(on("t"))
        state = await graph.aget_state(on("t"))
        history = [s async for s in graph.aget_state_history(on("t"))]
    reference = await conversation(InMemorySaver())  # the same graph, the same steps
    first = await first_steps(reference)
    expected = [first[m.id] for m in (await reference.aget_state(on("t"))).values["messages"]]
    assert [m.message for m in found] == state.values["messages"]
    assert [m.index for m in found] == list(range(len(found)))
    assert [m.step for m in found] == expected
    step_of = {s.config["configurable"]["checkpoint_id"]: s.metadata["step"] for s in history}
    assert [step_of[m.checkpoint_id] for m in found] == expected


async def test_list_messages_steps_hold_where_checkpoints_skip_steps(open_saver: Any) -> None:
    async with open_saver() as cp:
        graph = graph_of(cp, reply)
        for line in ("one", "two"):  # one checkpoint per run: steps jump along the lineage
            await graph.ainvoke(said(line), on("t"), durability="exit")
        found = await cp.alist_messages(on("t"))
        history = [s async for s in graph.aget_state_history(on("t"))]
    first = {}
    for snapshot in history:  # newest first: the oldest holding a message wins
        for message in snapshot.values["messages"]:
            first[message.id] = snapshot.metadata["step"]
    assert [m.step for m in found] == [first[m.message_id] for m in found]
    assert len({m.step for m in found}) == 2


@pytest.mark.parametrize("removed", [False, True], ids=["appended", "one removed"])
async def test_list_messages_places_messages_written_without_ids(
    open_saver: Any, removed: bool
) -> None:
    # ("user", text) inputs get their ids from the reducer; a removal breaks the pairing of
    # id-less writes with the state's messages, and the states are read instead
    async with open_saver() as cp:
        graph = graph_of(cp)
        for line in ("one", "two", "three"):
            await graph.ainvoke({"messages": [("user", line)]}, on("t"))
        if removed:
            first_id = (await graph.aget_state(on("t"))).values["messages"][0].id
            await graph.aupdate_state(on("t"), {"messages": [RemoveMessage(first_id)]})
        found = await cp.alist_messages(on("t"))
        expected = await first_steps(graph)
    assert len(found) == (5 if removed else 6)
    assert [m.step for m in found] == [expected[m.message_id] for m in found]


async def test_list_messages_searches_and_pages(open_saver: Any) -> None:
    async with open_saver() as cp:
        await conversation(cp)
        paris = await cp.alist_messages(on("t"), search="PARIS")
        page = await cp.alist_messages(on("t"), offset=2, limit=3)
        every = await cp.alist_messages(on("t"))
    assert [m.message.content for m in paris] == [
        "weather in Paris?",
        "you said: weather in Paris?",
    ]
    assert page == every[2:5]


async def test_get_message_finds_one_message_by_its_id(open_saver: Any) -> None:
    async with open_saver() as cp:
        await conversation(cp)
        every = await cp.alist_messages(on("t"))
        one = await cp.aget_message(on("t"), every[4].message_id)
        none = await cp.aget_message(on("t"), "no-such-id")
    assert one == every[4]
    assert none is None


async def test_messages_of_an_unknown_thread_are_none(open_saver: Any) -> None:
    async with open_saver() as cp:
        assert await cp.alist_messages(on("nobody")) == []
        assert await cp.aget_message(on("nobody"), "m") is None


@pytest.mark.parametrize("kwargs", [{"offset": -1}, {"limit": 0}, {"search": 3}, {"channel": ""}])
async def test_list_messages_refuses_a_bad_page(open_saver: Any, kwargs: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError):
            await cp.alist_messages(on("t"), **kwargs)
