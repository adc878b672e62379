"""Bytes in and out: channel values, writes, checkpoints and metadata. A blob row's format
column says whether it is a delta and how it is compressed; writes and checkpoints say the
latter in their first bytes (`pack`)."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

import msgpack
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import zdicts
from saver.errors import CorruptRowError, InvalidConfigError

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


def located(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> str:
    """How an error names the checkpoint a damaged row belongs to."""
    return f"thread {thread_id!r} ns {checkpoint_ns!r} checkpoint {checkpoint_id!r}"


def load_write(serde: SerializerProtocol, type_: str, data: bytes | None, where: str) -> Any:
    """A pending write's value, packed or not."""
    unpacked = unpack(type_, bytes(data), where) if data is not None else None
    return load_value(serde, type_, unpacked, FORMAT_FULL, where)


def load_checkpoint(
    serde: SerializerProtocol, type_: str, data: bytes, where: str
) -> dict[str, Any]:
    """A checkpoint row's body (everything but its values), packed or not."""
    data = unpack(type_, bytes(data), where)
    if type_ == "msgpack":
        one_object(data, where, "checkpoint")
    try:
        body = serde.loads_typed((type_, data))
    except Exception as exc:
        raise CorruptRowError(f"{where}: cannot deserialise checkpoint: {exc}") from exc
    if not isinstance(body, dict):
        raise CorruptRowError(f"{where}: stored checkpoint is not a mapping")
    return body


def dump_value(serde: SerializerProtocol, value: Any) -> tuple[str, bytes]:
    return serde.dumps_typed(value)


def load_value(
    serde: SerializerProtocol,
    type_: str,
    data: bytes | None,
    fmt: int,
    where: str,
    whole: bool = False,
) -> Any:
    """A value's bytes decoded (`whole`: already known to be one whole object)."""
    fmt, data = plain(fmt, data, where)
    if fmt == FORMAT_DELTA:  # a chain is joined first (deltas.Chains); a bare piece is a bug
        raise CorruptRowError(f"{where}: a delta blob was read without its chain")
    if type_ == "msgpack" and data and not whole:
        one_object(data, where)
    try:
        return serde.loads_typed((type_, bytes(data) if data is not None else b""))
    except Exception as exc:
        raise CorruptRowError(f"{where}: cannot deserialise {type_!r} value: {exc}") from exc


def one_object(data: bytes, where: str, what: str = "value") -> None:
    """Refuse msgpack bytes that are not exactly one object: a decoder stops at the first
    complete object, so damaged bytes would otherwise read back as some smaller value."""
    unpacker = msgpack.Unpacker(max_buffer_size=max(len(data), 1))
    unpacker.feed(data)
    try:
        unpacker.skip()
    except Exception as exc:  # OutOfData, FormatError, StackError: the bytes end or go wrong
        raise CorruptRowError(
            f"{where}: cannot deserialise the {what}: its bytes are damaged "
            f"({type(exc).__name__}{': ' + str(exc) if str(exc) else ''})"
        ) from None
    extra = len(data) - unpacker.tell()
    if extra:
        raise CorruptRowError(
            f"{where}: cannot deserialise the {what}: {extra} bytes follow its end"
        )


def split_array(type_: str, data: bytes | None, where: str) -> list[bytes] | None:
    """The item bytes of a msgpack list blob, or None when the blob is not one.

    Consecutive versions of a growing list repeat their items byte for byte; decoding each
    distinct item once lets a history read decode a conversation once, not once per step.
    """
    if type_ != "msgpack" or not data or not (0x90 <= data[0] <= 0x9F or data[0] in (0xDC, 0xDD)):
        return None
    unpacker = msgpack.Unpacker(max_buffer_size=len(data))
    unpacker.feed(data)
    try:
        count = unpacker.read_array_header()
        items, start = [], unpacker.tell()
        for _ in range(count):
            unpacker.skip()
            end = unpacker.tell()
            items.append(bytes(data[start:end]))
            start = end
    except Exception as exc:  # the bytes end early or hold no msgpack
        raise CorruptRowError(
            f"{where}: cannot deserialise the list: its bytes are damaged ({type(exc).__name__})"
        ) from None
    if start != len(data):
        raise CorruptRowError(
            f"{where}: cannot deserialise the list: {len(data) - start} bytes follow its end"
        )
    return items


# PostgreSQL's jsonb cannot hold U+0000 and SQLite's JSON functions end a text at it, so in a
# JSON column a NUL is stored as NUL_MARK "0", and NUL_MARK itself (a noncharacter, never
# in real text) as NUL_MARK twice: every metadata value comes back as it went in, and a
# filter, escaped the same way (`escaped`), compares what was stored.
NUL_MARK = "\ufdd0"
_MARKED = re.compile(NUL_MARK + "(.)", re.DOTALL)


def escaped(value: Any) -> Any:
    """`value` with every text in it (dict keys too) escaped for a JSON column."""
    if isinstance(value, str):
        if "\x00" in value or NUL_MARK in value:
            return value.replace(NUL_MARK, NUL_MARK * 2).replace("\x00", NUL_MARK + "0")
        return value
    if isinstance(value, dict):
        return {escaped(k): escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [escaped(v) for v in value]
    return value


def unescaped(value: Any) -> Any:
    """What `escaped` was given (as JSON reads it back)."""
    if isinstance(value, str):
        if NUL_MARK in value:
            return _MARKED.sub(lambda m: "\x00" if m[1] == "0" else m[1], value)
        return value
    if isinstance(value, dict):
        return {unescaped(k): unescaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescaped(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def dump_json(value: Any, escape: bool = True) -> str:
    """A JSON column's text; a NUL in it is escaped (NUL_MARK) unless `escape` is False."""
    try:
        text = json.dumps(
            value, default=_json_default, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except ValueError as exc:  # inf or NaN: neither database's JSON holds one
        raise InvalidConfigError(f"metadata holds a number JSON cannot hold: {exc}") from None
    if escape and ("\\u0000" in text or NUL_MARK in text):  # rare: only then walk the value
        plain = json.loads(text)
        text = json.dumps(escaped(plain), ensure_ascii=False, separators=(",", ":"))
    return text


def load_json(text: str | bytes, where: str, column: str = "metadata") -> dict[str, Any]:
    """A JSON object column; anything else is a corrupt row, named."""
    try:
        value = json.loads(text)
    except Exception as exc:
        raise CorruptRowError(f"{where}: {column} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CorruptRowError(f"{where}: {column} is not a JSON object: {value!r:.80}")
    if column != "metadata":
        return value
    marked = NUL_MARK in text if isinstance(text, str) else NUL_MARK.encode() in text
    return unescaped(value) if marked else value
