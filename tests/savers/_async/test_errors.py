"""Bad input gets a clear error naming the problem, and nothing already stored is lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import saver
from saver.errors import (
    CorruptRowError,
    InvalidConfigError,
    SaverClosedError,
    StorageError,
    TransientStorageError,
)
from tests.savers._async.spec_helpers import (
    GARBAGE,
    Sql,
    checkpoint_id,
    config,
    corrupt_json,
    damage,
    ids,
    make_checkpoint,
    put_counter_chain,
    thread_rows,
)


async def assert_intact(cp: Any, thread_id: str, steps: int) -> None:
    """Every checkpoint of a `put_counter_chain` thread still loads with its values."""
    listed = [t async for t in cp.alist(config(thread_id))]
    assert ids(listed) == [checkpoint_id(n) for n in range(steps, 0, -1)]
    for n in range(1, steps + 1):
        tup = await cp.aget_tuple(config(thread_id, cid=checkpoint_id(n)))
        assert tup is not None
        assert tup.checkpoint["channel_values"] == {"topic": f"topic-of-{thread_id}", "count": n}


# --- missing thread_id ----------------------------------------------------------------


async def test_get_tuple_without_thread_id_names_the_missing_thread_id(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with pytest.raises(InvalidConfigError, match="thread_id"):
            await cp.aget_tuple({"configurable": {"checkpoint_ns": ""}})
        await assert_intact(cp, "kept", 2)


async def test_get_tuple_without_configurable_names_the_missing_configurable(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with pytest.raises(InvalidConfigError, match="configurable"):
            await cp.aget_tuple({})
        await assert_intact(cp, "kept", 2)


async def test_put_without_thread_id_names_it_and_writes_nothing(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        before = thread_rows(open_saver, "kept")
        with pytest.raises(InvalidConfigError, match="thread_id"):
            await cp.aput(
                {"configurable": {"checkpoint_ns": ""}},
                make_checkpoint(9, {"count": 9}, {"count": 9}),
                {},
                {"count": 9},
            )
        assert thread_rows(open_saver, "kept") == before
        await assert_intact(cp, "kept", 2)


async def test_put_writes_without_thread_id_names_the_missing_thread_id(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with pytest.raises(InvalidConfigError, match="thread_id"):
            await cp.aput_writes(
                {"configurable": {"checkpoint_id": checkpoint_id(2)}}, [("count", 1)], "task"
            )
        await assert_intact(cp, "kept", 2)


async def test_put_writes_without_checkpoint_id_names_the_missing_checkpoint_id(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        before = thread_rows(open_saver, "kept")
        with pytest.raises(InvalidConfigError, match="checkpoint_id"):
            await cp.aput_writes(config("kept"), [("count", 1)], "task")
        assert thread_rows(open_saver, "kept") == before
        await assert_intact(cp, "kept", 2)


async def test_list_with_a_malformed_before_config_names_before(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with pytest.raises(InvalidConfigError, match=r"before"):
            [t async for t in cp.alist(config("kept"), before={"checkpoint_id": "x"})]
        await assert_intact(cp, "kept", 2)


async def test_list_with_a_config_lacking_configurable_names_configurable(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        with pytest.raises(InvalidConfigError, match="configurable"):
            [t async for t in cp.alist({"thread_id": "kept"})]
        await assert_intact(cp, "kept", 2)


async def test_invalid_config_errors_are_also_value_errors(open_saver: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(ValueError, match="thread_id"):
            await cp.aget_tuple({"configurable": {}})


# --- prune arguments --------------------------------------------------------------------


async def test_prune_with_an_unknown_strategy_names_the_strategy_and_deletes_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 3)
        with pytest.raises(InvalidConfigError, match="nope"):
            await cp.aprune(["kept"], strategy="nope")
        await assert_intact(cp, "kept", 3)


async def test_prune_given_a_single_string_asks_for_a_list_and_deletes_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 3)
        await put_counter_chain(cp, "k", 3)
        with pytest.raises(InvalidConfigError, match="single string"):
            await cp.aprune("kept")
        await assert_intact(cp, "kept", 3)
        await assert_intact(cp, "k", 3)


async def test_delete_for_runs_given_a_single_string_asks_for_a_list(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2, metadata={"run_id": "run-1"})
        with pytest.raises(InvalidConfigError, match="single string"):
            await cp.adelete_for_runs("run-1")
        await assert_intact(cp, "kept", 2)


# --- opening ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["missing-directory", "directory"])
async def test_opening_an_unusable_sqlite_path_raises_storage_error_naming_the_path(
    open_sqlite_saver: Any, tmp_path: Path, where: str
) -> None:
    bad = (
        str(tmp_path / "no" / "such" / "dir" / "db.sqlite")
        if where != "directory"
        else str(tmp_path)
    )
    cls = getattr(saver, open_sqlite_saver.class_name)
    with pytest.raises(StorageError, match="cannot open") as caught:
        async with cls.from_conn_string(bad) as cp:
            await cp.aget_tuple(config("t"))
    assert bad in str(caught.value)


async def test_opening_an_empty_sqlite_conn_string_raises_storage_error(
    open_sqlite_saver: Any,
) -> None:
    cls = getattr(saver, open_sqlite_saver.class_name)
    with pytest.raises(StorageError, match="SQLite path"):
        async with cls.from_conn_string(""):
            pass


async def test_opening_a_file_that_is_not_a_sqlite_database_raises_storage_error(
    open_sqlite_saver: Any, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a sqlite database, just text" * 100)
    cls = getattr(saver, open_sqlite_saver.class_name)
    with pytest.raises(StorageError, match="not a (SQLite )?database"):
        async with cls.from_conn_string(str(junk)) as cp:
            await cp.aget_tuple(config("t"))


PASSWORD = "s3cret-pw"
# (conn string, a password-free part of it that the error must show)
MALFORMED_POSTGRES = {
    "unknown-query-parameter": (
        f"postgresql://ann:{PASSWORD}@127.0.0.1:5432/db?bogus=1",
        "@127.0.0.1:5432/db?bogus=1",
    ),
    "not-a-url": ("not a url", "not a url"),
    "unclosed-ipv6-bracket": (f"postgresql://ann:{PASSWORD}@[::1/db", "@[::1/db"),
    "port-not-a-number": (f"postgresql://ann:{PASSWORD}@127.0.0.1:port/db", "127.0.0.1:port/db"),
    "unknown-conninfo-keyword": (f"host=127.0.0.1 password={PASSWORD} bogus=1", "bogus=1"),
}
# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE_POSTGRES = f"postgresql://ann:{PASSWORD}@127.0.0.1:1/db"


@pytest.mark.parametrize("case", list(MALFORMED_POSTGRES))
async def test_opening_a_malformed_postgres_url_raises_invalid_config_error_naming_it(
    open_postgres_url: Any, case: str
) -> None:
    url, shown = MALFORMED_POSTGRES[case]
    cls = getattr(saver, open_postgres_url.class_name)
    with pytest.raises(InvalidConfigError) as caught:
        async with cls.from_conn_string(url) as cp:
            await cp.aget_tuple(config("t"))
    assert shown in str(caught.value)


async def test_opening_an_unreachable_postgres_server_raises_transient_storage_error_naming_it(
    open_postgres_url: Any,
) -> None:
    cls = getattr(saver, open_postgres_url.class_name)
    with pytest.raises(TransientStorageError) as caught:
        async with cls.from_conn_string(UNREACHABLE_POSTGRES) as cp:
            await cp.aget_tuple(config("t"))
    assert "@127.0.0.1:1/db" in str(caught.value)


@pytest.mark.parametrize(
    "case", [c for c, (url, _) in MALFORMED_POSTGRES.items() if PASSWORD in url] + ["unreachable"]
)
async def test_an_error_opening_postgres_never_shows_the_password(
    open_postgres_url: Any, case: str
) -> None:
    url = UNREACHABLE_POSTGRES if case == "unreachable" else MALFORMED_POSTGRES[case][0]
    cls = getattr(saver, open_postgres_url.class_name)
    with pytest.raises(StorageError) as caught:
        async with cls.from_conn_string(url) as cp:
            await cp.aget_tuple(config("t"))
    assert PASSWORD not in str(caught.value)


# --- closed saver -------------------------------------------------------------------------


async def test_reading_from_a_closed_saver_raises_saver_closed_error(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
    with pytest.raises(SaverClosedError):
        await cp.aget_tuple(config("kept"))
    async with open_saver() as reopened:
        await assert_intact(reopened, "kept", 2)


async def test_listing_from_a_closed_saver_raises_saver_closed_error(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
    with pytest.raises(SaverClosedError):
        [t async for t in cp.alist(config("kept"))]


async def test_writing_to_a_closed_saver_raises_saver_closed_error_and_stores_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
    with pytest.raises(SaverClosedError):
        await cp.aput(
            config("kept", cid=checkpoint_id(2)),
            make_checkpoint(3, {"count": 3}, {"count": 3}),
            {},
            {"count": 3},
        )
    with pytest.raises(SaverClosedError):
        await cp.aput_writes(config("kept", cid=checkpoint_id(2)), [("count", 0)], "task")
    with pytest.raises(SaverClosedError):
        await cp.adelete_thread("kept")
    async with open_saver() as reopened:
        await assert_intact(reopened, "kept", 2)


# --- rows that cannot be read back ----------------------------------------------------------


async def test_a_corrupt_checkpoint_row_raises_corrupt_row_error_naming_thread_and_checkpoint(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 3)
        await put_counter_chain(cp, "other", 2)
    damage(
        open_saver,
        "history_checkpoints",
        "checkpoint",
        GARBAGE,
        "broken",
        checkpoint_id=checkpoint_id(3),
    )
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError) as caught:
            await cp.aget_tuple(config("broken"))
        assert "broken" in str(caught.value)
        assert checkpoint_id(3) in str(caught.value)


async def test_a_corrupt_checkpoint_row_leaves_every_other_checkpoint_loadable(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 3)
        await put_counter_chain(cp, "other", 2)
    damage(
        open_saver,
        "history_checkpoints",
        "checkpoint",
        GARBAGE,
        "broken",
        checkpoint_id=checkpoint_id(3),
    )
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError):
            await cp.aget_tuple(config("broken"))
        await assert_intact(cp, "other", 2)
        for n in (1, 2):
            tup = await cp.aget_tuple(config("broken", cid=checkpoint_id(n)))
            assert tup is not None
            assert tup.checkpoint["channel_values"]["count"] == n


async def test_a_corrupt_blob_raises_corrupt_row_error_naming_the_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 3)
    damage(open_saver, "history_blobs", "data", GARBAGE, "broken", channel="count", version="3")
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError) as caught:
            await cp.aget_tuple(config("broken"))
        assert "broken" in str(caught.value)
        assert "count" in str(caught.value)


async def test_a_corrupt_blob_leaves_checkpoints_not_using_it_loadable(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 3)
        await put_counter_chain(cp, "other", 2)
    damage(open_saver, "history_blobs", "data", GARBAGE, "broken", channel="count", version="3")
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError):
            [t async for t in cp.alist(config("broken"))]
        await assert_intact(cp, "other", 2)
        tup = await cp.aget_tuple(config("broken", cid=checkpoint_id(2)))
        assert tup is not None
        assert tup.checkpoint["channel_values"] == {"topic": "topic-of-broken", "count": 2}


async def test_corrupt_metadata_raises_corrupt_row_error_naming_the_checkpoint(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 2)
    corrupt_json(open_saver, "metadata", "broken", checkpoint_id(2))
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError, match="metadata") as caught:
            await cp.aget_tuple(config("broken"))
        assert checkpoint_id(2) in str(caught.value)


async def test_a_corrupt_pending_write_raises_corrupt_row_error(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 2, with_writes=True)
    damage(open_saver, "history_writes", "data", GARBAGE, "broken", checkpoint_id=checkpoint_id(2))
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError) as caught:
            await cp.aget_tuple(config("broken"))
        assert "broken" in str(caught.value)
        older = await cp.aget_tuple(config("broken", cid=checkpoint_id(1)))
        assert older is not None
        assert older.pending_writes == [("task-1", "count", 2)]


async def test_a_blob_in_an_unknown_format_raises_corrupt_row_error_asking_for_an_upgrade(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "future", 2)
    damage(open_saver, "history_blobs", "format", Sql("99"), "future", channel="count")
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError, match="upgrade"):
            await cp.aget_tuple(config("future"))


async def test_a_corrupt_blob_versions_column_raises_corrupt_row_error_naming_the_checkpoint(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 3)
    corrupt_json(open_saver, "blob_versions", "broken", checkpoint_id(3))
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError) as caught:
            await cp.aget_tuple(config("broken"))
        assert checkpoint_id(3) in str(caught.value)


async def test_prune_of_a_thread_with_a_corrupt_row_fails_and_deletes_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "broken", 3, with_writes=True)
    corrupt_json(open_saver, "metadata", "broken", checkpoint_id(2))
    before = thread_rows(open_saver, "broken")
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError, match=checkpoint_id(2)):
            await cp.aprune(["broken"])
        assert thread_rows(open_saver, "broken") == before
        older = await cp.aget_tuple(config("broken", cid=checkpoint_id(1)))
    assert older is not None
    assert older.checkpoint["channel_values"]["count"] == 1


async def test_a_connection_closed_underneath_the_saver_raises_saver_closed_error(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "kept", 2)
        await cp.conn.close()
        with pytest.raises(SaverClosedError):
            await cp.aget_tuple(config("kept"))
    async with open_saver() as reopened:
        await assert_intact(reopened, "kept", 2)
