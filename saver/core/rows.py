"""A put becomes rows; rows become CheckpointTuples. Both directions, no I/O."""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
from saver.core.config import Target, checkpoint_config
from saver.errors import CorruptRowError

# Column order of the three tables, as every dialect's INSERT lists them.
CheckpointRow = tuple[str, str, str, str, str | None, str, bytes, str, str, str | None, float]
BlobRow = tuple[str, str, str, str, str, int, str, bytes | None, str | None]
WriteRow = tuple[str, str, str, str, str, int, str, str, str, bytes | None]

# What a select returns: one shape for checkpoint ('c'), blob ('b') and write ('w') rows,
# so a checkpoint with its values and writes comes back in a single statement.
#   kind, thread_id, checkpoint_ns, a, b, c, n, type, data, m, v
#   'c': a=checkpoint_id b=parent c=versions_ok n=created_at m=metadata v=blob_versions
#   'b': a=channel       b=version c=base    n=format
#   'w': a=checkpoint_id b=task_id c=task_path n=idx      m=channel
UnionRow = Sequence[Any]


def checkpoint_row(
    t: Target,
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    compress: bool = True,
) -> CheckpointRow:
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
    return (
        t.thread_id,
        t.namespace,
        t.checkpoint_ns,
        checkpoint["id"],
        t.checkpoint_id,
        type_,
        data,
        codec.dump_json({k: str(v) for k, v in checkpoint["channel_versions"].items()}),
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
            (t.thread_id, t.namespace, t.checkpoint_ns, channel, str(version))
            + (e.format, e.type, e.data, e.base)
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
    for position, (channel, value) in enumerate(pending):
        type_, data = codec.dump_value(serde, value)
        if compress:
            data = codec.pack(type_, data, codec.MESSAGES)
        row: WriteRow = (
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
    replace = list({r[5]: r for r in replace}.values())
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
        heads: list[UnionRow] = []
        blobs = deltas.Chains()
        pending: defaultdict[tuple[str, str, str], list[UnionRow]] = defaultdict(list)
        for row in rows:
            kind = row[0]
            if kind == "c":
                heads.append(row)
            elif kind == "b":
                blobs.add((row[1], row[2], row[3], row[4]), row[6], row[7], row[8], row[5])
            else:
                pending[(row[1], row[2], row[3])].append(row)
        heads.sort(key=lambda r: (r[3], r[2], r[1]), reverse=True)
        return [self._tuple(head, blobs, pending) for head in heads]

    def _value(self, key: deltas.BlobKey, blobs: deltas.Chains) -> Any:
        if key not in self._values:
            where = f"thread {key[0]!r} ns {key[1]!r} channel {key[2]!r} version {key[3]!r}"
            type_, data, fmt = blobs.whole(key, where)
            items = codec.split_array(type_, data) if self.share_items else None
            if items is None:
                self._values[key] = codec.load_value(self.serde, type_, data, fmt, where)
            else:
                self._values[key] = [self._item(item, fmt, where) for item in items]
        return _fresh(self._values[key])

    def _item(self, data: bytes, fmt: int, where: str) -> Any:
        if data not in self._items:
            self._items[data] = codec.load_value(self.serde, "msgpack", data, fmt, where)
        return self._items[data]

    def _tuple(
        self,
        head: UnionRow,
        blobs: deltas.Chains,
        pending: dict[tuple[str, str, str], list[UnionRow]],
    ) -> CheckpointTuple:
        thread_id, ns, checkpoint_id, parent_id = head[1], head[2], head[3], head[4]
        where = f"thread {thread_id!r} checkpoint {checkpoint_id!r}"
        data = codec.unpack(head[7], bytes(head[8]), where)
        try:
            body = self.serde.loads_typed((head[7], data))
        except Exception as exc:
            raise CorruptRowError(f"{where}: cannot deserialise checkpoint: {exc}") from exc
        if not head[5]:  # the select flags blob_versions it could not read
            codec.load_json(head[10], where, "blob_versions")
        if not isinstance(body, dict):
            raise CorruptRowError(f"{where}: stored checkpoint is not a mapping")
        body.setdefault("id", checkpoint_id)  # stored once, as the checkpoint_id column
        if "channel_versions" not in body:  # stored once, as the blob_versions column
            body["channel_versions"] = codec.load_json(head[10], where, "blob_versions")
        values: dict[str, Any] = {}
        for channel, version in body["channel_versions"].items():
            key = (thread_id, ns, channel, str(version))
            if key in blobs:
                values[channel] = self._value(key, blobs)
        checkpoint: Checkpoint = {**body, "channel_values": values}  # type: ignore[typeddict-item]
        rows = sorted(
            pending.get((thread_id, ns, checkpoint_id), ()),
            key=lambda w: writes.sort_key(w[5], w[4], w[6]),
        )
        pending_writes = [
            (w[4], w[9], codec.load_write(self.serde, w[7], w[8], where)) for w in rows
        ]
        t = Target("", thread_id, ns, None)
        return CheckpointTuple(
            config=checkpoint_config(t, checkpoint_id),
            checkpoint=checkpoint,
            metadata=codec.load_json(head[9], where),  # type: ignore[arg-type]
            parent_config=checkpoint_config(t, parent_id) if parent_id else None,
            pending_writes=pending_writes,
        )
