"""The fork tree as git log draws it: one row per checkpoint, newest first, each in a lane;
lines from a checkpoint down to its parent, and lanes that meet where a fork began. Pure:
the page draws what this computes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

# Where a line starts or ends inside its row: the top edge, the node's middle, the bottom.
TOP, MIDDLE, BOTTOM = 0, 1, 2


class Line(NamedTuple):
    from_lane: int
    from_height: int
    to_lane: int
    to_height: int


@dataclass(frozen=True)
class Row:
    checkpoint_id: str
    lane: int  # the column of its node
    lanes: int  # how many columns this row's drawing needs
    lines: list[Line] = field(default_factory=list)
    head: bool = False  # no checkpoint follows it: the end of a branch
    forks: int = 0  # checkpoints that follow it, past the first (each began a branch)
    branch_start: bool = False  # it follows its parent as a later child (replay, update_state)


def layout(
    newest_first: Sequence[tuple[str, str | None]], drawn: Container[int] | None = None
) -> list[Row]:
    """Rows for (checkpoint_id, parent_id) pairs, newest first (as history lists them).
    `drawn`: the row numbers whose lines are wanted (a page of a long history); the lanes
    are followed through every row all the same."""
    known = {cid for cid, _ in newest_first}
    children = Counter(parent for _, parent in newest_first if parent in known)
    first_child: dict[str, str] = {}
    for cid, parent in sorted(newest_first):  # the oldest child continues its parent's line
        if parent in known:
            first_child.setdefault(parent, cid)
    lanes: list[str | None] = []  # what each column waits for, going down
    rows = []
    for n, (cid, parent) in enumerate(newest_first):
        waiting = [i for i, expected in enumerate(lanes) if expected == cid]
        lane = waiting[0] if waiting else _free(lanes)
        lines = (
            [
                Line(i, TOP, lane, MIDDLE) if expected == cid else Line(i, TOP, i, BOTTOM)
                for i, expected in enumerate(lanes)
                if expected is not None
            ]
            if drawn is None or n in drawn
            else []
        )
        for i in waiting[1:]:
            lanes[i] = None
        if lane == len(lanes):
            lanes.append(None)
        lanes[lane] = parent if parent in known else None
        if lanes[lane] is not None and (drawn is None or n in drawn):
            lines.append(Line(lane, MIDDLE, lane, BOTTOM))
        width = max(lane + 1, len(lanes))
        rows.append(
            Row(
                cid,
                lane,
                width,
                lines,
                head=children[cid] == 0,
                forks=max(children[cid] - 1, 0),
                branch_start=parent in known and first_child.get(parent or "") != cid,
            )
        )
        while lanes and lanes[-1] is None:
            lanes.pop()
    return rows


def _free(lanes: list[str | None]) -> int:
    return next((i for i, expected in enumerate(lanes) if expected is None), len(lanes))
