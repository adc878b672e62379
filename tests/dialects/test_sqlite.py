"""The SQLite dialect builds list() WHERE clauses that bind every caller-supplied value."""

from __future__ import annotations

from saver.core.filters import leaves
from saver.dialects.sqlite import SQLITE

TRICKY = "x' OR 1=1 --"


def test_filter_keys_and_values_never_appear_in_the_sql_text() -> None:
    where, params = SQLITE.list_where(
        "ns", "thread", "", None, None, leaves({TRICKY: {"k": TRICKY}, "n": 1}), None
    )
    text = " AND ".join(where)
    assert TRICKY not in text
    assert "1=1" not in text
    assert text.count("?") == len(params)
    assert TRICKY in params
    assert any(TRICKY in str(p) for p in params if p != TRICKY)


def test_ids_and_namespace_are_bound_too() -> None:
    where, params = SQLITE.list_where(TRICKY, TRICKY, TRICKY, TRICKY, TRICKY, [], None)
    text = " AND ".join(where)
    assert TRICKY not in text
    assert params.count(TRICKY) == 5
    assert text.count("?") == len(params)


def test_a_list_page_query_is_one_statement_for_checkpoints_blobs_and_writes() -> None:
    where, _ = SQLITE.list_where("", "t", None, None, None, [], None)
    sql = SQLITE.select_page(where)
    assert sql.count(";") == 0
    for table in ("history_checkpoints", "history_blobs", "history_writes"):
        assert table in sql
