"""What people look at in a thread's history, from checkpoints alone (no I/O): a summary per
thread, a row per step, the fork tree, what changed between two checkpoints, and where a
message first appeared."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple

from saver.core import codec, status

INTERRUPT, RESUME = "__interrupt__", "__resume__"
BRANCH = "branch:to:"


@dataclass(frozen=True)
class ThreadInfo:
    """One thread: its root-namespace checkpoints, first and last time, its head, its status,
    and what the user set on it (put_thread)."""

    thread_id: str
    checkpoints: int
    first_at: datetime  # when it was made: its first checkpoint, or put_thread before that
    last_at: datetime
    head_id: str | None  # None: a thread made by put_thread, with no checkpoint yet
    metadata: dict[str, Any]  # the head checkpoint's
    waiting: bool  # the head holds an interrupt(): the thread waits for Command(resume=...)
    status: str = "idle"  # idle, busy, interrupted or error (core/status.py)
    name: str | None = None
    user_id: str | None = None
    thread_metadata: dict[str, Any] = field(default_factory=dict)  # put_thread's metadata
    run_id: str | None = None  # the run that holds it (busy), or held it and died (error)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["first_at"], out["last_at"] = self.first_at.isoformat(), self.last_at.isoformat()
        return out


def thread_info(row: Sequence[Any], now: float) -> ThreadInfo:
    """A row of Dialect.select_threads, as seen at time `now` (a run's lease may have ended)."""
    tid, count, first, last, head, metadata, interrupts, stored, run_id, run_until, *more = row
    name, user_id, info = more
    shown = status.shown(stored, run_id, run_until, now)
    return ThreadInfo(
        tid,
        int(count),
        _moment(first),
        _moment(last),
        head or None,
        json_object(metadata),
        bool(int(interrupts or 0)),
        shown,
        name,
        user_id,
        json_object(info),
        run_id,
    )


def json_object(value: Any) -> dict[str, Any]:
    """A JSON column as a dict: SQLite gives text, PostgreSQL a dict already."""
    if isinstance(value, str):
        return codec.load_json(value, "thread record", "metadata")
    return codec.unescaped(dict(value or {}))


def _moment(stamp: Any) -> datetime:
    return datetime.fromtimestamp(float(stamp), timezone.utc)


@dataclass(frozen=True)
class Step:
    """One checkpoint as a row of history: what ran from it, and what runs next."""

    step: int | None
    checkpoint_id: str
    parent_id: str | None
    checkpoint_ns: str
    source: str | None
    created_at: str | None
    writes: dict[str, list[str]]  # node -> channels its task wrote from this checkpoint
    next: list[str]
    interrupts: list[Any]
    waiting: bool  # an interrupt no resume answered yet

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["interrupts"] = [jsonable(v) for v in self.interrupts]
        return out

    @classmethod
    def of(
        cls,
        checkpoint_id: str,
        parent_id: str | None,
        checkpoint_ns: str,
        metadata: Mapping[str, Any] | None,
        created_at: str | None,
        held: Iterable[str],
        writes: Iterable[tuple[str, str, Any]],
        paths: Mapping[str, str],
    ) -> Step:
        """A step from a checkpoint: `held`, the channels that hold a value in it (those that
        start a task say what runs next); its pending writes (task, channel, value, which
        may be None where unread); `paths`, task ids to their task paths."""
        by_node: dict[str, list[str]] = defaultdict(list)
        interrupts: list[Any] = []
        interrupted = resumed = False
        for task_id, channel, value in writes:
            if channel == INTERRUPT:
                interrupted = True
                if value is not None:
                    interrupts.extend(value if isinstance(value, (list, tuple)) else [value])
            resumed = resumed or channel == RESUME
            if not channel.startswith(BRANCH) and channel not in (INTERRUPT, RESUME):
                by_node[node_of(paths.get(task_id, ""), task_id)].append(channel)
        held = set(held)
        nexts = sorted(ch[len(BRANCH) :] for ch in held if ch.startswith(BRANCH))
        if "__start__" in held:
            nexts.insert(0, "__start__")
        step = (metadata or {}).get("step")
        return cls(
            step if isinstance(step, int) else None,
            checkpoint_id,
            parent_id,
            checkpoint_ns,
            (metadata or {}).get("source"),
            created_at,
            dict(by_node),
            nexts,
            [getattr(i, "value", i) for i in interrupts],
            interrupted and not resumed,
        )


def node_of(task_path: str, task_id: str) -> str:
    """`~__pregel_pull, agent` -> `agent`; a push task keeps its path; no path, the task id."""
    parts = [p.strip() for p in task_path.split(",")] if task_path else []
    if len(parts) == 2 and parts[0] == "~__pregel_pull":
        return parts[1]
    return task_path or task_id


def step_of(t: CheckpointTuple, paths: Mapping[str, str]) -> Step:
    """`paths` maps this checkpoint's task ids to their task paths (stored with writes)."""
    conf = t.config["configurable"]
    parent = (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    return Step.of(
        conf["checkpoint_id"],
        parent,
        conf.get("checkpoint_ns", ""),
        t.metadata,
        t.checkpoint.get("ts"),
        t.checkpoint.get("channel_values", {}),
        t.pending_writes or [],
        paths,
    )


# --- the fork tree --------------------------------------------------------------------------


@dataclass
class Branch:
    """A line of checkpoints, oldest first; `forks` start from one of them (`parent`)."""

    parent: str | None
    checkpoints: list[str] = field(default_factory=list)
    forks: list[Branch] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "parent": self.parent,
            "checkpoints": self.checkpoints,
            "forks": [f.as_dict() for f in self.forks],
        }


def fork_tree(links: Iterable[tuple[str, str | None]]) -> list[Branch]:
    """Branches from (checkpoint_id, parent_id) pairs: at each checkpoint the oldest child
    continues the line (the original run); a later child (replay, update_state) forks."""
    parent_of = dict(links)
    children: dict[str | None, list[str]] = defaultdict(list)
    for cid in sorted(parent_of):
        parent = parent_of[cid]
        children[parent if parent in parent_of else None].append(cid)
    return [_line(root, None, children) for root in children[None]]


def _line(start: str, parent: str | None, children: Mapping[str | None, list[str]]) -> Branch:
    branch = Branch(parent)
    current: str | None = start
    while current is not None:
        branch.checkpoints.append(current)
        kids = children.get(current, [])
        branch.forks.extend(_line(kid, current, children) for kid in kids[1:])
        current = kids[0] if kids else None
    return branch


# --- diff ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """How one channel differs from checkpoint A to checkpoint B."""

    channel: str
    kind: str  # added | removed | changed | appended | messages
    before: Any = None
    after: Any = None
    added: list[Any] = field(default_factory=list)
    removed: list[Any] = field(default_factory=list)
    changed: list[Any] = field(default_factory=list)  # messages with the same id, new content

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "kind": self.kind,
            "before": jsonable(self.before),
            "after": jsonable(self.after),
            "added": [jsonable(v) for v in self.added],
            "removed": [jsonable(v) for v in self.removed],
            "changed": [jsonable(v) for v in self.changed],
        }


def diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Change]:
    """Channel by channel, from values `a` to values `b` (channel_values of two checkpoints).
    Message lists compare by message id; other lists that grew show what was appended."""
    out: list[Change] = []
    for ch in sorted(set(a) | set(b)):
        if ch.startswith(BRANCH) or ch == "__start__":
            continue  # LangGraph's edge bookkeeping, not state
        if ch not in a:
            out.append(Change(ch, "added", after=b[ch]))
        elif ch not in b:
            out.append(Change(ch, "removed", before=a[ch]))
        elif is_messages(a[ch]) and is_messages(b[ch]):
            change = _message_change(ch, a[ch], b[ch])
            if change is not None:
                out.append(change)
        elif a[ch] == b[ch]:
            continue
        elif isinstance(a[ch], list) and isinstance(b[ch], list) and b[ch][: len(a[ch])] == a[ch]:
            out.append(Change(ch, "appended", added=b[ch][len(a[ch]) :]))
        else:
            out.append(Change(ch, "changed", before=a[ch], after=b[ch]))
    return out


def _message_change(channel: str, old: list[Any], new: list[Any]) -> Change | None:
    before = {getattr(m, "id", None) or str(i): m for i, m in enumerate(old)}
    after = {getattr(m, "id", None) or str(i): m for i, m in enumerate(new)}
    added = [m for k, m in after.items() if k not in before]
    removed = [m for k, m in before.items() if k not in after]
    changed = [m for k, m in after.items() if k in before and before[k] != m]
    if not (added or removed or changed):
        return None
    return Change(channel, "messages", added=added, removed=removed, changed=changed)


# --- messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageHit:
    """Where a message containing the searched text first appeared."""

    thread_id: str
    checkpoint_id: str
    step: int | None
    channel: str
    message: Any

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["message"] = jsonable(self.message)
        return out


def is_message(value: Any) -> bool:
    return hasattr(value, "content") and hasattr(value, "type")


def is_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_message(m) for m in value)


def text_of(message: Any) -> str:
    """A message's text: its content, or the text parts of a multi-part content."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, dict) else ""
            for p in content
        )
    return str(content)


def first_mentions(
    thread_id: str, oldest_first: Iterable[CheckpointTuple], text: str
) -> Iterator[MessageHit]:
    """Each message (by id, per channel) that contains `text`, case-insensitively, at the
    first checkpoint where it appeared."""
    needle = text.casefold()
    seen: set[tuple[str, str]] = set()
    for t in oldest_first:
        for ch, value in t.checkpoint.get("channel_values", {}).items():
            if not is_messages(value):
                continue
            for m in value:
                key = (ch, getattr(m, "id", None) or text_of(m))
                if key in seen:
                    continue
                seen.add(key)
                if needle in text_of(m).casefold():
                    step = (t.metadata or {}).get("step")
                    yield MessageHit(
                        thread_id,
                        t.config["configurable"]["checkpoint_id"],
                        step if isinstance(step, int) else None,
                        ch,
                        m,
                    )


def jsonable(value: Any) -> Any:
    """A value as JSON can carry it: messages as their type, id, content (and tool calls);
    other objects by their repr."""
    if is_message(value):
        out = {"type": value.type, "id": getattr(value, "id", None), "content": value.content}
        if getattr(value, "tool_calls", None):
            out["tool_calls"] = jsonable(value.tool_calls)
        return out
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    return repr(value)
