"""DeltaChannel threads: prune keeps what a head replays from; history matches InMemorySaver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from tests.savers._async.spec_helpers import count_rows, count_statements, whole_thread

SNAPSHOT_EVERY = 4


def extend(state: list[Any], writes: Sequence[list[Any]]) -> list[Any]:
    """Batching-invariant, as DeltaChannel requires."""
    out = list(state)
    for items in writes:
        out.extend(items)
    return out


class DeltaState(TypedDict):
    items: Annotated[list, DeltaChannel(extend, snapshot_frequency=SNAPSHOT_EVERY)]
    count: int


def step(state: DeltaState) -> dict[str, Any]:
    n = state.get("count", 0)
    return {"items": [f"node-{n}"], "count": n + 1}


class Unsnapshotted(TypedDict):
    items: Annotated[list, DeltaChannel(extend, snapshot_frequency=10_000)]
    count: int


def step_unsnapshotted(state: Unsnapshotted) -> dict[str, Any]:
    n = state.get("count", 0)
    return {"items": [f"node-{n}"], "count": n + 1}


def build_graph(checkpointer: Any) -> Any:
    graph = StateGraph(DeltaState)
    graph.add_node("step", step)
    graph.add_edge(START, "step")
    graph.add_edge("step", END)
    return graph.compile(checkpointer=checkpointer)


def thread_config(thread_id: str = "delta") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


async def run_inputs(graph: Any, cfg: Any, first: int, last: int) -> None:
    """Each invocation writes `items` twice (input, node): two channel updates."""
    for i in range(first, last):
        await graph.ainvoke({"items": [f"input-{i}"]}, cfg)


def expected_items(invocations: int) -> list[str]:
    out: list[str] = []
    for i in range(invocations):
        out += [f"input-{i}", f"node-{i}"]
    return out


async def run_delta_thread(cp: Any, invocations: int = 5, thread_id: str = "delta") -> Any:
    """Run the graph; with 5 invocations (10 updates) the head is not a snapshot."""
    graph = build_graph(cp)
    cfg = thread_config(thread_id)
    await run_inputs(graph, cfg, 0, invocations)
    return graph


async def head_is_snapshot(cp: Any, thread_id: str = "delta") -> bool:
    head = await cp.aget_tuple(thread_config(thread_id))
    assert head is not None
    return "items" in head.checkpoint["channel_values"]


def comparable(history: Any) -> dict[str, Any]:
    """Task ids differ between savers (they hash checkpoint ids); channels and values don't."""
    out: dict[str, Any] = {}
    for channel, entry in history.items():
        out[channel] = {
            "writes": [(ch, value) for _, ch, value in entry["writes"]],
            "seed": entry.get("seed", "<no seed>"),
        }
    return out


async def test_the_delta_thread_head_is_not_a_snapshot(open_saver: Any) -> None:
    async with open_saver() as cp:
        await run_delta_thread(cp)
        assert not await head_is_snapshot(cp)


