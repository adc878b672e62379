"""Growing lists stored as deltas, so a conversation's storage grows linearly (no I/O).

A channel whose new value extends what this process last wrote for it (same thread and
namespace, put from the checkpoint that wrote it) is stored as the appended items only, with
`base` naming the snapshot its chain starts from. The whole value is stored again (a snapshot)
once the chain's deltas outweigh its snapshot SNAPSHOT_RATIO times, each delta weighing its
payload plus ROW_BYTES (what its row costs), or number MAX_LINKS, and whenever this process
does not know the previous value (another process wrote it, a fork, a restart). Weighed so,
snapshots grow geometrically: for items well above ROW_BYTES (messages) each is about twice
the last, all of a conversation's snapshots take about twice its final size, and a read finds
at least half of a value in one row; small items get a snapshot sooner, since their rows cost
more than their bytes. Items compare by identity, then equality, so a value that does not
extend the last one (a message replaced by id, a RemoveMessage, a reset) gets a snapshot,
never a wrong delta.

Snapshots and deltas both hold the serializer's msgpack bytes of a list, so a chain reads back
as one msgpack array: the snapshot's items, then each delta's in version order (`join`), which
is byte for byte what serialising the whole list gives.
"""

from __future__ import annotations

import dataclasses
import struct
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import codec
from saver.core.codec import FORMAT_DELTA, FORMAT_FULL
from saver.errors import CorruptRowError

MAX_LINKS = 512  # deltas per chain at most: bounds the rows a read joins
SNAPSHOT_RATIO = 1  # a snapshot once a chain's deltas outweigh its snapshot
ROW_BYTES = 64  # what one delta row costs beyond its payload (keys, row header, index entry)
MAX_THREADS = 512  # threads whose last values one saver remembers (least recent forgotten)
MAX_ISSUED = 65536  # versions handed out and not yet stored, remembered per saver
MSGPACK = "msgpack"


@dataclass(frozen=True)
class Encoded:
    """One blob row's payload: its format, serde type, bytes, and snapshot (deltas only)."""

    format: int
    type: str
    data: bytes | None
    base: str | None = None


@dataclass(frozen=True)
class Tail:
    """What this process last stored for one channel."""

    version: str
    items: tuple[Any, ...]  # a copy: the list a graph hands over may change later
    payloads: tuple[bytes, ...]  # the items' msgpack bytes: the snapshot's, then each delta's
    snapshot: str

    @property
    def links(self) -> int:
        return len(self.payloads) - 1

    def outweighs_snapshot(self, ratio: float) -> bool:
        """The deltas, each with what its row costs, weigh more than `ratio` snapshots."""
        deltas = sum(map(len, self.payloads[1:])) + ROW_BYTES * self.links
        return deltas > ratio * len(self.payloads[0])


@dataclass(frozen=True)
class ThreadTail:
    checkpoint_id: str
    versions: Mapping[str, str]
    tails: Mapping[str, Tail]


Key = tuple[str, str, str]  # saver namespace, thread_id, checkpoint_ns


@dataclass(frozen=True)
class DeltaPlan:
    """The encodings of one put, and what to remember once it has committed."""

    key: Key
    after: ThreadTail
    blobs: dict[str, Encoded]
    stored: list[str]  # the versions the put writes: no longer fresh once it committed


