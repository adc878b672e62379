"""saver.core.codec: values and metadata in and out, with a format tag per blob."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

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
