"""saver.core.writes: the index a pending write takes and the order writes are read in."""

from __future__ import annotations

from langgraph.checkpoint.base import WRITES_IDX_MAP

from saver.core.writes import is_special, sort_key, write_index


def test_a_regular_write_takes_its_position_as_index() -> None:
    assert [write_index("messages", i) for i in range(3)] == [0, 1, 2]


def test_special_writes_take_fixed_negative_indexes() -> None:
    assert write_index("__error__", 5) == -1
    assert write_index("__interrupt__", 0) == -3
    assert {write_index(ch, 9) for ch in WRITES_IDX_MAP} == set(WRITES_IDX_MAP.values())
    assert all(idx < 0 for idx in WRITES_IDX_MAP.values())


def test_only_the_special_channels_are_special() -> None:
    assert all(is_special(ch) for ch in WRITES_IDX_MAP)
    assert not is_special("messages")
    assert not is_special("__start__")


def test_writes_sort_by_task_path_then_task_id_then_index() -> None:
    written = [
        ("~2", "a", 0),
        ("~1", "b", 1),
        ("~1", "b", 0),
        ("~1", "a", 3),
        ("", "z", 0),
    ]
    assert sorted(written, key=lambda w: sort_key(*w)) == [
        ("", "z", 0),
        ("~1", "a", 3),
        ("~1", "b", 0),
        ("~1", "b", 1),
        ("~2", "a", 0),
    ]


def test_a_missing_task_path_sorts_like_an_empty_one() -> None:
    assert sort_key(None, "t", 0) == sort_key("", "t", 0)  # type: ignore[arg-type]
