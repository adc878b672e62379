"""saver.core.filters: a metadata filter becomes (path, value) leaves, or a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from saver.core.filters import leaves
from saver.errors import InvalidConfigError


def test_no_filter_has_no_leaves() -> None:
    assert leaves(None) == []
    assert leaves({}) == []


@pytest.mark.parametrize("value", ["loop", 3, 1.5, True, False, None, ["a", 1]])
def test_a_flat_key_is_one_leaf_with_its_value(value: Any) -> None:
    assert leaves({"k": value}) == [(("k",), value)]


def test_nested_dicts_become_paths() -> None:
    assert leaves({"owner": {"team": {"name": "web", "size": 3}}, "source": "loop"}) == [
        (("owner", "team", "name"), "web"),
        (("owner", "team", "size"), 3),
        (("source",), "loop"),
    ]


def test_an_empty_nested_dict_is_a_leaf_value() -> None:
    assert leaves({"parents": {}}) == [(("parents",), {})]


def test_the_parents_filter_langgraph_uses_for_subgraphs_is_accepted() -> None:
    """Subgraph checkpoints carry metadata {"parents": {"": parent_checkpoint_id}}."""
    assert leaves({"parents": {"": "cid-1"}}) == [(("parents", ""), "cid-1")]


@pytest.mark.parametrize("key", ['so"urce', 'a"', "line\nbreak", "tab\there", "nul\x00"])
def test_a_key_with_a_quote_or_control_character_is_rejected(key: str) -> None:
    with pytest.raises(InvalidConfigError, match="quote or control character"):
        leaves({key: "x"})


def test_a_nested_key_with_a_quote_is_rejected() -> None:
    with pytest.raises(InvalidConfigError, match="quote"):
        leaves({"owner": {'te"am': "x"}})


def test_a_key_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidConfigError, match="must be strings"):
        leaves({1: "x"})  # type: ignore[dict-item]


@pytest.mark.parametrize("bad", [["k", "v"], "k=v", 3, ("k", "v")])
def test_a_filter_that_is_not_a_dict_is_rejected_naming_its_type(bad: Any) -> None:
    with pytest.raises(
        InvalidConfigError, match=f"filter must be a dict, got {type(bad).__name__}"
    ):
        leaves(bad)


@pytest.mark.parametrize("value", [object(), b"bytes", {1, 2}])
def test_a_value_of_an_unsupported_type_is_rejected_naming_the_key(value: Any) -> None:
    with pytest.raises(InvalidConfigError, match="'owner.name'"):
        leaves({"owner": {"name": value}})


def test_sql_looking_keys_and_values_pass_through_unchanged_for_binding() -> None:
    assert leaves({"k') OR 1=1 --": "x' OR 1=1 --"}) == [(("k') OR 1=1 --",), "x' OR 1=1 --")]