class DeltaTracker:
    """Per saver: the last values it stored, per thread namespace and channel."""

    def __init__(
        self,
        max_links: int = MAX_LINKS,
        max_threads: int = MAX_THREADS,
        compress: bool = True,
        snapshot_ratio: float = SNAPSHOT_RATIO,
    ) -> None:
        self.max_links, self.max_threads, self.compress = max_links, max_threads, compress
        self.snapshot_ratio = snapshot_ratio
        self._threads: OrderedDict[Key, ThreadTail] = OrderedDict()
        self._issued: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()  # a sync saver may be shared by threads

    def issued(self, version: str) -> str:
        """Note a version this saver's get_next_version handed out: no row can have it yet.
        Only such a version starts or extends a chain; any other (a caller's own, data
        moved from elsewhere) may name a row that exists, whose insert would be skipped."""
        with self._lock:
            self._issued[version] = None
            while len(self._issued) > MAX_ISSUED:
                self._issued.popitem(last=False)
        return version

    def plan(
        self,
        serde: SerializerProtocol,
        key: Key,
        parent_id: str | None,
        checkpoint_id: str,
        channel_versions: Mapping[str, Any],
        new: Mapping[str, tuple[str, Any]],
    ) -> DeltaPlan:
        """Encode the changed channels `new` (channel -> (version, value)) of a put."""
        with self._lock:
            known = self._threads.get(key)
            if known is None or parent_id is None or known.checkpoint_id != parent_id:
                known = None  # a fork, another process, or a thread this one never wrote
            else:
                # Claimed until commit(): a second put from the same parent meanwhile (or
                # after this one failed) stores snapshots, so no snapshot gets two branches.
                del self._threads[key]
        tails: dict[str, Tail] = dict(known.tails) if known else {}
        blobs: dict[str, Encoded] = {}
        for channel, (version, value) in new.items():
            previous = tails.pop(channel, None)
            with self._lock:
                fresh = version in self._issued
            if previous is not None and previous.version == version:
                tails[channel] = previous  # unchanged: its row is there already
                encoded, tail = whole(serde, value), None
            elif not fresh:  # its row may exist (the insert would be skipped): no chain
                encoded, tail = whole(serde, value), None
            else:
                if previous is not None and known is not None:
                    if str(known.versions.get(channel)) != previous.version:
                        previous = None
                encoded, tail = self._encode(serde, version, value, previous)
                if tail is not None:
                    tails[channel] = tail
            if self.compress:
                fmt, data = codec.compress(encoded.format, encoded.data)
                encoded = Encoded(fmt, encoded.type, data, encoded.base)
            blobs[channel] = encoded
        versions = {ch: str(v) for ch, v in channel_versions.items()}
        stored = [version for version, _ in new.values()]
        return DeltaPlan(key, ThreadTail(checkpoint_id, versions, tails), blobs, stored)

    def _encode(
        self, serde: SerializerProtocol, version: str, value: Any, previous: Tail | None
    ) -> tuple[Encoded, Tail | None]:
        if type(value) is not list:
            return whole(serde, value), None
        old = previous.items if previous is not None else ()
        extends = (
            previous is not None
            and version > previous.version
            and len(value) >= len(old)
            and all(a is b or a == b for a, b in zip(old, value, strict=False))
        )
        if not extends or previous is None:
            encoded = whole(serde, value)
            if encoded.type != MSGPACK:
                return encoded, None
            _, payload = split(encoded.data or b"")
            return encoded, Tail(version, tuple(value), (payload,), version)
        added = value[len(old) :]
        type_, data = serde.dumps_typed(added)
        if type_ != MSGPACK:  # a serializer that does not write msgpack: no deltas
            return whole(serde, value), None
        _, payload = split(data)
        tail = Tail(version, tuple(value), (*previous.payloads, payload), previous.snapshot)
        if tail.links >= self.max_links or tail.outweighs_snapshot(self.snapshot_ratio):
            joined = b"".join(tail.payloads)  # a new snapshot, from the bytes already held
            snapshot = Tail(version, tuple(value), (joined,), version)
            return Encoded(FORMAT_FULL, MSGPACK, array_header(len(value)) + joined), snapshot
        return Encoded(FORMAT_DELTA, MSGPACK, data, previous.snapshot), tail

    def observe(self, key: Key, checkpoint_id: str, values: Mapping[str, Any]) -> None:
        """A read of the checkpoint this process last wrote: remember the loaded lists, so
        the next put, which extends those very objects, matches by identity (cheap) rather
        than by equality (a compare per message)."""
        with self._lock:
            known = self._threads.get(key)
            if known is None or known.checkpoint_id != checkpoint_id:
                return
            tails = dict(known.tails)
            for channel, tail in known.tails.items():
                value = values.get(channel)
                if type(value) is list and len(value) == len(tail.items):
                    tails[channel] = dataclasses.replace(tail, items=tuple(value))
            self._threads[key] = ThreadTail(known.checkpoint_id, known.versions, tails)

    def commit(self, plan: DeltaPlan) -> None:
        """Remember a put that committed (never one that failed: its rows are not there)."""
        with self._lock:
            for version in plan.stored:  # its row exists now: never fresh again
                self._issued.pop(version, None)
            self._threads[plan.key] = plan.after
            self._threads.move_to_end(plan.key)
            while len(self._threads) > self.max_threads:
                self._threads.popitem(last=False)

    def forget(self, thread_ids: Sequence[str] | None = None) -> None:
        """After rows were deleted: forget those threads (or all), so no delta names them."""
        with self._lock:
            if thread_ids is None:
                self._threads.clear()
                return
            gone = set(thread_ids)
            for key in [k for k in self._threads if k[1] in gone]:
                del self._threads[key]


