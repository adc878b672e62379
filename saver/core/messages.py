"""A thread's messages as agentflow reads them: the head's list, in order, each with the
checkpoint (and step) where it first appeared.

Where a message came from is read from the writes it came in (each node's writes carry its
messages with their ids), so a page costs the writes of one channel, not every state of the
thread. Messages written without an id (a tuple, a dict, update_state's input) take theirs
from the reducer: they are paired in order with the state's messages no write names; where
a message was removed or edited meanwhile, the states are read once instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import convert_to_messages
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple

from saver.core import codec, plans, rows, views, writes
from saver.core.config import Target, target
from saver.core.plans import Context, Plan
from saver.dialects.base import Stmt
from saver.errors import InvalidConfigError


@dataclass(frozen=True)
class MessageInfo:
    """One message of a thread's state, and where it first appeared."""

    index: int  # its place in the state's list
    message_id: str | None
    message: Any
    checkpoint_id: str | None  # the first checkpoint of the head's lineage that holds it
    step: int | None

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["message"] = views.jsonable(self.message)
        return out


def list_messages(
    ctx: Context,
    config: RunnableConfig,
    search: str | None,
    offset: int,
    limit: int | None,
    channel: str,
) -> Plan[list[MessageInfo]]:
    """The messages of the config's checkpoint (the head without a checkpoint_id) that hold
    `search` (any case), `offset` skipped, at most `limit`."""
    t = target(ctx.namespace, config, "list_messages")
    if search is not None and not isinstance(search, str):
        raise InvalidConfigError(f"search must be a str, got {search!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidConfigError(f"offset must be an int >= 0, got {offset!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidConfigError(f"limit must be a positive int or None, got {limit!r}")
    _check_channel(channel)
    head = yield from plans.get_tuple(ctx, config)
    found = _messages(head, channel)
    if search:
        needle = search.casefold()
        found = [(i, m) for i, m in found if needle in views.text_of(m).casefold()]
    page = found[offset : None if limit is None else offset + limit]
    return (yield from _placed(ctx, t, head, page, channel))


def get_message(
    ctx: Context, config: RunnableConfig, message_id: Any, channel: str
) -> Plan[MessageInfo | None]:
    """The message of that id in the config's checkpoint (the head without a checkpoint_id)."""
    t = target(ctx.namespace, config, "get_message")
    if not isinstance(message_id, str) or not message_id:
        raise InvalidConfigError(f"message_id must be a non-empty str, got {message_id!r}")
    _check_channel(channel)
    head = yield from plans.get_tuple(ctx, config)
    page = [(i, m) for i, m in _messages(head, channel) if id_of(m) == message_id]
    placed = yield from _placed(ctx, t, head, page[:1], channel)
    return placed[0] if placed else None


def _check_channel(channel: Any) -> None:
    if not isinstance(channel, str) or not channel:
        raise InvalidConfigError(f"channel must be a channel's name, got {channel!r}")


def _messages(head: CheckpointTuple | None, channel: str) -> list[tuple[int, Any]]:
    if head is None:
        return []
    value = head.checkpoint.get("channel_values", {}).get(channel)
    return list(enumerate(value)) if isinstance(value, list) else []


def id_of(message: Any) -> str | None:
    found = message.get("id") if isinstance(message, dict) else getattr(message, "id", None)
    return found if isinstance(found, str) and found else None


def _placed(
    ctx: Context,
    t: Target,
    head: CheckpointTuple | None,
    page: list[tuple[int, Any]],
    channel: str,
) -> Plan[list[MessageInfo]]:
    """The page's messages, each with the checkpoint and step where it first appeared."""
    if head is None or not page:
        return []
    d = ctx.dialect
    scope = (t.thread_id, t.namespace, t.checkpoint_ns)
    links = yield Stmt(d.SELECT_LINEAGE, scope)
    head_id = head.config["configurable"]["checkpoint_id"]
    lineage = _lineage(head_id, {cid: parent for cid, parent, _ in links})  # oldest first
    steps = {cid: _step(step) for cid, _, step in links}
    first: dict[str, str] = {}
    unnamed: list[tuple[str, Any]] = []
    if len(lineage) > 1:
        found = yield Stmt(
            d.SELECT_CHANNEL_WRITES, (*scope, d.array(lineage[:-1]), d.array([channel]))
        )
        written = map(rows.ChannelWrite._make, found)
        first, unnamed = _first_written(ctx, t, lineage, written)
    state = [m for _, m in _messages(head, channel)]
    later = [m for m in state if id_of(m) not in first]  # ids the reducer gave them
    if not _pair(later, unnamed, first):  # a message was removed or edited: walk the states
        wanted = {mid for _, m in page if (mid := id_of(m)) and mid not in first}
        first.update((yield from _first_holding(ctx, t, lineage, channel, wanted)))
    out = []
    for index, message in page:
        at = first.get(id_of(message) or "")
        out.append(MessageInfo(index, id_of(message), message, at, steps.get(at or "")))
    return out


def _step(text: Any) -> int | None:
    """A step as SELECT_LINEAGE reads it from metadata (text, or a number), or None."""
    try:
        return int(text) if text is not None else None
    except (TypeError, ValueError):
        return None


def _lineage(head_id: str, parents: dict[str, str | None]) -> list[str]:
    """The head and its ancestors still stored, oldest first."""
    chain = [head_id]
    while (parent := parents.get(chain[-1])) is not None and parent in parents:
        chain.append(parent)
    return chain[::-1]


def _first_written(
    ctx: Context, t: Target, lineage: list[str], found: Iterable[rows.ChannelWrite]
) -> tuple[dict[str, str], list[tuple[str, Any]]]:
    """Message id -> the checkpoint after the one whose writes brought it; and the messages
    written without an id yet (a tuple, a dict, update_state's input), in the order the
    reducer appended them, each with that checkpoint."""
    position = {cid: n for n, cid in enumerate(lineage)}
    first: dict[str, str] = {}
    unnamed: list[tuple[str, Any]] = []
    ordered = sorted(
        found,
        key=lambda w: (position[w.checkpoint_id], writes.sort_key(w.task_path, w.task_id, w.idx)),
    )
    for w in ordered:
        where = f"{codec.located(t.thread_id, t.checkpoint_ns, w.checkpoint_id)}: write"
        value = codec.load_write(ctx.serde, w.type, w.data, where)
        after = lineage[position[w.checkpoint_id] + 1]
        for message in value if isinstance(value, list) else [value]:
            mid = id_of(message)
            if mid is None:
                unnamed.append((after, message))
            elif mid not in first:
                first[mid] = after
    return first, unnamed


def _pair(later: list[Any], unnamed: list[tuple[str, Any]], first: dict[str, str]) -> bool:
    """Give the state's messages whose ids the reducer made the checkpoints of the id-less
    writes, one for one in order, where each pair says the same (type and text); False
    where they do not line up."""
    if len(later) != len(unnamed):
        return False
    try:
        written = convert_to_messages([m for _, m in unnamed])
    except (ValueError, TypeError, NotImplementedError):
        return False
    for message, made, (after, _) in zip(later, written, unnamed, strict=True):
        mid = id_of(message)
        if mid is None or (made.type, made.content) != (
            getattr(message, "type", None),
            getattr(message, "content", None),
        ):
            return False
        first[mid] = after
    return True


def _first_holding(
    ctx: Context, t: Target, lineage: list[str], channel: str, wanted: set[str]
) -> Plan[dict[str, str]]:
    """Message id -> the oldest checkpoint of the lineage whose state holds it: one walk of
    the thread's states, a page at a time."""
    on_lineage = set(lineage)
    config: RunnableConfig = {
        "configurable": {"thread_id": t.thread_id, "checkpoint_ns": t.checkpoint_ns}
    }
    query = plans.ListQuery.of(ctx, config, None, None, None)
    first: dict[str, str] = {}
    while page := (yield from query.next_page()):  # newest first: the oldest holding wins
        for state in page:
            cid = state.config["configurable"]["checkpoint_id"]
            if cid in on_lineage:
                for _, message in _messages(state, channel):
                    if (mid := id_of(message)) in wanted:
                        first[mid] = cid
    return first
