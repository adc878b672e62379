"""What a retention policy keeps. Pure: rows of one thread in, checkpoints to drop out."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from saver.core import lineage
from saver.errors import InvalidConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s`, `2w` (also combined: `1d12h`)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise InvalidConfigError(
            f"cannot read duration {text!r}: use a number and a unit s, m, h, d or w, e.g. 30d"
        )
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


@dataclass(frozen=True)
class RetentionPolicy:
    """Which checkpoints to keep. Every field may be None (that rule is off).

    keep_last: per thread and checkpoint namespace, keep the newest N checkpoints.
    max_age: delete checkpoints older than this (never a thread's latest one).
    thread_ttl: delete whole threads idle for longer than this...
    spare_interrupted: ...except threads waiting on an interrupt() (approvals wait weeks).
    """

    keep_last: int | None = None
    max_age: timedelta | None = None
    thread_ttl: timedelta | None = None
    spare_interrupted: bool = True

    def __post_init__(self) -> None:
        if self.keep_last is not None and (
            not isinstance(self.keep_last, int) or isinstance(self.keep_last, bool)
        ):
            raise InvalidConfigError(f"keep_last must be an int, got {self.keep_last!r}")
        if self.keep_last is not None and self.keep_last < 1:
            raise InvalidConfigError(
                f"keep_last must be at least 1 (the latest checkpoint is always kept), "
                f"got {self.keep_last}; to delete whole threads use thread_ttl or delete_thread"
            )
        for name in ("max_age", "thread_ttl"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, timedelta):
                raise InvalidConfigError(f"{name} must be a datetime.timedelta, got {value!r}")
            if value is not None and value <= timedelta(0):
                raise InvalidConfigError(f"{name} must be positive, got {value}")

    @property
    def is_empty(self) -> bool:
        return self.keep_last is None and self.max_age is None and self.thread_ttl is None

    def cutoffs(self, now: float) -> Cutoffs:
        return Cutoffs(
            self.keep_last,
            now - self.max_age.total_seconds() if self.max_age else None,
            now - self.thread_ttl.total_seconds() if self.thread_ttl else None,
            self.spare_interrupted,
        )


@dataclass(frozen=True)
class Cutoffs:
    """A policy fixed at one moment: times are seconds since the epoch."""

    keep_last: int | None
    older_than: float | None
    idle_before: float | None = None
    spare_interrupted: bool = True


@dataclass
class Verdict:
    drop_thread: bool = False
    drop: list[lineage.Node] = field(default_factory=list)
    kept: list[lineage.Node] = field(default_factory=list)


def judge(
    c: Cutoffs,
    nodes: list[lineage.Node],
    stored: Iterable[tuple[str, str, str]],
    interrupted: set[tuple[str, str]],
) -> Verdict:
    """What to drop of one thread. `stored` holds (checkpoint_ns, channel, version) of its
    blobs; `interrupted` the (checkpoint_ns, checkpoint_id) that hold an interrupt write."""
    if not nodes:
        return Verdict()
    by_ns: dict[str, dict[str, lineage.Node]] = defaultdict(dict)
    for node in nodes:
        by_ns[node.checkpoint_ns][node.checkpoint_id] = node
    root_head = max(by_ns[""]) if "" in by_ns else None
    waiting = root_head is not None and ("", root_head) in interrupted
    if c.idle_before is not None and max(n.created_at for n in nodes) < c.idle_before:
        if not (c.spare_interrupted and waiting):
            return Verdict(drop_thread=True, drop=list(nodes))
    keep: set[tuple[str, str]] = set()
    for ns, by_id in by_ns.items():
        keep.update((ns, cid) for cid in _kept_by_rules(c, by_id))
    # A subgraph checkpoint lives and dies with the root checkpoint its call started from.
    # (One whose root checkpoint is not stored yet may belong to a run still saving.)
    for node in nodes:
        if node.root_parent is not None and node.root_parent in by_ns.get("", {}):
            pair = (node.checkpoint_ns, node.checkpoint_id)
            if ("", node.root_parent) in keep:
                keep.add(pair)
            else:
                keep.discard(pair)
    stored_by_ns: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ns, channel, version in stored:
        stored_by_ns[ns].add((channel, version))
    for ns, cid in list(keep):  # a kept DeltaChannel checkpoint keeps what it replays from
        chain = lineage.delta_chain(by_ns[ns], by_ns[ns][cid], stored_by_ns[ns])
        keep.update((ns, n.checkpoint_id) for n in chain)
    verdict = Verdict()
    for node in nodes:
        pair = (node.checkpoint_ns, node.checkpoint_id)
        (verdict.kept if pair in keep else verdict.drop).append(node)
    return verdict


def _kept_by_rules(c: Cutoffs, by_id: Mapping[str, lineage.Node]) -> list[str]:
    newest_first = sorted(by_id, reverse=True)
    kept = [newest_first[0]]  # the head is never deleted by keep_last or max_age
    for rank, cid in enumerate(newest_first[1:], start=1):
        if c.keep_last is not None and rank >= c.keep_last:
            continue
        if c.older_than is not None and by_id[cid].created_at < c.older_than:
            continue
        kept.append(cid)
    return kept
