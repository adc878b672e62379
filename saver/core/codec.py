"""Bytes in and out: channel values, writes, checkpoints and metadata. A blob row's format
column says whether it is a delta and how it is compressed; writes and checkpoints say the
latter in their first bytes (`pack`)."""

from __future__ import annotations

import json
import zlib
from typing import Any

import msgpack
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import zdicts
from saver.errors import CorruptRowError

# Every blob row carries its format, so deltas (core/deltas.py) sit beside whole values and
# compressed bytes beside plain ones.
FORMAT_FULL = 1  # the whole value
FORMAT_DELTA = 2  # items appended to a chain that starts at a snapshot (core/deltas.py)
COMPRESSED = 16  # added to a format: zlib-compressed (written before COMPRESSED_DICT; read)
COMPRESSED_DICT = 32  # added to a format: zlib with the preset zdicts.MESSAGES_V1
KNOWN_FORMATS = frozenset(
    f | z for f in (FORMAT_FULL, FORMAT_DELTA) for z in (0, COMPRESSED, COMPRESSED_DICT)
)
COMPRESS_MIN_BYTES = 64  # smaller values rarely shrink enough to pay for the CPU


def compress(fmt: int, data: bytes | None) -> tuple[int, bytes | None]:
    """A blob's bytes zlib-compressed with the message dictionary, or as they are."""
    packed = _deflate(data, zdicts.MESSAGES_V1) if data is not None else None
    return (fmt, data) if packed is None else (fmt | COMPRESSED_DICT, packed)


def plain(fmt: int, data: bytes | None, where: str) -> tuple[int, bytes | None]:
    """The format without its compression flag, and the bytes uncompressed."""
    if fmt not in KNOWN_FORMATS:
        raise CorruptRowError(
            f"{where}: blob format {fmt} is newer than this version of saver understands; "
            "upgrade langgraph-checkpoint-history"
        )
    if not fmt & (COMPRESSED | COMPRESSED_DICT):
        return fmt, data
    if fmt & COMPRESSED_DICT:
        return fmt & ~COMPRESSED_DICT, _inflate(bytes(data or b""), zdicts.MESSAGES_V1, where)
    try:
        return fmt & ~COMPRESSED, zlib.decompress(bytes(data or b""))
    except zlib.error as exc:
        raise CorruptRowError(f"{where}: compressed blob does not decompress: {exc}") from None


# Checkpoints and writes have no format column: compressed, their bytes start with 0xc1, a
# byte msgpack never uses (so an older reader fails loudly instead of misreading them), then
# the number of the dictionary the rest is zlib-compressed with.
PACKED = 0xC1
PACKED_PREFIX = bytes((PACKED,))
CHECKPOINT, MESSAGES = 1, 2
DICTIONARIES = {CHECKPOINT: zdicts.CHECKPOINT_V1, MESSAGES: zdicts.MESSAGES_V1}


def pack(type_: str, data: bytes, dictionary_id: int) -> bytes:
    """msgpack bytes compressed with a dictionary, behind their two-byte mark, or as they are."""
    packed = _deflate(data, DICTIONARIES[dictionary_id], 2) if type_ == "msgpack" else None
    return data if packed is None else bytes((PACKED, dictionary_id)) + packed


def is_packed(type_: str, data: bytes) -> bool:
    return type_ == "msgpack" and data[:1] == PACKED_PREFIX


def unpack(type_: str, data: bytes, where: str) -> bytes:
    """What `pack` was given."""
    if not is_packed(type_, data):
        return data
    zdict = DICTIONARIES.get(data[1]) if len(data) > 1 else None
    if zdict is None:
        raise CorruptRowError(
            f"{where}: compressed with dictionary {data[1:2]!r}, which this version of saver "
            "does not know; upgrade langgraph-checkpoint-history"
        )
    return _inflate(data[2:], zdict, where)


def _deflate(data: bytes, zdict: bytes, mark: int = 0) -> bytes | None:
    """zlib with `zdict`, when that (with a `mark` of that many bytes) saves a tenth."""
    if len(data) < COMPRESS_MIN_BYTES:
        return None
    packer = zlib.compressobj(6, zdict=zdict)
    packed = packer.compress(data) + packer.flush()
    return packed if len(packed) + mark < len(data) * 0.9 else None


def _inflate(data: bytes, zdict: bytes, where: str) -> bytes:
    try:
        unpacker = zlib.decompressobj(zdict=zdict)
        out = unpacker.decompress(data) + unpacker.flush()
    except zlib.error as exc:
        raise CorruptRowError(f"{where}: compressed bytes do not decompress: {exc}") from None
    if not unpacker.eof or unpacker.unused_data:
        raise CorruptRowError(f"{where}: compressed bytes end early or run on")
    return out


def load_write(serde: SerializerProtocol, type_: str, data: bytes | None, where: str) -> Any:
    """A pending write's value, packed or not."""
    unpacked = unpack(type_, bytes(data), where) if data is not None else None
    return load_value(serde, type_, unpacked, FORMAT_FULL, where)


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
