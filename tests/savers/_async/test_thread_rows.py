"""history_threads: one row per thread, kept by puts and deletes, always what the thread's
root checkpoints say (its head, count, first and last time, the head's metadata), and filled
from existing checkpoints when a database written before it is upgraded."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import START, StateGraph, add_messages
from typing_extensions import TypedDict

from saver import RetentionPolicy
from tests.savers._async.spec_helpers import execute, raw_rows

ROW = "SELECT head_id, checkpoints, first_at, last_at FROM history_threads WHERE thread_id = ?"
FROM_CHECKPOINTS = (
    "SELECT MAX(checkpoint_id), COUNT(*), MIN(created_at), MAX(created_at) "
    "FROM history_checkpoints WHERE thread_id = ? AND checkpoint_ns = ''"
)


class Chat(TypedDict, total=False):
    messages: Annotated[list[Any], add_messages]


def reply(state: Chat) -> dict[str, Any]:
    return {"messages": [AIMessage(f"you said: {state['messages'][-1].content}")]}


def chat_graph(cp: Any) -> Any:
    builder = StateGraph(Chat)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    return builder.compile(checkpointer=cp)


def on(thread_id: str, **extra: Any) -> Any:
    return {"configurable": {"thread_id": thread_id, **extra}}


async def chat(cp: Any, thread_id: str, *lines: str) -> None:
    graph = chat_graph(cp)
    for line in lines:
        await graph.ainvoke({"messages": [HumanMessage(line)]}, on(thread_id))


def stored_row(store: Any, thread_id: str) -> tuple[Any, ...] | None:
    found = raw_rows(store, ROW, (thread_id,))
    return tuple(found[0]) if found else None


def derived_row(store: Any, thread_id: str) -> tuple[Any, ...] | None:
    found = tuple(raw_rows(store, FROM_CHECKPOINTS, (thread_id,))[0])
    return None if found[1] == 0 else found


async def test_puts_keep_the_row_equal_to_what_the_checkpoints_say(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one", "two")
    assert stored_row(open_saver, "t") == derived_row(open_saver, "t")


async def test_a_checkpoint_put_again_is_counted_once(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one")
        head = await cp.aget_tuple(on("t"))
        assert head is not None
        parent = {"configurable": {**head.config["configurable"]}}
        parent["configurable"]["checkpoint_id"] = head.parent_config["configurable"][
            "checkpoint_id"
        ]
        await cp.aput(parent, head.checkpoint, head.metadata, {})
    assert stored_row(open_saver, "t") == derived_row(open_saver, "t")


async def test_a_fork_moves_the_head_to_the_new_branch(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one", "two")
        graph = chat_graph(cp)
        first = [s async for s in graph.aget_state_history(on("t"))][-2]
        await graph.aupdate_state(first.config, {"messages": [HumanMessage("other")]})
        found = (await cp.alist_threads())[0]
        head = await cp.aget_tuple(on("t"))
    assert head is not None
    assert found.head_id == head.config["configurable"]["checkpoint_id"]
    assert stored_row(open_saver, "t") == derived_row(open_saver, "t")


async def test_deleting_a_thread_deletes_its_row(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one")
        await cp.adelete_thread("t")
        found = await cp.alist_threads()
    assert stored_row(open_saver, "t") is None
    assert found == []


async def test_runs_deleted_take_the_head_back_to_what_remains(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one")
        graph = chat_graph(cp)
        config = {**on("t"), "metadata": {"run_id": "second"}}
        await graph.ainvoke({"messages": [HumanMessage("two")]}, config)
        await cp.adelete_for_runs(["second"])
    assert stored_row(open_saver, "t") == derived_row(open_saver, "t")
    assert stored_row(open_saver, "t")[1] == 3  # type: ignore[index]


async def test_cleanup_and_prune_leave_rows_equal_to_what_remains(open_saver: Any) -> None:
    async with open_saver() as cp:
        for tid in ("a", "b", "c"):
            await chat(cp, tid, "one", "two", "three")
        made = {tid: stored_row(open_saver, tid)[2] for tid in ("a", "b", "c")}  # type: ignore[index]
        await cp.acleanup(RetentionPolicy(keep_last=4))
        await cp.aprune(["b"], strategy="keep_latest")
    for tid in ("a", "b", "c"):
        row, derived = stored_row(open_saver, tid), derived_row(open_saver, tid)
        assert row is not None and derived is not None
        assert (*row[:2], row[3]) == (*derived[:2], derived[3])
        assert row[2] == made[tid]  # a thread's first time is when it was made, trimmed or not
    assert stored_row(open_saver, "a")[1] == 4  # type: ignore[index]
    assert stored_row(open_saver, "b")[1] == 1  # type: ignore[index]


async def test_copied_and_imported_threads_have_their_rows(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "t", "one", "two")
        await cp.acopy_thread("t", "copy")
        await cp.aimport_thread(await cp.aexport_thread("t"), "imported")
        listed = {t.thread_id: t.checkpoints for t in await cp.alist_threads()}
    for tid in ("copy", "imported"):
        assert stored_row(open_saver, tid) == derived_row(open_saver, tid)
    assert listed == {"t": 6, "copy": 6, "imported": 6}


async def test_a_database_from_before_the_table_is_filled_on_upgrade(open_saver: Any) -> None:
    async with open_saver() as cp:
        await chat(cp, "a", "one", "two")
        await chat(cp, "b", "one")
        before = await cp.alist_threads()
    execute(open_saver, "DROP TABLE history_threads")  # as schema 3 left it
    execute(open_saver, "DELETE FROM history_migrations WHERE version >= 4")
    async with open_saver() as cp:
        await cp.setup()
        after = await cp.alist_threads()
        await chat(cp, "a", "three")
        grown = await cp.alist_threads()
    assert after == before
    assert [(t.thread_id, t.checkpoints) for t in grown] == [("a", 9), ("b", 3)]