async def test_prune_keeps_the_exact_state_of_a_head_that_is_not_a_snapshot(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    async with open_saver() as cp:
        graph = await run_delta_thread(cp)
        before = (await graph.aget_state(cfg)).values
        await cp.aprune(["delta"])
        after = (await graph.aget_state(cfg)).values
    assert before == {"items": expected_items(5), "count": 5}
    assert after == before


async def test_prune_still_drops_checkpoints_older_than_the_snapshot_the_head_replays_from(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await run_delta_thread(cp)
        before = count_rows(open_saver, "history_checkpoints", "thread_id = 'delta'")
        await cp.aprune(["delta"])
        after = count_rows(open_saver, "history_checkpoints", "thread_id = 'delta'")
        listed = [t async for t in cp.alist(whole_thread("delta"))]
    assert 1 < after < before
    snapshots = [t for t in listed if "items" in t.checkpoint["channel_values"]]
    assert len(snapshots) == 1
    assert listed[-1] is snapshots[0], "the oldest kept checkpoint is the snapshot"


async def test_prune_leaves_the_delta_channel_history_of_the_head_unchanged(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    async with open_saver() as cp:
        await run_delta_thread(cp)
        before = await cp.aget_delta_channel_history(config=cfg, channels=["items"])
        await cp.aprune(["delta"])
        after = await cp.aget_delta_channel_history(config=cfg, channels=["items"])
    assert comparable(after) == comparable(before)
    assert after["items"]["writes"] == before["items"]["writes"]


async def test_a_pruned_delta_thread_continues_exactly_like_an_unpruned_one(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    reference = build_graph(InMemorySaver())
    await run_inputs(reference, cfg, 0, 5)
    async with open_saver() as cp:
        graph = await run_delta_thread(cp)
        await cp.aprune(["delta"])
        await run_inputs(graph, cfg, 5, 12)
        await run_inputs(reference, cfg, 5, 12)
        mine = (await graph.aget_state(cfg)).values
        theirs = (await reference.aget_state(cfg)).values
    assert mine == {"items": expected_items(12), "count": 12}
    assert mine == theirs


async def test_pruning_again_after_more_steps_still_keeps_the_exact_state(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    async with open_saver() as cp:
        graph = await run_delta_thread(cp)
        await cp.aprune(["delta"])
        await run_inputs(graph, cfg, 5, 7)
        assert not await head_is_snapshot(cp)
        await cp.aprune(["delta"])
        values = (await graph.aget_state(cfg)).values
    assert values == {"items": expected_items(7), "count": 7}


async def test_prune_of_a_head_that_is_a_snapshot_keeps_only_the_head(open_saver: Any) -> None:
    cfg = thread_config()
    async with open_saver() as cp:
        graph = await run_delta_thread(cp, invocations=6)
        assert await head_is_snapshot(cp)
        await cp.aprune(["delta"])
        listed = [t async for t in cp.alist(whole_thread("delta"))]
        values = (await graph.aget_state(cfg)).values
    assert len(listed) == 1
    assert values == {"items": expected_items(6), "count": 6}


async def test_delta_channel_history_of_the_head_matches_in_memory_saver(open_saver: Any) -> None:
    cfg = thread_config()
    reference = InMemorySaver()
    await run_inputs(build_graph(reference), cfg, 0, 5)
    async with open_saver() as cp:
        await run_delta_thread(cp)
        mine = await cp.aget_delta_channel_history(config=cfg, channels=["items", "count"])
    theirs = await reference.aget_delta_channel_history(config=cfg, channels=["items", "count"])
    assert comparable(mine) == comparable(theirs)
    assert isinstance(mine["items"]["seed"], _DeltaSnapshot)


async def test_delta_channel_history_at_every_checkpoint_matches_in_memory_saver(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    reference = build_graph(InMemorySaver())
    await run_inputs(reference, cfg, 0, 5)
    theirs_states = [s async for s in reference.aget_state_history(cfg)]
    async with open_saver() as cp:
        graph = await run_delta_thread(cp)
        mine_states = [s async for s in graph.aget_state_history(cfg)]
        assert len(mine_states) == len(theirs_states)
        for mine_state, their_state in zip(mine_states, theirs_states, strict=True):
            assert mine_state.metadata["step"] == their_state.metadata["step"]
            mine = await cp.aget_delta_channel_history(config=mine_state.config, channels=["items"])
            theirs = await reference.checkpointer.aget_delta_channel_history(
                config=their_state.config, channels=["items"]
            )
            assert comparable(mine) == comparable(theirs), mine_state.metadata


async def test_delta_channel_history_of_an_unknown_thread_has_no_writes_and_no_seed(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        found = await cp.aget_delta_channel_history(
            config=thread_config("nobody"), channels=["items"]
        )
    assert found == {"items": {"writes": []}}


async def test_delta_channel_history_for_no_channels_is_empty(open_saver: Any) -> None:
    async with open_saver() as cp:
        await run_delta_thread(cp)
        assert await cp.aget_delta_channel_history(config=thread_config(), channels=[]) == {}


async def test_delta_channel_history_of_a_channel_never_written_has_no_writes(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    reference = InMemorySaver()
    await run_inputs(build_graph(reference), cfg, 0, 2)
    async with open_saver() as cp:
        await run_delta_thread(cp, invocations=2)
        mine = await cp.aget_delta_channel_history(config=cfg, channels=["absent"])
    theirs = await reference.aget_delta_channel_history(config=cfg, channels=["absent"])
    assert comparable(mine) == comparable(theirs) == {"absent": {"writes": [], "seed": "<no seed>"}}


async def test_prune_of_a_delta_thread_that_never_snapshotted_keeps_its_exact_state(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    async with open_saver() as cp:
        graph = await run_delta_thread(cp, invocations=1)
        assert not await head_is_snapshot(cp)
        await cp.aprune(["delta"])
        values = (await graph.aget_state(cfg)).values
        await run_inputs(graph, cfg, 1, 3)
        later = (await graph.aget_state(cfg)).values
    assert values == {"items": expected_items(1), "count": 1}
    assert later == {"items": expected_items(3), "count": 3}


async def fork(graph: Any, cfg: Any, back: int) -> Any:
    """update_state on the checkpoint `back` steps before the head: a new branch."""
    history = [s async for s in graph.aget_state_history(cfg)]
    return await graph.aupdate_state(history[back].config, {"items": ["forked"]})


async def test_delta_channel_history_of_a_fork_follows_only_its_branch_like_in_memory_saver(
    open_saver: Any,
) -> None:
    cfg = thread_config()
    reference = build_graph(InMemorySaver())
    await run_inputs(reference, cfg, 0, 5)
    their_fork = await fork(reference, cfg, 3)
    async with open_saver() as cp:
        graph = await run_delta_thread(cp)
        my_fork = await fork(graph, cfg, 3)
        mine = await cp.aget_delta_channel_history(config=my_fork, channels=["items"])
        my_values = (await graph.aget_state(my_fork)).values
    theirs = await reference.checkpointer.aget_delta_channel_history(
        config=their_fork, channels=["items"]
    )
    assert comparable(mine) == comparable(theirs)
    assert my_values == (await reference.aget_state(their_fork)).values


async def test_prune_after_a_fork_keeps_the_exact_state_of_the_fork_head(open_saver: Any) -> None:
    cfg = thread_config()
    async with open_saver() as cp:
        graph = await run_delta_thread(cp)
        await fork(graph, cfg, 3)
        before = (await graph.aget_state(cfg)).values
        await cp.aprune(["delta"])
        after = (await graph.aget_state(cfg)).values
    assert "forked" in before["items"]
    assert after == before


async def test_delta_channel_history_of_a_long_chain_issues_a_constant_number_of_statements(
    open_saver: Any,
) -> None:
    """50 invocations and no snapshot: the whole chain is walked, in a few statements."""
    graph = StateGraph(Unsnapshotted)
    graph.add_node("step", step_unsnapshotted)
    graph.add_edge(START, "step")
    graph.add_edge("step", END)
    cfg = thread_config()
    async with open_saver() as cp:
        compiled = graph.compile(checkpointer=cp)
        await run_inputs(compiled, cfg, 0, 50)
        async with count_statements(cp) as statements:
            history = await cp.aget_delta_channel_history(config=cfg, channels=["items"])
    assert "seed" not in history["items"]
    assert [value for _, _, value in history["items"]["writes"]] == [
        [item] for item in expected_items(50)
    ]
    assert 1 <= len(statements) <= 5, statements
