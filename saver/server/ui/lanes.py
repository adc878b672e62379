"""The fork tree as git log draws it: one row per checkpoint, newest first, one lane per
branch (views.fork_tree's branches: the original run first, then each fork), lines down to
each checkpoint's parent, and a fork's lane meeting its parent's where it began. Pure: the
page draws what this computes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from saver.core.views import Branch, fork_tree

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
    width: int  # how many lanes the whole drawing has
    lines: list[Line] = field(default_factory=list)
    head: bool = False  # no checkpoint follows it: the end of a branch
    forks: int = 0  # checkpoints that follow it, past the first (each began a branch)
    branch_start: bool = False  # it follows its parent as a later child (replay, update_state)


@dataclass
class _Span:
    """A branch's rows: from its newest checkpoint down to its parent's row (or its oldest)."""

    checkpoints: list[str]
    top: int
    bottom: int
    lane: int = 0


def layout(
    newest_first: Sequence[tuple[str, str | None]], window: Container[int] | None = None
) -> list[Row]:
    """Rows for (checkpoint_id, parent_id) pairs, newest first (as history lists them).
    `window`: the row numbers whose lines are wanted (a page of a long history)."""
    row_of = {cid: n for n, (cid, _) in enumerate(newest_first)}
    children = Counter(parent for _, parent in newest_first if parent in row_of)
    spans = [_span(b, row_of) for b in _flat(fork_tree(newest_first))]
    placed: list[_Span] = []
    for span in spans:  # each branch in the lowest lane free over all its rows
        taken = {p.lane for p in placed if p.top <= span.bottom and span.top <= p.bottom}
        span.lane = next(lane for lane in range(len(placed) + 1) if lane not in taken)
        placed.append(span)
    span_of = {cid: s for s in spans for cid in s.checkpoints}
    width = max((s.lane for s in spans), default=0) + 1
    rows = []
    for n, (cid, parent) in enumerate(newest_first):
        own = span_of[cid]
        lines = _lines(n, own, spans) if window is None or n in window else []
        rows.append(
            Row(
                cid,
                own.lane,
                width,
                lines,
                head=children[cid] == 0,
                forks=max(children[cid] - 1, 0),
                branch_start=own is not spans[0] and cid == own.checkpoints[0] and parent in row_of,
            )
        )
    return rows


def _flat(branches: list[Branch]) -> list[Branch]:
    out = []
    for branch in branches:
        out.append(branch)
        out.extend(_flat(branch.forks))
    return out


def _span(branch: Branch, row_of: dict[str, int]) -> _Span:
    rows = [row_of[c] for c in branch.checkpoints]
    parent_row = row_of.get(branch.parent or "")
    return _Span(branch.checkpoints, min(rows), max(rows) if parent_row is None else parent_row)


def _lines(n: int, own: _Span, spans: list[_Span]) -> list[Line]:
    """Row n's lines: its branch up and down, branches passing by, forks meeting it."""
    lines = []
    for span in spans:
        if not span.top <= n <= span.bottom:
            continue
        if span is own:
            if n > span.top:
                lines.append(Line(own.lane, TOP, own.lane, MIDDLE))
            if n < span.bottom:
                lines.append(Line(own.lane, MIDDLE, own.lane, BOTTOM))
        elif n == span.bottom:  # a fork that began at this checkpoint
            lines.append(Line(span.lane, TOP, own.lane, MIDDLE))
        elif n > span.top:
            lines.append(Line(span.lane, TOP, span.lane, BOTTOM))
    return lines
