"""What lands on disk: each value once per version, every step kept, keys led by thread_id."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typing_extensions import TypedDict

import saver
from tests.savers._async.spec_helpers import (
    TABLES,
    checkpoint_id,
    config,
    count_rows,
    ids,
    make_checkpoint,
    put_counter_chain,
    put_step,
    thread_rows,
)
from tests.support import primary_keys


class Loop(TypedDict):
    topic: str
    count: int


def build_loop_graph(checkpointer: Any, until: int) -> Any:
    """`topic` comes in once with the input; `count` changes at every step."""

    def tick(state: Loop) -> dict[str, int]:
        return {"count": state["count"] + 1}

    def again(state: Loop) -> str:
        return "tick" if state["count"] < until else END

    graph = StateGraph(Loop)
    graph.add_node("tick", tick)
    graph.add_edge(START, "tick")
    graph.add_conditional_edges("tick", again, ["tick", END])
    return graph.compile(checkpointer=checkpointer)


def blob_rows_of(path: str, thread_id: str, channel: str) -> int:
    return count_rows(path, "history_blobs", "thread_id = ? AND channel = ?", (thread_id, channel))


async def test_a_channel_a_real_graph_writes_once_is_stored_once(open_saver: Any) -> None:
    cfg = {"configurable": {"thread_id": "loop"}}
    async with open_saver() as cp:
        graph = build_loop_graph(cp, until=8)
        assert await graph.ainvoke({"topic": "weather", "count": 0}, cfg) == {
            "topic": "weather",
            "count": 8,
        }
        history = [s async for s in graph.aget_state_history(cfg)]
    assert len(history) >= 9
    assert blob_rows_of(open_saver, "loop", "topic") == 1
    assert blob_rows_of(open_saver, "loop", "count") >= 8


async def test_every_step_still_reads_back_a_value_stored_only_once(open_saver: Any) -> None:
    cfg = {"configurable": {"thread_id": "loop"}}
    async with open_saver() as cp:
        graph = build_loop_graph(cp, until=5)
        await graph.ainvoke({"topic": "weather", "count": 0}, cfg)
        history = [s async for s in graph.aget_state_history(cfg)]
    with_values = [s for s in history if s.metadata["step"] >= 0]
    assert [s.values["count"] for s in with_values] == [5, 4, 3, 2, 1, 0]
    assert {s.values["topic"] for s in with_values} == {"weather"}


async def test_a_hand_built_channel_left_unchanged_for_many_steps_has_one_blob_row(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 25)
        oldest = await cp.aget_tuple(config("t", cid=checkpoint_id(1)))
        newest = await cp.aget_tuple(config("t"))
    assert blob_rows_of(open_saver, "t", "topic") == 1
    assert blob_rows_of(open_saver, "t", "count") == 25
    assert oldest is not None and newest is not None
    assert oldest.checkpoint["channel_values"]["topic"] == "topic-of-t"
    assert newest.checkpoint["channel_values"]["topic"] == "topic-of-t"


async def test_putting_the_same_checkpoint_again_adds_no_rows(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3, with_writes=True)
        before = thread_rows(open_saver, "t")
        await put_step(
            cp,
            "t",
            3,
            {"topic": "topic-of-t", "count": 3},
            {"topic": 1, "count": 3},
            changed={"count": 3},
            parent=checkpoint_id(2),
        )
        await cp.aput_writes(config("t", cid=checkpoint_id(3)), [("count", 4)], "task-3")
        assert thread_rows(open_saver, "t") == before
        latest = await cp.aget_tuple(config("t"))
    assert latest is not None
    assert latest.pending_writes == [("task-3", "count", 4)]


async def test_a_repeated_regular_write_of_a_task_keeps_the_first_value(open_saver: Any) -> None:
    async with open_saver() as cp:
        saved = await put_step(cp, "t", 1, {"count": 1}, {"count": 1})
        await cp.aput_writes(saved, [("count", "first")], "task")
        await cp.aput_writes(saved, [("count", "second")], "task")
        tup = await cp.aget_tuple(saved)
    assert tup is not None
    assert tup.pending_writes == [("task", "count", "first")]


async def test_a_repeated_special_write_of_a_task_replaces_the_earlier_one(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        saved = await put_step(cp, "t", 1, {"count": 1}, {"count": 1})
        await cp.aput_writes(saved, [("__error__", "first failure")], "task")
        await cp.aput_writes(saved, [("__error__", "second failure")], "task")
        tup = await cp.aget_tuple(saved)
    assert tup is not None
    assert tup.pending_writes == [("task", "__error__", "second failure")]


async def test_every_step_of_every_thread_survives_a_reopen(open_saver: Any) -> None:
    async with open_saver() as cp:
        for thread in ("a", "b", "c"):
            await build_loop_graph(cp, until=4).ainvoke(
                {"topic": thread, "count": 0}, {"configurable": {"thread_id": thread}}
            )
        before = {}
        for thread in ("a", "b", "c"):
            before[thread] = [t async for t in cp.alist(config(thread))]
    async with open_saver() as reopened:
        for thread in ("a", "b", "c"):
            after = [t async for t in reopened.alist(config(thread))]
            assert ids(after) == ids(before[thread])
            assert [t.checkpoint for t in after] == [t.checkpoint for t in before[thread]]
            state = await build_loop_graph(reopened, until=4).aget_state(
                {"configurable": {"thread_id": thread}}
            )
            assert state.values == {"topic": thread, "count": 4}


async def test_opening_a_file_again_does_not_redo_the_schema(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2)
    async with open_saver() as cp:
        await cp.setup()
        await cp.setup()
        assert len([t async for t in cp.alist(config("t"))]) == 2
    assert count_rows(open_saver, "history_migrations") == len(cp.dialect.MIGRATIONS)


async def test_every_table_of_thread_rows_has_a_primary_key_starting_with_thread_id(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await cp.setup()
    keys = primary_keys(open_saver)
    assert set(keys) == {*TABLES, "history_quarantine"}
    for table, columns in keys.items():
        assert columns, f"{table} has no primary key"
        assert columns[0] == "thread_id", (table, columns)


async def test_primary_keys_separate_namespace_and_checkpoint_ns(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.setup()
    keys = primary_keys(open_saver)
    assert keys.pop("history_threads") == ["thread_id", "namespace"]  # one row per thread
    for table, columns in keys.items():
        assert columns[:3] == ["thread_id", "namespace", "checkpoint_ns"], (table, columns)


async def test_a_sqlite_url_opens_the_same_file_as_the_plain_path(
    open_sqlite_saver: Any,
) -> None:
    async with open_sqlite_saver() as cp:
        await put_counter_chain(cp, "t", 2)
    async with getattr(saver, open_sqlite_saver.class_name).from_conn_string(
        "sqlite:///" + open_sqlite_saver.path
    ) as cp:
        assert ids([t async for t in cp.alist(config("t"))]) == [checkpoint_id(2), checkpoint_id(1)]


async def test_a_postgres_url_and_its_conninfo_spelling_open_the_same_database(
    open_postgres_url: Any,
) -> None:
    """The key=value spelling (host=... dbname=...) of the URL reaches the same tables."""
    async with open_postgres_url() as cp:
        await put_counter_chain(cp, "t", 2)
    async with getattr(saver, open_postgres_url.class_name).from_conn_string(
        make_conninfo(**conninfo_to_dict(open_postgres_url.path)),
        schema=open_postgres_url.schema,
    ) as cp:
        assert ids([t async for t in cp.alist(config("t"))]) == [checkpoint_id(2), checkpoint_id(1)]


async def test_an_int_thread_id_and_its_string_name_the_same_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await cp.aput(
            {"configurable": {"thread_id": 7, "checkpoint_ns": ""}},
            make_checkpoint(1, {"count": 1}, {"count": 1}),
            {},
            {"count": 1},
        )
        found = await cp.aget_tuple({"configurable": {"thread_id": "7"}})
    assert found is not None
    assert found.config["configurable"]["thread_id"] == "7"


async def test_schema_version_is_none_before_setup_and_creates_nothing(open_saver: Any) -> None:
    async with open_saver() as cp:
        assert await cp.aschema_version() is None
        assert await cp.aschema_version() is None  # asking created nothing
        await cp.setup()
        assert await cp.aschema_version() == max(v for v, _ in cp.dialect.MIGRATIONS)


async def test_put_writes_of_thousands_of_writes_are_all_stored(open_saver: Any) -> None:
    """A fan-out task can write more values than one statement takes parameters."""
    async with open_saver() as cp:
        saved = (await put_counter_chain(cp, "t", 1))[0]
        pending = [(f"ch{i % 7}", i) for i in range(7000)]
        await cp.aput_writes(saved, pending, task_id="fan-out")
        tup = await cp.aget_tuple(saved)
    assert [(ch, v) for _, ch, v in tup.pending_writes] == pending


async def test_a_put_of_thousands_of_changed_channels_is_stored(open_saver: Any) -> None:
    async with open_saver() as cp:
        values = {f"ch{i}": i for i in range(9000)}
        versions = {ch: "1" for ch in values}
        checkpoint = make_checkpoint(1, values, versions)
        saved = await cp.aput(config("t"), checkpoint, {"source": "loop", "step": 1}, versions)
        tup = await cp.aget_tuple(saved)
    assert tup.checkpoint["channel_values"] == values
