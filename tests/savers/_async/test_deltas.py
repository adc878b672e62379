"""Growing lists stored as deltas (saver/core/deltas.py): what users see never changes.

Each scenario runs on InMemorySaver and on our saver kept open across turns (so the saver
remembers what it wrote and stores deltas); the transcripts must be equal (tests/parity.py).
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage

from saver.core import threads
from saver.retention.policy import RetentionPolicy
from tests.parity import MemoryOpener, Transcript
from tests.savers._async.test_parity_chat import THREAD, chat_graph, user
from tests.support import raw_rows


def delta_rows(store: Any) -> int:
    return raw_rows(store, "SELECT COUNT(*) FROM history_blobs WHERE (format & 15) = 2")[0][0]


async def turns(cp: Any, seen: Transcript, numbers: range, config: Any = THREAD) -> None:
    graph = chat_graph(cp)
    for turn in numbers:
        seen.add(f"invoke {turn}", await graph.ainvoke(user(turn), config))
        config = THREAD


async def history(cp: Any, seen: Transcript, what: str) -> list[Any]:
    found = [s async for s in chat_graph(cp).aget_state_history(THREAD)]
    seen.add(what, found)
    return found


async def long_chat(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp() as cp:
        await turns(cp, seen, range(12))
        await history(cp, seen, "history")
    return seen.entries


async def test_a_long_chat_reads_back_the_same_from_deltas(open_saver: Any) -> None:
    assert await long_chat(open_saver) == await long_chat(MemoryOpener())
    assert delta_rows(open_saver) > 20


async def fork_and_grow_both(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp() as cp:
        await turns(cp, seen, range(4))
        found = await history(cp, seen, "history before the fork")
        main_head, early = found[0].config, found[-4].config
        graph = chat_graph(cp)
        forked = await graph.aupdate_state(
            early, {"messages": [AIMessage(content="a fork", id="fork-1")]}, "model"
        )
        await turns(cp, seen, range(10, 13), forked)
        seen.add("continue the old branch", await graph.ainvoke(user(20), main_head))
        await turns(cp, seen, range(21, 23))
        await history(cp, seen, "history after both grew")
    return seen.entries


async def test_a_fork_from_an_old_checkpoint_then_growth_on_both_branches(
    open_saver: Any,
) -> None:
    assert await fork_and_grow_both(open_saver) == await fork_and_grow_both(MemoryOpener())


async def replace_and_remove(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp() as cp:
        graph = chat_graph(cp)
        await turns(cp, seen, range(4))
        replaced = {"messages": [HumanMessage(content="edited question", id="human-1")]}
        seen.add("replace by id", await graph.aupdate_state(THREAD, replaced, "model"))
        await turns(cp, seen, range(4, 6))
        removed = {"messages": [RemoveMessage(id="human-2")]}
        seen.add("remove", await graph.aupdate_state(THREAD, removed, "model"))
        await turns(cp, seen, range(6, 8))
        await history(cp, seen, "history")
    return seen.entries


async def test_a_message_replaced_by_id_or_removed_mid_conversation(open_saver: Any) -> None:
    assert await replace_and_remove(open_saver) == await replace_and_remove(MemoryOpener())


async def two_writers(open_cp: Any) -> dict[str, Any]:
    """Two savers on one store (two processes): each one's memory goes stale in turn."""
    seen = Transcript()
    async with open_cp() as first, open_cp() as second:
        for turn in range(8):
            await turns(first if turn % 3 else second, seen, range(turn, turn + 1))
        await history(first, seen, "history seen by the first")
        await history(second, seen, "history seen by the second")
    return seen.entries


async def test_two_savers_writing_one_thread_in_turn(open_saver: Any) -> None:
    assert await two_writers(open_saver) == await two_writers(MemoryOpener())


async def test_keep_last_keeps_what_kept_deltas_are_built_on(open_saver: Any) -> None:
    async with open_saver() as cp:
        await turns(cp, Transcript(), range(10))
        before = {t.config["configurable"]["checkpoint_id"]: t async for t in cp.alist(THREAD)}
        await cp.acleanup(RetentionPolicy(keep_last=3))
        after = {t.config["configurable"]["checkpoint_id"]: t async for t in cp.alist(THREAD)}
        assert delta_rows(open_saver) > 0
        assert after == {cid: before[cid] for cid in sorted(before)[-3:]}
        state = await chat_graph(cp).ainvoke(user(10), THREAD)
    async with MemoryOpener()() as memory:
        await turns(memory, Transcript(), range(10))
        expected = await chat_graph(memory).ainvoke(user(10), THREAD)
    assert [m.content for m in state["messages"]] == [m.content for m in expected["messages"]]


async def test_a_copied_or_reimported_delta_thread_reads_the_same(open_saver: Any) -> None:
    async with open_saver() as cp:
        await turns(cp, Transcript(), range(6))
        await cp.acopy_thread("chat", "copy")
        await cp.aimport_thread(
            threads.from_lines(threads.to_lines(await cp.aexport_thread("chat"))), "imported"
        )
        graph = chat_graph(cp)
        values = {}
        for tid in ("chat", "copy", "imported"):
            config = {"configurable": {"thread_id": tid}}
            values[tid] = [s.values async for s in graph.aget_state_history(config)]
    assert delta_rows(open_saver) > 0
    assert values["copy"] == values["chat"] == values["imported"]


async def test_versions_are_short_and_grow_and_langgraph_versions_keep_their_format(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        first = cp.get_next_version(None)
        theirs = "0" * 31 + "7.0.123"  # LangGraph's SQL savers, or data from before
        continued = cp.get_next_version(theirs)
        ours_before = cp.get_next_version("0000000042.1f0c9a3e77b2")
    assert len(first) <= 16 and cp.get_next_version(first) > first
    assert len(continued.split(".")[0]) == 32 and continued > theirs
    assert first > continued  # a short version sorts after any long one: never backwards
    assert ours_before > "0000000042.1f0c9a3e77b2" and len(ours_before) <= 16


async def uncompressed_chat(open_cp: Any, **kwargs: Any) -> dict[str, Any]:
    seen = Transcript()
    async with open_cp(**kwargs) as cp:
        await turns(cp, seen, range(8))
        await history(cp, seen, "history")
    return seen.entries


async def test_compress_false_stores_nothing_compressed_and_reads_the_same(
    open_saver: Any,
) -> None:
    expected = await uncompressed_chat(MemoryOpener())
    assert await uncompressed_chat(open_saver, compress=False) == expected
    assert raw_rows(open_saver, "SELECT COUNT(*) FROM history_blobs WHERE format >= 16") == [(0,)]
