"""Bytes in and out: channel values, writes and metadata, with a format tag per blob."""

from __future__ import annotations

import json
import zlib
from typing import Any

import msgpack
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.errors import CorruptRowError

# Every blob row carries its format, so deltas (core/deltas.py) sit beside whole values.
FORMAT_FULL = 1  # the whole value
FORMAT_DELTA = 2  # items appended to a chain that starts at a snapshot (core/deltas.py)
COMPRESSED = 16  # added to a format: the bytes are zlib-compressed (a saver's compress=True)
KNOWN_FORMATS = frozenset(f | z for f in (FORMAT_FULL, FORMAT_DELTA) for z in (0, COMPRESSED))
COMPRESS_MIN_BYTES = 128  # smaller values rarely shrink enough to pay for the CPU


def compress(fmt: int, data: bytes | None) -> tuple[int, bytes | None]:
    """zlib when it saves at least a tenth; else the bytes as they are."""
    if data is None or len(data) < COMPRESS_MIN_BYTES:
        return fmt, data
    packed = zlib.compress(data, 6)
    return (fmt | COMPRESSED, packed) if len(packed) < len(data) * 0.9 else (fmt, data)


def plain(fmt: int, data: bytes | None, where: str) -> tuple[int, bytes | None]:
    """The format without the compression flag, and the bytes uncompressed."""
    if fmt not in KNOWN_FORMATS:
        raise CorruptRowError(
            f"{where}: blob format {fmt} is newer than this version of saver understands; "
            "upgrade langgraph-checkpoint-history"
        )
    if not fmt & COMPRESSED:
        return fmt, data
    try:
        return fmt & ~COMPRESSED, zlib.decompress(bytes(data or b""))
    except zlib.error as exc:
        raise CorruptRowError(f"{where}: compressed blob does not decompress: {exc}") from None


def dump_value(serde: SerializerProtocol, value: Any) -> tuple[str, bytes]:
    return serde.dumps_typed(value)


def load_value(
    serde: SerializerProtocol, type_: str, data: bytes | None, fmt: int, where: str
) -> Any:
    fmt, data = plain(fmt, data, where)
    if fmt == FORMAT_DELTA:  # a chain is joined first (deltas.Chains); a bare piece is a bug
        raise CorruptRowError(f"{where}: a delta blob was read without its chain")
    try:
        return serde.loads_typed((type_, bytes(data) if data is not None else b""))
    except Exception as exc:
        raise CorruptRowError(f"{where}: cannot deserialise {type_!r} value: {exc}") from exc


def split_array(type_: str, data: bytes | None) -> list[bytes] | None:
    """The item bytes of a msgpack list blob, or None when the blob is not one.

    Consecutive versions of a growing list repeat their items byte for byte; decoding each
    distinct item once lets a history read decode a conversation once, not once per step.
    """
    if type_ != "msgpack" or not data or not (0x90 <= data[0] <= 0x9F or data[0] in (0xDC, 0xDD)):
        return None
    unpacker = msgpack.Unpacker()
    unpacker.feed(data)
    count = unpacker.read_array_header()
    items, start = [], unpacker.tell()
    for _ in range(count):
        unpacker.skip()
        end = unpacker.tell()
        items.append(bytes(data[start:end]))
        start = end
    return items


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def dump_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str | bytes, where: str, column: str = "metadata") -> dict[str, Any]:
    """A JSON object column; anything else is a corrupt row, named."""
    try:
        value = json.loads(text)
    except Exception as exc:
        raise CorruptRowError(f"{where}: {column} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CorruptRowError(f"{where}: {column} is not a JSON object: {value!r:.80}")
    return value
