"""Parent chains and blob references: which rows a checkpoint needs to load exactly."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from saver.core import codec
from saver.errors import CorruptRowError


@dataclass(slots=True)  # a sweep builds one per checkpoint: slots keep that cheap
class Node:
    """One checkpoint as the lineage logic sees it."""

    checkpoint_ns: str
    checkpoint_id: str
    parent_id: str | None
    blob_versions: Mapping[str, str]
    delta_channels: frozenset[str]
    created_at: float = 0.0
    root_parent: str | None = None  # a subgraph checkpoint's root-graph checkpoint


class LazyObject(Mapping[str, str]):
    """A JSON object column parsed on first use: a sweep reads many rows and needs few."""

    def __init__(self, text: str, where: str, column: str) -> None:
        self._text, self._where, self._column = text, where, column
        self._value: dict[str, str] | None = None

    def _parsed(self) -> dict[str, str]:
        if self._value is None:
            self._value = codec.load_json(self._text, self._where, self._column)
        return self._value

    def __getitem__(self, key: str) -> str:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())


def node_from_row(row: Sequence[Any]) -> Node:
    """Row of SELECT_THREAD_GRAPH: checkpoint_ns, checkpoint_id, parent, blob_versions,
    created_at, whether metadata is readable, the root checkpoint a subgraph call started
    from, DeltaChannel counters."""
    ns, cid, parent, versions, created_at, metadata_ok, root, counters = row
    where = f"ns {ns!r} checkpoint {cid!r}"
    if not metadata_ok:
        raise CorruptRowError(f"{where}: metadata is not a JSON object")
    delta = codec.load_json(counters, where, "metadata") if counters else {}
    return Node(
        ns,
        cid,
        parent,
        LazyObject(versions, where, "blob_versions"),
        frozenset(delta),
        float(created_at),
        root if ns and isinstance(root, str) else None,
    )


def ancestors(by_id: Mapping[str, Node], start: str | None) -> list[Node]:
    """Nearest first; stops at a missing parent or a loop (a re-put can make one)."""
    out: list[Node] = []
    seen: set[str] = set()
    while start is not None and start in by_id and start not in seen:
        seen.add(start)
        node = by_id[start]
        out.append(node)
        start = node.parent_id
    return out


def delta_chain(by_id: Mapping[str, Node], head: Node, stored: set[tuple[str, str]]) -> list[Node]:
    """Ancestors a DeltaChannel head replays from: back to a stored value for every delta channel.

    `stored` holds (channel, version) pairs that have a blob in head's namespace.
    """
    missing = {
        ch
        for ch in head.delta_channels
        if ch in head.blob_versions and (ch, head.blob_versions[ch]) not in stored
    }
    needed: list[Node] = []
    if not missing:
        return needed
    for node in ancestors(by_id, head.parent_id):
        needed.append(node)
        missing = {
            ch
            for ch in missing
            if not (ch in node.blob_versions and (ch, node.blob_versions[ch]) in stored)
        }
        if not missing:
            break
    return needed


def garbage_blobs(
    kept: Iterable[Node], blob_rows: Iterable[Sequence[Any]]
) -> list[tuple[str, str, str]]:
    """(checkpoint_ns, channel, version) of blobs no kept checkpoint needs. `blob_rows` are
    (checkpoint_ns, channel, version[, base]): a kept delta (base set) needs its snapshot and
    the deltas before it on its chain (core/deltas.py)."""
    stored = [(str(r[0]), str(r[1]), str(r[2]), r[3] if len(r) > 3 else None) for r in blob_rows]
    base_of = {(ns, ch, v): base for ns, ch, v, base in stored}
    needed = {
        (node.checkpoint_ns, channel, version)
        for node in kept
        for channel, version in node.blob_versions.items()
    }
    chain_top: dict[tuple[str, str, str], str] = {}  # (ns, channel, snapshot) -> newest link
    for ns, ch, v in list(needed):
        base = base_of.get((ns, ch, v))
        if base is not None:
            needed.add((ns, ch, base))
            top = chain_top.get((ns, ch, base))
            chain_top[(ns, ch, base)] = v if top is None or v > top else top
    return [
        (ns, ch, v)
        for ns, ch, v, base in stored
        if (ns, ch, v) not in needed
        and not (base is not None and v <= chain_top.get((ns, ch, base), ""))
    ]
