"""The PostgreSQL dialect: a metadata filter leaf becomes a JSON document for `@>`."""

from __future__ import annotations

from saver.dialects.postgres import nest


def test_nest_builds_the_smallest_document_holding_a_value() -> None:
    assert nest(("a", "b", "c"), 1) == {"a": {"b": {"c": 1}}}
    assert nest(("a",), None) == {"a": None}
