"""What the pages show, from a thread's values and history (no I/O): messages as a chat,
other channels as JSON, a change between two checkpoints as lines added and removed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from markupsafe import Markup

from saver.core.views import Change, Step, is_messages, text_of
from saver.server import wire
from saver.server.ui.lanes import Row

KINDS = {"human": "human", "ai": "ai", "tool": "tool", "system": "system"}
# Metadata that LangGraph writes on every checkpoint: not worth a place in a summary.
ROUTINE = frozenset({"step", "source", "parents", "writes", "run_id", "thread_id", "graph_id",
                     "assistant_id", "langgraph_step", "langgraph_node", "checkpoint_ns"})  # fmt: skip


def pretty(value: Any) -> str:
    """A value as indented JSON, as the API would send it."""
    try:
        body = orjson.dumps(
            value, default=wire._default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        )
    except orjson.JSONEncodeError:
        return wire.dumps(value).decode()
    return body.decode()


@dataclass(frozen=True)
class ToolCall:
    name: str
    id: str
    args: str


@dataclass(frozen=True)
class ChatMessage:
    kind: str  # human, ai, tool, system, other: how it is drawn
    type: str  # the message's own type
    id: str | None
    name: str | None
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    editable: bool = True  # its content is text, which a fork may change


def chat(messages: Sequence[Any]) -> list[ChatMessage]:
    return [chat_message(m) for m in messages]


def chat_message(m: Any) -> ChatMessage:
    calls = [
        ToolCall(str(c.get("name", "")), str(c.get("id") or ""), pretty(c.get("args", {})))
        for c in getattr(m, "tool_calls", None) or []
        if isinstance(c, Mapping)
    ]
    return ChatMessage(
        KINDS.get(m.type, "other"),
        m.type,
        getattr(m, "id", None),
        getattr(m, "name", None),
        text_of(m),
        calls,
        getattr(m, "tool_call_id", None),
        isinstance(m.content, str) and bool(getattr(m, "id", None)),  # same id: replaced
    )


@dataclass(frozen=True)
class Channels:
    messages: dict[str, list[ChatMessage]]
    other: dict[str, str]  # channel -> its value as JSON


def channels(values: Mapping[str, Any]) -> Channels:
    found = Channels({}, {})
    for name, value in wire.visible(values).items():
        if is_messages(value):
            found.messages[name] = chat(value)
        else:
            found.other[name] = pretty(value)
    return found


def summary(*metadata: Mapping[str, Any], at_most: int = 4) -> list[tuple[str, str]]:
    """A few `key: value` pairs of metadata, past LangGraph's own keys."""
    out: dict[str, str] = {}
    for each in metadata:
        for key, value in each.items():
            if key not in ROUTINE and key not in out and len(out) < at_most:
                text = value if isinstance(value, str) else wire.dumps(value).decode()
                out[str(key)] = text if len(text) <= 60 else text[:59] + "…"
    return list(out.items())


@dataclass(frozen=True)
class DiffLine:
    sign: str  # "+", "-" or " "
    text: str


@dataclass(frozen=True)
class ChangeView:
    channel: str
    kind: str
    added: list[ChatMessage] = field(default_factory=list)
    removed: list[ChatMessage] = field(default_factory=list)
    changed: list[ChatMessage] = field(default_factory=list)
    lines: list[DiffLine] = field(default_factory=list)


def change_view(change: Change) -> ChangeView:
    if change.kind == "added" and is_messages(change.after):  # a channel that had no value
        return ChangeView(change.channel, "messages", added=chat(change.after))
    if change.kind == "removed" and is_messages(change.before):
        return ChangeView(change.channel, "messages", removed=chat(change.before))
    if change.kind == "messages":
        return ChangeView(
            change.channel, "messages", chat(change.added), chat(change.removed),
            chat(change.changed),
        )  # fmt: skip
    if change.kind == "appended":
        lines = [DiffLine("+", line) for line in pretty(change.added).splitlines()]
        return ChangeView(change.channel, change.kind, lines=lines)
    before = pretty(change.before).splitlines() if change.kind != "added" else []
    after = pretty(change.after).splitlines() if change.kind != "removed" else []
    return ChangeView(change.channel, change.kind, lines=line_diff(before, after))


def line_diff(before: list[str], after: list[str]) -> list[DiffLine]:
    """Lines kept, removed and added, by difflib's matching blocks (not ndiff's per-character
    pass, which on a large value costs seconds)."""
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            out.extend(DiffLine(" ", line) for line in before[a0:a1])
        else:
            out.extend(DiffLine("-", line) for line in before[a0:a1])
            out.extend(DiffLine("+", line) for line in after[b0:b1])
    return out


LANE, HALF = 14, 15  # pixels between lanes; half a row's height


def lane_svg(row: Row) -> Markup:
    """A row's part of the fork tree: one path per lane colour, then the node."""
    paths: dict[int, list[str]] = {}
    for line in row.lines:
        x1, x2 = 10 + line.from_lane * LANE, 10 + line.to_lane * LANE
        y1, y2 = line.from_height * HALF, line.to_height * HALF
        move = f"M{x1} {y1}" + (f"V{y2}" if x1 == x2 else f"L{x2} {y2}")
        paths.setdefault(line.from_lane % 6, []).append(move)
    width = 8 + row.width * LANE
    drawn = "".join(f'<path d="{"".join(d)}" class="edge c{c}"/>' for c, d in paths.items())
    node = f"node c{row.lane % 6}" + (" head" if row.head else "")
    return Markup(
        f'<svg width="{width}" height="30" aria-hidden="true" focusable="false">{drawn}'
        f'<circle cx="{10 + row.lane * LANE}" cy="15" r="{5 if row.head else 4}" class="{node}"/>'
        "</svg>"
    )


@dataclass(frozen=True)
class TimelineRow:
    step: Step
    drawn: Row
    ran: list[str]  # the nodes whose writes made this checkpoint
    label: str  # what made it, in words
    svg: Markup
    time: str  # hh:mm:ss (the day is in the title of the column)
    ref: str  # the checkpoint id, quoted for a link's query


def timeline(
    steps: Sequence[Step], tree: Sequence[Row], first: int = 0, count: int | None = None
) -> list[TimelineRow]:
    """History rows (newest first) beside their part of the fork tree, each with what made
    it: `count` of them from row `first`."""
    by_id = {s.checkpoint_id: s for s in steps}
    last = len(steps) if count is None else first + count
    rows = []
    for step, row in zip(steps[first:last], tree[first:last], strict=True):
        parent = by_id.get(step.parent_id or "")
        ran = sorted(parent.writes) if parent is not None and step.source == "loop" else []
        label = {
            "input": "input",
            "update": "update_state",
            "fork": "copy",
            "loop": ", ".join(ran) or "step",
        }.get(step.source or "", step.source or "")
        time = (step.created_at or "")[11:19]
        ref = quote(step.checkpoint_id, safe="")
        rows.append(TimelineRow(step, row, ran, label, lane_svg(row), time, ref))
    return rows
