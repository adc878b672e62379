"""A put becomes rows; rows become CheckpointTuples. Both directions, no I/O."""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import codec, deltas, writes
from saver.core.config import Target, checkpoint_config, storable


class CheckpointRow(NamedTuple):
    """A row of history_checkpoints, in the column order every INSERT lists."""

    thread_id: str
    namespace: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    type: str
    checkpoint: bytes
    blob_versions: str
    metadata: str
    run_id: str | None
    created_at: float


class BlobRow(NamedTuple):
    """A row of history_blobs; `base` is the snapshot version a delta builds on."""

    thread_id: str
    namespace: str
    checkpoint_ns: str
    channel: str
    version: str
    format: int
    type: str
    data: bytes | None
    base: str | None


class WriteRow(NamedTuple):
    """A row of history_writes."""

    thread_id: str
    namespace: str
    checkpoint_ns: str
    checkpoint_id: str
    task_id: str
    idx: int
    task_path: str
    channel: str
    type: str
    data: bytes | None


class ChannelWrite(NamedTuple):
    """A row of SELECT_CHANNEL_WRITES (get_delta_channel_history)."""

    checkpoint_id: str
    task_id: str
    idx: int
    task_path: str
    channel: str
    type: str
    data: bytes | None


# What a page select returns (Dialect.select_page): one row shape for checkpoint ('c'), blob
# ('b') and write ('w') rows, so a checkpoint with its values and writes comes back in a
# single statement. Each kind is read by its own names:
UnionRow = Sequence[Any]


class PageCheckpoint(NamedTuple):
    kind: str  # 'c'
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    versions_readable: str  # '1' when blob_versions is a JSON object
    created_at: float
    type: str
    checkpoint: bytes
    metadata: str
    blob_versions: str


class PageBlob(NamedTuple):
    kind: str  # 'b'
    thread_id: str
    checkpoint_ns: str
    channel: str
    version: str
    base: str | None
    format: int
    type: str
    data: bytes | None
    unused_m: None
    unused_v: None


class PageWrite(NamedTuple):
    kind: str  # 'w'
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    idx: int
    type: str
    data: bytes | None
    channel: str
    unused_v: None


def checkpoint_row(
    t: Target,
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    compress: bool = True,
) -> CheckpointRow:
    for channel in checkpoint["channel_versions"]:
        storable(str(channel), "channel name", "put")
    storable(str(checkpoint["id"]), "checkpoint id", "put")
    body = {k: v for k, v in checkpoint.items() if k != "channel_values"}
    if all(isinstance(v, str) for v in checkpoint["channel_versions"].values()):
        del body["channel_versions"]  # blob_versions holds them already: read back from there
    type_, data = "", b""
    if compress:  # a packed body leaves its id to the column: an older saver refuses it whole
        type_, plain = serde.dumps_typed({k: v for k, v in body.items() if k != "id"})
        data = codec.pack(type_, plain, codec.CHECKPOINT)
    if not codec.is_packed(type_, data):  # plain, an older saver would read it: id kept
        type_, data = serde.dumps_typed(body)
    meta = get_serializable_checkpoint_metadata(config, metadata)
    run_id = meta.get("run_id")
    return CheckpointRow(
        t.thread_id,
        t.namespace,
        t.checkpoint_ns,
        checkpoint["id"],
        t.checkpoint_id,
        type_,
        data,
        codec.dump_json({k: str(v) for k, v in checkpoint["channel_versions"].items()}, False),
        codec.dump_json(meta),
        str(run_id) if run_id is not None else None,
        time.time(),
    )


def blob_rows(
    t: Target,
    serde: SerializerProtocol,
    checkpoint: Checkpoint,
    new_versions: ChannelVersions,
    encoded: Mapping[str, deltas.Encoded] | None = None,
) -> list[BlobRow]:
    """Only channels whose version changed get a row: an unchanged value is never stored
    again. `encoded` holds channels already encoded (deltas.DeltaTracker.plan)."""
    values = checkpoint["channel_values"]
    rows: list[BlobRow] = []
    for channel, version in new_versions.items():
        if channel not in values:
            continue
        e = (encoded or {}).get(channel) or deltas.whole(serde, values[channel])
        rows.append(
            BlobRow(
                t.thread_id,
                t.namespace,
                t.checkpoint_ns,
                channel,
                str(version),
                e.format,
                e.type,
                e.data,
                e.base,
            )  # fmt: skip
        )
    return rows


def write_rows(
    t: Target,
    serde: SerializerProtocol,
    checkpoint_id: str,
    pending: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
    compress: bool = True,
) -> tuple[list[WriteRow], list[WriteRow]]:
    """(rows that replace an existing write, rows that never do)."""
    replace: list[WriteRow] = []
    keep_first: list[WriteRow] = []
    storable(str(task_id), "task_id", "put_writes")
    storable(str(task_path), "task_path", "put_writes")
    for position, (channel, value) in enumerate(pending):
        storable(str(channel), "channel name", "put_writes")
        type_, data = codec.dump_value(serde, value)
        if compress:
            data = codec.pack(type_, data, codec.MESSAGES)
        row = WriteRow(
            t.thread_id,
            t.namespace,
            t.checkpoint_ns,
            checkpoint_id,
            task_id,
            writes.write_index(channel, position),
            task_path,
            channel,
            type_,
            data,
        )
        (replace if writes.is_special(channel) else keep_first).append(row)
    # Two special writes of one kind in one call: the later wins, as it would one by one.
    replace = list({r.idx: r for r in replace}.values())
    return replace, keep_first


