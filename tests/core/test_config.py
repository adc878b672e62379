"""saver.core.config: ids out of a LangGraph config, with errors saying what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from saver.core.config import (
    MAX_CHECKPOINT_NS_BYTES,
    MAX_THREAD_ID_BYTES,
    Target,
    checkpoint_config,
    target,
    thread_id_of,
    thread_ids,
)
from saver.errors import InvalidConfigError


def test_a_full_config_becomes_a_target_in_the_saver_namespace() -> None:
    conf = {"configurable": {"thread_id": "t", "checkpoint_ns": "child:1", "checkpoint_id": "c"}}
    assert target("user_graph", conf, "get") == Target("user_graph", "t", "child:1", "c")


def test_checkpoint_ns_and_checkpoint_id_default_to_root_and_latest() -> None:
    assert target("", {"configurable": {"thread_id": "t"}}, "get") == Target("", "t", "", None)


def test_an_int_thread_id_becomes_a_string() -> None:
    assert target("", {"configurable": {"thread_id": 7}}, "get").thread_id == "7"


@pytest.mark.parametrize("conf", [{}, {"thread_id": None}, {"thread_id": ""}])
def test_a_missing_thread_id_is_named_along_with_the_operation(conf: dict[str, Any]) -> None:
    with pytest.raises(InvalidConfigError, match="put needs a thread_id"):
        target("", {"configurable": conf}, "put")


@pytest.mark.parametrize("value", [True, 1.5, ["t"], {"t": 1}])
def test_a_thread_id_of_the_wrong_type_is_rejected(value: Any) -> None:
    with pytest.raises(InvalidConfigError, match="thread_id must be a str or int"):
        target("", {"configurable": {"thread_id": value}}, "get")


@pytest.mark.parametrize("config", [None, "t", {}, {"configurable": None}, {"thread_id": "t"}])
def test_a_config_without_a_configurable_dict_is_rejected(config: Any) -> None:
    with pytest.raises(InvalidConfigError, match="config"):
        target("", config, "get_tuple")


def test_a_checkpoint_ns_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidConfigError, match="checkpoint_ns"):
        target("", {"configurable": {"thread_id": "t", "checkpoint_ns": 3}}, "get")


def test_a_checkpoint_id_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidConfigError, match="checkpoint_id"):
        target("", {"configurable": {"thread_id": "t", "checkpoint_id": 3}}, "get")


def test_a_thread_id_over_the_limit_is_refused_naming_its_length_and_the_limit() -> None:
    too_long = "t" * (MAX_THREAD_ID_BYTES + 1)
    with pytest.raises(InvalidConfigError) as caught:
        target("", {"configurable": {"thread_id": too_long}}, "put")
    message = str(caught.value)
    assert message.startswith("put: thread_id")
    assert f"{MAX_THREAD_ID_BYTES + 1} bytes" in message
    assert f"at most {MAX_THREAD_ID_BYTES} bytes" in message


def test_a_thread_id_of_exactly_the_limit_is_accepted() -> None:
    at_limit = "t" * MAX_THREAD_ID_BYTES
    assert target("", {"configurable": {"thread_id": at_limit}}, "put").thread_id == at_limit


def test_the_thread_id_limit_counts_utf8_bytes_not_characters() -> None:
    fits = "é" * (MAX_THREAD_ID_BYTES // 2)  # two bytes each
    assert thread_id_of(fits, "put") == fits
    with pytest.raises(InvalidConfigError, match=f"{MAX_THREAD_ID_BYTES + 2} bytes"):
        thread_id_of(fits + "é", "put")


def test_a_thread_id_with_a_lone_surrogate_is_refused_not_crashed_on() -> None:
    with pytest.raises(InvalidConfigError, match="thread_id .* lone surrogate"):
        thread_id_of("\ud800" * MAX_THREAD_ID_BYTES, "put")


def test_reads_and_deletes_take_a_thread_id_over_the_limit() -> None:
    too_long = "t" * (MAX_THREAD_ID_BYTES + 1)  # an older saver may have stored one
    assert thread_ids(["ok", too_long], "prune") == ["ok", too_long]
    assert thread_id_of(too_long, "delete_thread") == too_long
    assert target("", {"configurable": {"thread_id": too_long}}, "get_tuple").thread_id == too_long


def test_a_checkpoint_ns_over_the_limit_is_refused_naming_its_length_and_the_limit() -> None:
    ns = "n" * (MAX_CHECKPOINT_NS_BYTES + 1)
    with pytest.raises(InvalidConfigError) as caught:
        target("", {"configurable": {"thread_id": "t", "checkpoint_ns": ns}}, "put_writes")
    message = str(caught.value)
    assert message.startswith("put_writes: checkpoint_ns")
    assert f"{MAX_CHECKPOINT_NS_BYTES + 1} bytes" in message
    assert f"at most {MAX_CHECKPOINT_NS_BYTES} bytes" in message


def test_a_checkpoint_ns_of_exactly_the_limit_is_accepted() -> None:
    ns = "n" * MAX_CHECKPOINT_NS_BYTES
    conf = {"configurable": {"thread_id": "t", "checkpoint_ns": ns}}
    assert target("", conf, "put").checkpoint_ns == ns


def test_thread_ids_takes_a_list_not_a_single_string() -> None:
    assert thread_ids(["a", 2], "prune") == ["a", "2"]
    with pytest.raises(InvalidConfigError, match="not a single string"):
        thread_ids("abc", "prune")


def test_checkpoint_config_has_thread_ns_and_id() -> None:
    assert checkpoint_config(Target("ns", "t", "child:1", None), "c") == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "child:1", "checkpoint_id": "c"}
    }
