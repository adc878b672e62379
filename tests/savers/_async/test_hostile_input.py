"""Input InMemorySaver takes is answered as InMemorySaver answers it, or refused with
InvalidConfigError before anything is stored; rows damaged behind the saver's back are
found (CorruptRowError naming thread, namespace and checkpoint) and contained (cleanup
skips their thread, reports it, and goes on)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from saver.errors import CorruptRowError, InvalidConfigError
from saver.retention.policy import RetentionPolicy
from tests.savers._async.spec_helpers import (
    checkpoint_id,
    config,
    corrupt_json,
    damage,
    make_checkpoint,
    put_counter_chain,
    thread_rows,
)


async def put_with_metadata(cp: Any, thread_id: str, metadata: dict[str, Any]) -> None:
    checkpoint = make_checkpoint(1, {"count": 1}, {"count": 1})
    new_versions = dict(checkpoint["channel_versions"])
    await cp.aput(config(thread_id), checkpoint, metadata, new_versions)


async def matching(cp: Any, filter: dict[str, Any]) -> list[str]:
    found = [t async for t in cp.alist(None, filter=filter)]
    return sorted(t.config["configurable"]["thread_id"] for t in found)


# --- metadata filters ------------------------------------------------------------------------


async def test_a_filter_key_holding_a_backslash_matches_its_value(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_with_metadata(cp, "slash", {"a\\b": 1})
        await put_with_metadata(cp, "plain", {"ab": 1})
        assert await matching(cp, {"a\\b": 1}) == ["slash"]


async def test_a_none_filter_on_a_key_holding_a_backslash_matches_only_where_it_is_missing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_with_metadata(cp, "slash", {"a\\b": 1})
        await put_with_metadata(cp, "plain", {"ab": 1})
        assert await matching(cp, {"a\\b": None}) == ["plain"]


async def test_metadata_holding_nul_reads_back_as_in_memory_saver_gives_it(
    open_saver: Any,
) -> None:
    metadata = {"x": {"y": "p\x00q"}, "k\x00": ["\x00", "\ufdd0", "\ufdd00"], "z": "\x00"}
    memory = InMemorySaver()
    await put_with_metadata(memory, "t", metadata)
    expected = await memory.aget_tuple(config("t"))
    async with open_saver() as cp:
        await put_with_metadata(cp, "t", metadata)
        got = await cp.aget_tuple(config("t"))
    assert got is not None and expected is not None
    assert got.metadata == expected.metadata


async def test_a_nested_filter_value_holding_nul_matches_that_value_only(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_with_metadata(cp, "nul", {"x": {"y": "p\x00q"}})
        await put_with_metadata(cp, "p", {"x": {"y": "p"}})
        await put_with_metadata(cp, "empty", {"x": {"y": ""}})
        assert await matching(cp, {"x": {"y": "p\x00q"}}) == ["nul"]
        assert await matching(cp, {"x": {"y": ""}}) == ["empty"]
        assert await matching(cp, {"x": {"y": "p"}}) == ["p"]


async def test_a_filter_value_holding_nul_that_nothing_holds_matches_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_with_metadata(cp, "t", {"user": "ann"})
        assert await matching(cp, {"user": "ann\x00"}) == []
        assert await matching(cp, {"user": ["\x00"]}) == []


# --- ids and channel names PostgreSQL cannot hold ------------------------------------------


@pytest.mark.parametrize("field", ["thread_id", "checkpoint_ns"])
@pytest.mark.parametrize("bad", ["\udcff", "a\x00b"], ids=["lone-surrogate", "nul"])
async def test_an_id_that_is_not_storable_text_is_refused_and_nothing_stored(
    open_saver: Any, field: str, bad: str
) -> None:
    conf = config("t")
    conf["configurable"][field] = bad
    checkpoint = make_checkpoint(1, {"count": 1}, {"count": 1})
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match=field):
            await cp.aput(conf, checkpoint, {}, dict(checkpoint["channel_versions"]))
        assert [t async for t in cp.alist(None)] == []


async def test_a_channel_named_with_nul_is_refused_and_nothing_stored(open_saver: Any) -> None:
    checkpoint = make_checkpoint(1, {"a\x00b": 1}, {"a\x00b": 1})
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="channel name"):
            await cp.aput(config("t"), checkpoint, {}, dict(checkpoint["channel_versions"]))
        assert [t async for t in cp.alist(None)] == []


async def test_a_write_to_a_channel_named_with_nul_is_refused_and_nothing_stored(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        (saved,) = await put_counter_chain(cp, "t", 1)
        with pytest.raises(InvalidConfigError, match="channel name"):
            await cp.aput_writes(saved, [("ok", 1), ("a\x00b", 2)], "task")
        got = await cp.aget_tuple(config("t"))
    assert got is not None and got.pending_writes == []


# --- damaged bytes ------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["history_writes", "history_blobs"])
async def test_bytes_overwritten_with_a_longer_value_raise_not_misread(
    open_saver: Any, table: str
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2, with_writes=True)
    # b"{" is the whole msgpack value 123: without a check, the rest would be ignored
    key = {"checkpoint_id": checkpoint_id(2)} if table == "history_writes" else {"version": "2"}
    damage(open_saver, table, "data", b'{"a": 1}', "t", **key)
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError, match="bytes follow"):
            await cp.aget_tuple(config("t"))


async def test_a_damaged_write_is_named_by_thread_namespace_checkpoint_and_channel(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2, with_writes=True, checkpoint_ns="sub:1")
    damage(open_saver, "history_writes", "data", b"\x7b\x7b", "t", checkpoint_id=checkpoint_id(2))
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError) as caught:
            await cp.aget_tuple(config("t", "sub:1"))
    said = str(caught.value)
    for part in ("'t'", "'sub:1'", checkpoint_id(2), "'count'"):
        assert part in said, said


async def test_a_damaged_blob_is_named_by_thread_namespace_checkpoint_and_channel(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2, checkpoint_ns="sub:1")
    damage(open_saver, "history_blobs", "data", b"\x7b\x7b", "t", channel="count", version="2")
    async with open_saver() as cp:
        with pytest.raises(CorruptRowError) as caught:
            await cp.aget_tuple(config("t", "sub:1"))
    said = str(caught.value)
    for part in ("'t'", "'sub:1'", checkpoint_id(2), "'count'"):
        assert part in said, said


# --- cleanup goes on past a damaged thread ----------------------------------------------


async def test_cleanup_skips_a_thread_it_cannot_read_reports_it_and_trims_the_rest(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "damaged", 5)
        await put_counter_chain(cp, "fine", 5)
    corrupt_json(open_saver, "metadata", "damaged", checkpoint_id(5))
    before = thread_rows(open_saver, "damaged")
    async with open_saver() as cp:
        report = await cp.acleanup(RetentionPolicy(keep_last=2))
        kept = [t async for t in cp.alist(config("fine"))]
    assert len(kept) == 2
    assert thread_rows(open_saver, "damaged") == before
    assert [(s["thread_id"], s["checkpoint_id"]) for s in report.skipped] == [
        ("damaged", checkpoint_id(5))
    ]
    assert "metadata" in report.skipped[0]["problem"]
    assert "skipped 1 damaged threads" in str(report)


# --- what the generative tests (tests/savers/test_generative.py) found ------------------------


async def test_a_list_naming_an_id_that_is_not_storable_text_is_refused(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 1)
        for conf in (config("t", "\ud800"), config("t", "", "\udcff"), config("t", "\x00")):
            with pytest.raises(InvalidConfigError):
                [t async for t in cp.alist(conf)]
        with pytest.raises(InvalidConfigError, match="before"):
            [t async for t in cp.alist(None, before=config("t", "", "\x00"))]


async def test_a_filter_holding_a_lone_surrogate_is_refused(open_saver: Any) -> None:
    async with open_saver() as cp:
        for filter in ({"source": "\ud800"}, {"\udcff": 1}, {"a": ["\ud800"]}):
            with pytest.raises(InvalidConfigError, match="surrogate"):
                await matching(cp, filter)


@pytest.mark.parametrize("value", [["é", "\x7f"], [{"k": "ü"}]], ids=["text", "nested"])
async def test_a_list_filter_holding_non_ascii_text_matches_it(open_saver: Any, value: Any) -> None:
    async with open_saver() as cp:
        await put_with_metadata(cp, "t", {"tags": value})
        assert await matching(cp, {"tags": value}) == ["t"]


async def test_a_filter_on_an_integer_past_64_bits_matches_as_python_compares(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_with_metadata(cp, "t", {"big": 2**64 - 1})
        assert await matching(cp, {"big": 2**64 - 1}) == ["t"]
        assert await matching(cp, {"big": 2**63}) == []


@pytest.mark.parametrize("number", [float("inf"), float("nan")], ids=["inf", "nan"])
async def test_metadata_or_a_filter_holding_inf_or_nan_is_refused_and_nothing_stored(
    open_saver: Any, number: float
) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="JSON cannot hold"):
            await put_with_metadata(cp, "t", {"score": number})
        with pytest.raises(InvalidConfigError, match="JSON cannot hold"):
            await matching(cp, {"score": number})
        assert [t async for t in cp.alist(None)] == []


async def test_before_with_an_empty_checkpoint_id_bounds_nothing(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2)
        found = [t async for t in cp.alist(config("t"), before=config("t", "", ""))]
    assert len(found) == 2


async def test_a_channel_named_with_a_noncharacter_reads_back(open_saver: Any) -> None:
    checkpoint = make_checkpoint(1, {"m\ufdd0x": 1}, {"m\ufdd0x": 1})
    async with open_saver() as cp:
        await cp.aput(config("t"), checkpoint, {}, dict(checkpoint["channel_versions"]))
        got = await cp.aget_tuple(config("t"))
    assert got is not None and got.checkpoint["channel_values"] == {"m\ufdd0x": 1}
