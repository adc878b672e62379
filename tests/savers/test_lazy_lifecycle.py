"""An async SQLite saver's connection thread: gone when the saver is closed mid-open, or
dropped without being closed."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from saver import AsyncSqliteSaver, SaverClosedError


async def test_a_saver_closed_while_it_opens_closes_what_it_opened(tmp_path: Path) -> None:
    saver = AsyncSqliteSaver.from_conn_string(str(tmp_path / "app.db"))
    opening = asyncio.create_task(saver.setup())
    await asyncio.sleep(0)  # the task is now waiting for the connection's thread
    await saver.aclose()
    with pytest.raises(SaverClosedError):
        await opening
    assert saver._owned is None
    with pytest.raises(SaverClosedError):
        await saver.aget_tuple({"configurable": {"thread_id": "t"}})


async def test_a_saver_dropped_unclosed_ends_its_connection_thread(tmp_path: Path) -> None:
    saver = AsyncSqliteSaver.from_conn_string(str(tmp_path / "app.db"))
    await saver.setup()
    thread = saver.conn._thread
    del saver
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.parametrize("class_name", ["AsyncSqliteSaver", "AsyncPostgresSaver"])
def test_a_saver_made_before_any_loop_serves_one_asyncio_run_after_another(
    class_name: str, tmp_path: Path
) -> None:
    import saver
    from tests.seeds.snippets import builder, config, fresh_database

    with fresh_database() as url:
        target = str(tmp_path / "app.db") if "Sqlite" in class_name else url
        checkpointer = getattr(saver, class_name).from_conn_string(target)  # no loop yet
        graph = builder().compile(checkpointer=checkpointer)
        threads = [config(f"t{n}") for n in range(4)]

        async def turn() -> None:  # turns on several threads at once: the saver's lock waits
            await asyncio.gather(*(graph.ainvoke({"input": "hi"}, c) for c in threads))

        asyncio.run(turn())
        asyncio.run(turn())

        async def seen() -> list[str]:
            state = await graph.aget_state(threads[0])
            await checkpointer.aclose()
            return list(state.values["seen"])

        assert asyncio.run(seen()) == ["hi", "approved", "hi", "approved"]
