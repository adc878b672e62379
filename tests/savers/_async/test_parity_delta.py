"""Parity with InMemorySaver for a DeltaChannel, whose value most checkpoints do not store.

With `snapshot_frequency=3` only every third update writes a snapshot blob; every other
checkpoint's value is rebuilt from the nearest snapshot plus the writes saved after it
(`get_delta_channel_history`). Reading, restarting and replaying must all see the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from langgraph.channels.delta import DeltaChannel
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from tests.parity import MemoryOpener, Transcript

THREAD = {"configurable": {"thread_id": "delta"}}
ROUNDS = 4  # loop iterations per invoke


def extend(current: list[str], writes: Sequence[list[str]]) -> list[str]:
    """Batching-invariant, as DeltaChannel requires: folding writes in any grouping agrees."""
    return [*current, *(item for batch in writes for item in batch)]


class Journal(TypedDict, total=False):
    events: Annotated[list[str], DeltaChannel(extend, snapshot_frequency=3)]
    rounds: int
    turn: int


async def begin(state: Journal) -> dict[str, Any]:
    return {"events": [f"turn {state['turn']} begins"], "rounds": 0}


async def tick(state: Journal) -> dict[str, Any]:
    done = state["rounds"] + 1
    return {"events": [f"turn {state['turn']} round {done}"], "rounds": done}


def again(state: Journal) -> str:
    return "tick" if state["rounds"] < ROUNDS else END


def journal_graph(checkpointer: Any) -> Any:
    builder = StateGraph(Journal)
    builder.add_node("begin", begin)
    builder.add_node("tick", tick)
    builder.add_edge(START, "begin")
    builder.add_edge("begin", "tick")
    builder.add_conditional_edges("tick", again, ["tick", END])
    return builder.compile(checkpointer=checkpointer)


async def turns(open_cp: Any, seen: Transcript, numbers: range) -> None:
    for turn in numbers:
        async with open_cp() as cp:
            graph = journal_graph(cp)
            seen.add(f"invoke {turn}", await graph.ainvoke({"turn": turn}, THREAD))


async def history(open_cp: Any) -> list[Any]:
    async with open_cp() as cp:
        return [s async for s in journal_graph(cp).aget_state_history(THREAD)]


# --- 9a. history and point reads across several snapshots -------------------------------


async def delta_reads(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    await turns(open_cp, seen, range(3))
    full = await history(open_cp)
    seen.add("history", full)
    # Each read in its own process, so nothing is left over in memory from the last one.
    for index in (0, 1, 2, 3, 4, 7, 10, len(full) - 2, len(full) - 1):
        async with open_cp() as cp:
            graph = journal_graph(cp)
            seen.add(f"state at {index}", await graph.aget_state(full[index].config))
    async with open_cp() as cp:
        seen.add("latest state", await journal_graph(cp).aget_state(THREAD))
    return seen.entries


async def test_delta_channel_history_and_point_reads(open_saver: Any) -> None:
    expected = await delta_reads(MemoryOpener())
    assert len(expected["latest state"]["values"]["events"]) == 3 * (ROUNDS + 1)
    assert len(expected["history"]) == 3 * (ROUNDS + 3)
    assert await delta_reads(open_saver) == expected


# --- 9b. replay and fork from an old checkpoint ---------------------------------------


async def delta_replay(open_cp: Any) -> dict[str, Any]:
    seen = Transcript()
    await turns(open_cp, seen, range(2))
    oldest_first = list(reversed(await history(open_cp)))
    # Mid-way through the first turn's loop: later snapshots were written after this one.
    mid_loop = [s for s in oldest_first if s.next == ("tick",)][2]
    async with open_cp() as cp:
        graph = journal_graph(cp)
        seen.add("replayed", await graph.ainvoke(None, mid_loop.config))
    async with open_cp() as cp:
        seen.add("state after replay", await journal_graph(cp).aget_state(THREAD))
    async with open_cp() as cp:
        graph = journal_graph(cp)
        forked = await graph.aupdate_state(mid_loop.config, {"events": ["edited in"]}, "tick")
        seen.add("fork", forked)
    async with open_cp() as cp:
        graph = journal_graph(cp)
        seen.add("state at fork", await graph.aget_state(forked))
        seen.add("continue fork", await graph.ainvoke(None, forked))
    await turns(open_cp, seen, range(2, 3))
    seen.add("history", await history(open_cp))
    return seen.entries


async def test_delta_channel_replay_and_fork_from_old_checkpoint(open_saver: Any) -> None:
    expected = await delta_replay(MemoryOpener())
    assert expected["state at fork"]["values"]["events"][-1] == "edited in"
    assert await delta_replay(open_saver) == expected
