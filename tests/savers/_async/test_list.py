"""`list()`: metadata filters, a constant number of statements, and re-entrant callers."""

from __future__ import annotations

from typing import Any

import pytest

from saver.core.plans import PAGE_SIZE
from saver.errors import InvalidConfigError
from tests.savers._async.spec_helpers import (
    build_graph_with_subgraph,
    checkpoint_id,
    config,
    count_statements,
    ids,
    put_counter_chain,
    put_step,
    raw_rows,
    thread_rows,
)

# --- metadata filter ----------------------------------------------------------------------

METADATA = {
    1: {
        "source": "input",
        "step": -1,
        "flag": 0,
        "owner": {"team": {"name": "core"}},
        "score": 0.5,
    },
    2: {"source": "loop", "step": 0, "flag": True, "owner": {"team": {"name": "web"}}},
    3: {"source": "loop", "step": 1, "flag": 1, "score": 1.25, "note": None},
    4: {"source": "update", "step": 2, "flag": False, "tags": ["a", "b"], "note": "x"},
}


async def put_metadata_thread(cp: Any, thread_id: str = "t") -> None:
    parent = None
    for n, meta in METADATA.items():
        saved = await put_step(
            cp, thread_id, n, {"count": n}, {"count": n}, parent=parent, metadata=meta
        )
        parent = saved["configurable"]["checkpoint_id"]


async def matching(cp: Any, filter: Any, cfg: Any = None) -> list[int]:
    """Which of the METADATA checkpoints (by number) the filter selects."""
    found = [t async for t in cp.alist(config("t") if cfg is None else cfg, filter=filter)]
    return sorted(int(i.rsplit("-", 1)[1]) for i in ids(found))


async def test_filter_on_a_string_value(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"source": "loop"}) == [2, 3]


async def test_filter_on_an_int_value(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"step": 1}) == [3]
        assert await matching(cp, {"step": -1}) == [1]


async def test_filter_on_a_float_value(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"score": 1.25}) == [3]
        assert await matching(cp, {"score": 0.5}) == [1]


async def test_filter_on_true_matches_true_and_the_integer_one_as_python_equality_does(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"flag": True}) == [2, 3]
        assert await matching(cp, {"flag": 1}) == [2, 3]


async def test_filter_on_false_matches_false_and_zero_as_python_equality_does(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"flag": False}) == [1, 4]
        assert await matching(cp, {"flag": 0}) == [1, 4]


async def test_filter_on_a_number_never_matches_the_same_digits_as_a_string(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"step": "1"}) == []


async def test_filter_on_none_matches_a_stored_null_and_a_missing_key_like_in_memory_saver(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"note": None}) == [1, 2, 3]


async def test_filter_on_a_list_value_matches_an_equal_list(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"tags": ["a", "b"]}) == [4]
        assert await matching(cp, {"tags": ["b", "a"]}) == []


async def test_filter_on_a_custom_nested_dict_matches_by_containment(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"owner": {"team": {"name": "web"}}}) == [2]
        assert await matching(cp, {"owner": {"team": {"name": "ops"}}}) == []


async def test_a_nested_none_in_a_filter_matches_a_null_there_not_a_missing_key(
    open_saver: Any,
) -> None:
    """As containment (LangGraph's PostgresSaver: metadata @> filter) matches it; only a
    top-level None matches a missing key, as InMemorySaver's does."""
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"owner": {"team": {"lead": None}}}) == []
        assert await matching(cp, {"nowhere": {"x": None}}) == []


async def test_several_filter_keys_must_all_match(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {"source": "loop", "flag": 1}) == [2, 3]
        assert await matching(cp, {"source": "loop", "flag": False}) == []


async def test_an_empty_filter_matches_everything(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        assert await matching(cp, {}) == [1, 2, 3, 4]


@pytest.mark.parametrize("key", ["a.b", "with space", "it's", "a[0]", "$.x", "ключ", "*"])
async def test_a_filter_key_with_path_syntax_or_unicode_matches_that_key_literally(
    open_saver: Any, key: str
) -> None:
    async with open_saver() as cp:
        await put_step(cp, "t", 1, {"count": 1}, {"count": 1}, metadata={key: "yes"})
        await put_step(cp, "t", 2, {"count": 2}, {"count": 2}, metadata={"a": {"b": "yes"}})
        assert await matching(cp, {key: "yes"}) == [1]


async def test_filter_without_config_searches_every_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp, "t")
        await put_counter_chain(cp, "other", 2, first=11, metadata={"source": "loop"})
        found = [t async for t in cp.alist(None, filter={"source": "loop"})]
    assert [
        (t.config["configurable"]["thread_id"], t.config["configurable"]["checkpoint_id"])
        for t in found
    ] == [
        ("other", checkpoint_id(12)),
        ("other", checkpoint_id(11)),
        ("t", checkpoint_id(3)),
        ("t", checkpoint_id(2)),
    ]


