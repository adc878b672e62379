"""The fork tree's drawing, computed without a page or a database: lanes as git log draws
them, newest first."""

from __future__ import annotations

from saver.server.ui.lanes import BOTTOM, MIDDLE, TOP, Line, layout


def chain(*ids: str) -> list[tuple[str, str | None]]:
    """A straight line of checkpoints, newest first."""
    oldest_first = list(ids)
    return [(c, oldest_first[i - 1] if i else None) for i, c in enumerate(oldest_first)][::-1]


def test_a_straight_history_is_one_lane_with_a_line_down_to_each_parent() -> None:
    rows = layout(chain("a", "b", "c"))
    assert [(r.checkpoint_id, r.lane, r.width) for r in rows] == [
        ("c", 0, 1),
        ("b", 0, 1),
        ("a", 0, 1),
    ]
    assert rows[0].lines == [Line(0, MIDDLE, 0, BOTTOM)]
    assert rows[1].lines == [Line(0, TOP, 0, MIDDLE), Line(0, MIDDLE, 0, BOTTOM)]
    assert rows[2].lines == [Line(0, TOP, 0, MIDDLE)]


def test_only_the_newest_checkpoint_of_a_straight_history_is_a_head() -> None:
    assert [r.head for r in layout(chain("a", "b", "c"))] == [True, False, False]


def test_a_fork_opens_a_second_lane_that_meets_the_first_at_the_fork_point() -> None:
    # a - b - c (the original run), and d forked from b later (update_state or a replay)
    rows = layout([("d", "b"), ("c", "b"), ("b", "a"), ("a", None)])
    by_id = {r.checkpoint_id: r for r in rows}
    assert (by_id["d"].lane, by_id["c"].lane, by_id["b"].lane, by_id["a"].lane) == (1, 0, 0, 0)
    assert by_id["b"].lines == [
        Line(0, TOP, 0, MIDDLE),
        Line(0, MIDDLE, 0, BOTTOM),
        Line(1, TOP, 0, MIDDLE),
    ]
    assert Line(1, TOP, 1, BOTTOM) in by_id["c"].lines  # d's lane passes c on its way down
    assert by_id["b"].width == 2


def test_the_original_run_keeps_its_lane_through_a_fork() -> None:
    # the run goes on after the fork: a - b - c - e, and d forked from b between c and e
    rows = layout([("e", "c"), ("d", "b"), ("c", "b"), ("b", "a"), ("a", None)])
    assert [(r.checkpoint_id, r.lane) for r in rows] == [
        ("e", 0), ("d", 1), ("c", 0), ("b", 0), ("a", 0)
    ]  # fmt: skip


def test_a_fork_marks_its_heads_its_fork_point_and_the_later_child() -> None:
    rows = {r.checkpoint_id: r for r in layout([("d", "b"), ("c", "b"), ("b", "a"), ("a", None)])}
    assert {cid for cid, r in rows.items() if r.head} == {"c", "d"}
    assert rows["b"].forks == 1 and rows["a"].forks == 0
    assert rows["d"].branch_start and not rows["c"].branch_start


def test_every_child_of_one_checkpoint_has_its_lane_and_all_meet_at_it() -> None:
    rows = layout([("e", "d"), ("d", "a"), ("c", "a"), ("b", "a"), ("a", None)])
    assert max(r.width for r in rows) == 3
    assert layout([("c", "a"), ("b", "a"), ("a", None)])[-1].lines == [
        Line(0, TOP, 0, MIDDLE),
        Line(1, TOP, 0, MIDDLE),
    ]


def test_a_lane_is_free_again_below_the_fork_that_used_it() -> None:
    # two forks at different heights beside one run: both fit in lane 1
    rows = layout([("g", "d"), ("e", "d"), ("d", "c"), ("f", "b"), ("c", "b"), ("b", "a"),
                   ("a", None)])  # fmt: skip
    lanes = {r.checkpoint_id: r.lane for r in rows}
    assert (lanes["g"], lanes["f"], rows[0].width) == (1, 1, 2)


def test_only_the_rows_of_the_window_have_lines() -> None:
    rows = layout(chain("a", "b", "c", "d"), window=range(1, 3))
    assert [bool(r.lines) for r in rows] == [False, True, True, False]


def test_a_parent_outside_the_rows_ends_the_line() -> None:
    (row,) = layout([("b", "trimmed-away")])
    assert row.lines == [] and row.head and not row.branch_start