def whole(serde: SerializerProtocol, value: Any) -> Encoded:
    """A value stored whole, as every row was before deltas."""
    type_, data = codec.dump_value(serde, value)
    return Encoded(FORMAT_FULL, type_, data)


# --- msgpack arrays ------------------------------------------------------------------------


def array_header(count: int) -> bytes:
    if count < 16:
        return bytes([0x90 | count])
    if count < 1 << 16:
        return b"\xdc" + struct.pack(">H", count)
    return b"\xdd" + struct.pack(">I", count)


def split(data: bytes) -> tuple[int, bytes]:
    """(item count, the items' bytes) of a msgpack array."""
    if not data:
        raise ValueError("empty msgpack data")
    first = data[0]
    if 0x90 <= first <= 0x9F:
        return first & 0x0F, bytes(data[1:])
    if first == 0xDC:
        return struct.unpack(">H", data[1:3])[0], bytes(data[3:])
    if first == 0xDD:
        return struct.unpack(">I", data[1:5])[0], bytes(data[5:])
    raise ValueError(f"not a msgpack array (first byte {first:#x})")


def join(pieces: Sequence[bytes], where: str) -> bytes:
    """A snapshot and its deltas, oldest first, as one msgpack array."""
    total, payloads = 0, []
    for piece in pieces:
        try:
            count, payload = split(piece)
        except (ValueError, struct.error) as exc:
            raise CorruptRowError(f"{where}: a delta chain piece is not a list: {exc}") from None
        total += count
        payloads.append(payload)
    return array_header(total) + b"".join(payloads)


# --- reading -------------------------------------------------------------------------------

BlobKey = tuple[str, str, str, str]  # thread_id, checkpoint_ns, channel, version


class Chains:
    """The blob rows of one read; each value whole on demand (a delta joined to its chain)."""

    def __init__(self) -> None:
        self.rows: dict[BlobKey, tuple[int, str, bytes | None, str | None]] = {}
        self._links: defaultdict[tuple[str, str, str, str], list[tuple[str, bytes]]]
        self._links = defaultdict(list)
        self._sorted = True

    def add(self, key: BlobKey, fmt: int, type_: str, data: bytes | None, base: Any) -> None:
        fmt, data = codec.plain(int(fmt), data, f"channel {key[2]!r} version {key[3]!r}")
        self.rows[key] = (fmt, type_, data, base)
        if fmt == FORMAT_DELTA:
            self._links[(key[0], key[1], key[2], str(base))].append((key[3], bytes(data or b"")))
            self._sorted = False

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def whole(self, key: BlobKey, where: str) -> tuple[str, bytes | None, int]:
        """(type, bytes, format) of the whole value at `key`."""
        fmt, type_, data, base = self.rows[key]
        if fmt != FORMAT_DELTA:
            return type_, data, fmt
        if not self._sorted:
            for links in self._links.values():
                links.sort()
            self._sorted = True
        snapshot = self.rows.get((key[0], key[1], key[2], str(base)))
        if snapshot is None or snapshot[0] == FORMAT_DELTA:
            raise CorruptRowError(f"{where}: the snapshot {base!r} this delta extends is missing")
        links = self._links[(key[0], key[1], key[2], str(base))]
        pieces = [bytes(snapshot[2] or b""), *(d for v, d in links if v <= key[3])]
        return MSGPACK, join(pieces, where), FORMAT_FULL
