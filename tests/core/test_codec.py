"""saver.core.codec: values and metadata in and out, with a format tag per blob and write,
and compression with preset dictionaries."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from saver.core import codec, zdicts
from saver.core.codec import FORMAT_FULL, dump_json, dump_value, load_json, load_value
from saver.errors import CorruptRowError

SERDE = JsonPlusSerializer()


def test_a_value_round_trips_in_the_full_format() -> None:
    type_, data = dump_value(SERDE, {"a": [1, 2.5, None, "x"]})
    assert load_value(SERDE, type_, data, FORMAT_FULL, "here") == {"a": [1, 2.5, None, "x"]}


def test_an_unknown_format_asks_for_an_upgrade_and_names_the_place() -> None:
    type_, data = dump_value(SERDE, 1)
    with pytest.raises(CorruptRowError, match="thread 't'.*upgrade"):
        load_value(SERDE, type_, data, 99, "thread 't'")


def test_undecodable_bytes_raise_corrupt_row_error_naming_the_place() -> None:
    with pytest.raises(CorruptRowError, match="^thread 't' channel 'c': cannot deserialise"):
        load_value(SERDE, "msgpack", b"\xc1", FORMAT_FULL, "thread 't' channel 'c'")


def test_metadata_json_is_compact_and_keeps_unicode() -> None:
    assert dump_json({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'


def test_metadata_json_writes_sets_and_tuples_as_lists_and_other_objects_as_strings() -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert dump_json({"t": (1, 2), "s": {3}, "o": Thing()}) == '{"t":[1,2],"s":[3],"o":"thing"}'


def test_load_json_accepts_text_and_bytes() -> None:
    assert load_json('{"a":1}', "w") == {"a": 1}
    assert load_json(b'{"a":1}', "w") == {"a": 1}


@pytest.mark.parametrize("text", ['["a"]', '"{}"', "1", "null"])
def test_json_that_is_not_an_object_raises_corrupt_row_error(text: str) -> None:
    with pytest.raises(CorruptRowError, match="checkpoint 'c1': metadata is not a JSON object"):
        load_json(text, "checkpoint 'c1'")


def test_invalid_metadata_json_raises_corrupt_row_error_naming_the_place() -> None:
    with pytest.raises(CorruptRowError, match="checkpoint 'c1': metadata is not valid JSON"):
        load_json("{nope", "checkpoint 'c1'")


# --- compression ----------------------------------------------------------------------------


def test_the_dictionaries_are_part_of_the_format_and_never_change() -> None:
    assert hashlib.sha256(zdicts.MESSAGES_V1).hexdigest() == zdicts.MESSAGES_V1_SHA256
    assert hashlib.sha256(zdicts.CHECKPOINT_V1).hexdigest() == (zdicts.CHECKPOINT_V1_SHA256)


def test_a_message_compresses_with_the_dictionary_and_reads_back_the_same() -> None:
    message = AIMessage("a short answer about the weather today", id="ai-1")
    type_, data = dump_value(SERDE, [message])
    fmt, packed = codec.compress(FORMAT_FULL, data)
    plain_zlib = zlib.compress(data, 6)
    assert fmt == FORMAT_FULL | codec.COMPRESSED_DICT
    assert len(packed or b"") < len(plain_zlib) * 0.7
    assert load_value(SERDE, type_, packed, fmt, "here") == [message]


def test_values_compressed_without_the_dictionary_still_read() -> None:
    type_, data = dump_value(SERDE, ["the same words again and again " * 40])
    old = zlib.compress(data, 6)
    assert load_value(SERDE, type_, old, FORMAT_FULL | codec.COMPRESSED, "here") == [
        "the same words again and again " * 40
    ]


def test_a_compressed_blob_cut_short_raises_corrupt_row_error_naming_the_place() -> None:
    _, data = dump_value(SERDE, ["x" * 500])
    fmt, packed = codec.compress(FORMAT_FULL, data)
    with pytest.raises(CorruptRowError, match="^thread 't': compressed bytes"):
        codec.plain(fmt, (packed or b"")[:-6], "thread 't'")


@pytest.mark.parametrize("dictionary_id", [codec.CHECKPOINT, codec.MESSAGES])
def test_packed_bytes_unpack_to_the_same_bytes_and_start_with_a_byte_msgpack_never_uses(
    dictionary_id: int,
) -> None:
    type_, data = dump_value(SERDE, {"v": 4, "ts": "2026-01-01T00:00:00+00:00", "x": "y" * 80})
    packed = codec.pack(type_, data, dictionary_id)
    assert packed[:2] == bytes((0xC1, dictionary_id)) and len(packed) < len(data)
    assert codec.unpack(type_, packed, "here") == data
    assert codec.unpack(type_, data, "here") == data  # stored plain: as it is
    with pytest.raises(CorruptRowError, match="cannot deserialise"):  # what an older reader does
        load_value(SERDE, type_, packed, FORMAT_FULL, "here")


def test_bytes_of_another_serde_type_are_never_packed() -> None:
    assert codec.pack("json", b"{" + b" " * 200 + b"}", codec.MESSAGES) == b"{" + b" " * 200 + b"}"


def test_bytes_packed_with_an_unknown_dictionary_ask_for_an_upgrade() -> None:
    with pytest.raises(CorruptRowError, match="^thread 't'.*upgrade"):
        codec.unpack("msgpack", b"\xc1\x09abc", "thread 't'")


def test_packed_bytes_cut_short_or_run_on_raise_corrupt_row_error() -> None:
    type_, data = dump_value(SERDE, ["x" * 500])
    packed = codec.pack(type_, data, codec.MESSAGES)
    for bad in (packed[:-6], packed + b"junk"):
        with pytest.raises(CorruptRowError, match="^thread 't'"):
            codec.unpack(type_, bad, "thread 't'")
