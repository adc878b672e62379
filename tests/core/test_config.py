"""saver.core.config: ids out of a LangGraph config, with errors saying what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from saver.core.config import Target, checkpoint_config, target, thread_ids
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


def test_thread_ids_takes_a_list_not_a_single_string() -> None:
    assert thread_ids(["a", 2], "prune") == ["a", "2"]
    with pytest.raises(InvalidConfigError, match="not a single string"):
        thread_ids("abc", "prune")


def test_checkpoint_config_has_thread_ns_and_id() -> None:
    assert checkpoint_config(Target("ns", "t", "child:1", None), "c") == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "child:1", "checkpoint_id": "c"}
    }