def _fresh(value: Any) -> Any:
    """A decoded blob may serve many tuples; each gets its own outer container."""
    if isinstance(value, (list, dict, set)):
        return copy.copy(value)
    return value


class TupleReader:
    """Turns union rows into CheckpointTuples.

    Within one read each blob is decoded once, and with `share_items` each distinct list item
    once: a page of history shares message objects between its tuples (each tuple still gets
    its own lists), which turns decoding a conversation's history from quadratic to linear.
    """

    def __init__(self, serde: SerializerProtocol, share_items: bool = False) -> None:
        self.serde = serde
        self.share_items = share_items
        self._values: dict[deltas.BlobKey, Any] = {}
        self._items: dict[bytes, Any] = {}

    def read(self, rows: Iterable[UnionRow]) -> list[CheckpointTuple]:
        heads: list[PageCheckpoint] = []
        blobs = deltas.Chains()
        pending: defaultdict[tuple[str, str, str], list[PageWrite]] = defaultdict(list)
        for row in rows:
            kind = row[0]
            if kind == "c":
                heads.append(PageCheckpoint._make(row))
            elif kind == "b":
                b = PageBlob._make(row)
                key = (b.thread_id, b.checkpoint_ns, b.channel, b.version)
                blobs.add(key, b.format, b.type, b.data, b.base)
            else:
                w = PageWrite._make(row)
                pending[(w.thread_id, w.checkpoint_ns, w.checkpoint_id)].append(w)
        heads.sort(key=lambda h: (h.checkpoint_id, h.checkpoint_ns, h.thread_id), reverse=True)
        return [self._tuple(head, blobs, pending) for head in heads]

    def _value(self, key: deltas.BlobKey, blobs: deltas.Chains, checkpoint: str) -> Any:
        if key not in self._values:
            where = f"{checkpoint}: channel {key[2]!r} version {key[3]!r}"
            type_, data, fmt = blobs.whole(key, where)
            items = codec.split_array(type_, data, where) if self.share_items else None
            if items is None:
                self._values[key] = codec.load_value(self.serde, type_, data, fmt, where)
            else:
                self._values[key] = [self._item(item, fmt, where) for item in items]
        return _fresh(self._values[key])

    def _item(self, data: bytes, fmt: int, where: str) -> Any:
        if data not in self._items:
            # split_array parsed it out of a list read to its end: whole
            self._items[data] = codec.load_value(self.serde, "msgpack", data, fmt, where, True)
        return self._items[data]

    def _tuple(
        self,
        head: PageCheckpoint,
        blobs: deltas.Chains,
        pending: dict[tuple[str, str, str], list[PageWrite]],
    ) -> CheckpointTuple:
        thread_id, ns, checkpoint_id = head.thread_id, head.checkpoint_ns, head.checkpoint_id
        parent_id = head.parent_checkpoint_id
        where = codec.located(thread_id, ns, checkpoint_id)
        body = codec.load_checkpoint(self.serde, head.type, head.checkpoint, where)
        if not head.versions_readable:
            codec.load_json(head.blob_versions, where, "blob_versions")  # names the damage
        body.setdefault("id", checkpoint_id)  # stored once, as the checkpoint_id column
        if "channel_versions" not in body:  # stored once, as the blob_versions column
            body["channel_versions"] = codec.load_json(head.blob_versions, where, "blob_versions")
        values: dict[str, Any] = {}
        for channel, version in body["channel_versions"].items():
            key = (thread_id, ns, channel, str(version))
            if key in blobs:
                values[channel] = self._value(key, blobs, where)
        checkpoint: Checkpoint = {**body, "channel_values": values}  # type: ignore[typeddict-item]
        rows = sorted(
            pending.get((thread_id, ns, checkpoint_id), ()),
            key=lambda w: writes.sort_key(w.task_path, w.task_id, w.idx),
        )
        pending_writes = [
            (
                w.task_id,
                w.channel,
                codec.load_write(
                    self.serde,
                    w.type,
                    w.data,
                    f"{where}: write of task {w.task_id!r} to channel {w.channel!r}",
                ),
            )
            for w in rows
        ]
        t = Target("", thread_id, ns, None)
        return CheckpointTuple(
            config=checkpoint_config(t, checkpoint_id),
            checkpoint=checkpoint,
            metadata=codec.load_json(head.metadata, where),  # type: ignore[arg-type]
            parent_config=checkpoint_config(t, parent_id) if parent_id else None,
            pending_writes=pending_writes,
        )