async def test_filter_combines_with_limit_and_before(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 6, metadata={"source": "loop"})
        found = [
            t
            async for t in cp.alist(
                config("t"),
                filter={"source": "loop"},
                before=config("t", cid=checkpoint_id(5)),
                limit=2,
            )
        ]
    assert ids(found) == [checkpoint_id(4), checkpoint_id(3)]


async def test_filter_on_parents_finds_the_subgraph_checkpoints_of_a_parent(
    open_saver: Any,
) -> None:
    """LangGraph records a subgraph's parent as metadata {"parents": {"": parent_id}}."""
    async with open_saver() as cp:
        cfg = {"configurable": {"thread_id": "t"}}
        await build_graph_with_subgraph(cp, suffix="!").ainvoke({"x": "a"}, cfg)
        everything = [t async for t in cp.alist(cfg)]
        children = [t for t in everything if t.config["configurable"]["checkpoint_ns"]]
        (parent_id,) = {t.metadata["parents"][""] for t in children}
        found = [t async for t in cp.alist(None, filter={"parents": {"": parent_id}})]
    assert ids(found) == ids(children)


async def test_a_filter_key_containing_a_double_quote_is_rejected(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        with pytest.raises(InvalidConfigError, match="quote"):
            await matching(cp, {'so"urce': "loop"})
        assert await matching(cp, {"source": "loop"}) == [2, 3]


async def test_a_nested_filter_key_containing_a_double_quote_is_rejected(open_saver: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="quote"):
            await matching(cp, {"owner": {'te"am': "x"}})


@pytest.mark.parametrize("bad", [["source", "loop"], "source=loop", 3])
async def test_a_filter_that_is_not_a_dict_is_rejected(open_saver: Any, bad: Any) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        with pytest.raises(InvalidConfigError, match="filter must be a dict"):
            await matching(cp, bad)


async def test_a_filter_value_of_an_unsupported_type_is_rejected(open_saver: Any) -> None:
    async with open_saver() as cp:
        with pytest.raises(InvalidConfigError, match="source"):
            await matching(cp, {"source": object()})


async def test_a_filter_value_that_looks_like_sql_is_bound_and_matches_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        before = thread_rows(open_saver, "t")
        assert await matching(cp, {"source": "x' OR 1=1 --"}) == []
        assert await matching(cp, {"source": "'); DROP TABLE history_checkpoints; --"}) == []
        assert thread_rows(open_saver, "t") == before
        assert await matching(cp, {"source": "loop"}) == [2, 3]


async def test_a_filter_key_that_looks_like_sql_is_bound_and_matches_nothing(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        before = thread_rows(open_saver, "t")
        assert await matching(cp, {"source') OR 1=1 --": "loop"}) == []
        assert await matching(cp, {"x' OR '1'='1": "loop"}) == []
        assert thread_rows(open_saver, "t") == before
        assert await matching(cp, {}) == [1, 2, 3, 4]


# SQLite's indexed_metadata: the same answers through an index of the key.
INDEXED = ("source", "step", "flag", "score", "note", "tags", "owner", "it's", "x' OR '1'='1")
SAME_THROUGH_AN_INDEX = [
    {"source": "loop"},
    {"step": 1},
    {"step": "1"},
    {"score": 1.25},
    {"flag": True},
    {"flag": 0},
    {"note": None},
    {"note": "x"},
    {"tags": ["a", "b"]},
    {"owner": {"team": {"name": "web"}}},
    {"source": "loop", "flag": 1},
    {"it's": "loop"},
    {"x' OR '1'='1": "loop"},
]


@pytest.mark.parametrize("filter", SAME_THROUGH_AN_INDEX, ids=repr)
async def test_an_indexed_key_selects_what_the_same_key_unindexed_selects(
    open_sqlite_saver: Any, filter: dict[str, Any]
) -> None:
    async with open_sqlite_saver() as cp:
        await put_metadata_thread(cp)
        unindexed = await matching(cp, filter)
    async with open_sqlite_saver(indexed_metadata=INDEXED) as cp:
        await cp.setup()
        assert await matching(cp, filter) == unindexed
        everywhere = [t async for t in cp.alist(None, filter=filter)]  # across threads
        assert sorted(int(i.rsplit("-", 1)[1]) for i in ids(everywhere)) == unindexed


async def test_setup_makes_an_index_per_indexed_key(open_sqlite_saver: Any) -> None:
    async with open_sqlite_saver(indexed_metadata=["user_id", "it's"]) as cp:
        await cp.setup()
    found = raw_rows(
        open_sqlite_saver,
        "SELECT sql FROM sqlite_master WHERE name LIKE 'history_metadata_%' ORDER BY sql",
    )
    assert [row[0].split(" ON ")[1] for row in found] == [
        "history_checkpoints (namespace, json_extract(metadata, '$.\"it''s\"'), checkpoint_id)",
        "history_checkpoints (namespace, json_extract(metadata, '$.\"user_id\"'), checkpoint_id)",
    ]


@pytest.mark.parametrize("key", ["two  spaces", "f( x )"])
async def test_an_indexed_key_with_spaces_or_brackets_is_found_as_written(
    open_sqlite_saver: Any, key: str
) -> None:
    async with open_sqlite_saver(indexed_metadata=[key]) as cp:
        await put_step(cp, "t", 1, {"count": 1}, {"count": 1}, metadata={key: "v"})
        found = [t async for t in cp.alist(None, filter={key: "v"})]
    assert len(found) == 1


@pytest.mark.parametrize("keys", ["user_id", 3, [3], ['a"b']], ids=repr)
async def test_indexed_metadata_that_is_not_a_list_of_keys_is_rejected(
    open_sqlite_saver: Any, keys: Any
) -> None:
    with pytest.raises(InvalidConfigError, match="indexed_metadata|metadata filter key"):
        async with open_sqlite_saver(indexed_metadata=keys):
            pass


async def test_a_stored_value_that_looks_like_sql_is_matched_exactly(open_saver: Any) -> None:
    tricky = "x' OR 1=1 --"
    async with open_saver() as cp:
        await put_metadata_thread(cp)
        await put_step(cp, "t", 5, {"count": 5}, {"count": 5}, metadata={"source": tricky})
        assert await matching(cp, {"source": tricky}) == [5]


# --- no N+1 -------------------------------------------------------------------------------

STEPS = 600


async def test_listing_a_600_checkpoint_thread_with_writes_issues_a_constant_number_of_statements(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "long", STEPS, with_writes=True)
        async with count_statements(cp) as statements:
            listed = [t async for t in cp.alist(config("long"))]
    assert len(listed) == STEPS
    assert all(len(t.pending_writes) == 1 for t in listed)
    assert listed[-1].checkpoint["channel_values"] == {"topic": "topic-of-long", "count": 1}
    assert 1 <= len(statements) <= 3, statements


async def test_listing_every_thread_issues_a_constant_number_of_statements(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        for thread in range(30):
            await put_counter_chain(cp, f"t{thread}", 10, with_writes=True, first=thread * 100)
        async with count_statements(cp) as statements:
            listed = [t async for t in cp.alist(None)]
    assert len(listed) == 300
    assert 1 <= len(statements) <= 3, statements


# --- re-entrant callers -------------------------------------------------------------------


@pytest.mark.timeout(60)
async def test_get_tuple_and_put_inside_a_list_loop_do_not_deadlock(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 5, with_writes=True)
        seen = []
        async for tup in cp.alist(config("t")):
            again = await cp.aget_tuple(tup.config)
            assert again is not None
            assert again.checkpoint == tup.checkpoint
            n = int(tup.config["configurable"]["checkpoint_id"].rsplit("-", 1)[1])
            await put_step(cp, "t", 100 + n, {"count": -n}, {"count": 100 + n})
            await put_step(cp, "elsewhere", n, {"count": n}, {"count": n})
            seen.append(n)
        assert seen == [5, 4, 3, 2, 1]
        after = [t async for t in cp.alist(config("t"))]
        elsewhere = [t async for t in cp.alist(config("elsewhere"))]
    assert len(after) == 10
    assert len(elsewhere) == 5


@pytest.mark.timeout(60)
async def test_a_list_loop_can_be_abandoned_and_the_saver_still_works(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 5)
        async for _tup in cp.alist(config("t")):
            break
        await put_step(cp, "t", 6, {"count": 6}, {"count": 6})
        latest = await cp.aget_tuple(config("t"))
    assert latest is not None
    assert latest.checkpoint["channel_values"]["count"] == 6


@pytest.mark.timeout(120)
async def test_a_list_spanning_several_pages_yields_each_checkpoint_once_while_the_caller_writes(
    open_saver: Any,
) -> None:
    steps = PAGE_SIZE + 5
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", steps)
        seen = []
        async for tup in cp.alist(config("t")):
            seen.append(tup.config["configurable"]["checkpoint_id"])
            if len(seen) % 250 == 0:
                assert await cp.aget_tuple(tup.config) is not None
                await put_step(cp, "t", 10_000 + len(seen), {"count": 0}, {"count": 0})
    assert seen == [checkpoint_id(n) for n in range(steps, 0, -1)]
