"""`?schema=` and `?prepare_threshold=` in a URL given to from_conn_string or to the command
line: taken out before psycopg sees the URL, and an error where they and an argument
disagree. prepare_threshold defaults to preparing on a direct connection."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from saver import AsyncPostgresSaver, InvalidConfigError, PostgresSaver
from saver.cli.urls import open_saver
from saver.io.urls import AUTO, postgres_options, split_schema
from tests.postgres.test_round_trips import at, checkpoint_id, put_args


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def tables_in(url: str, schema: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
        )
        return [row[0] for row in found]


# --- parsing, no database -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "schema", "threshold", "expected"),
    [
        ("postgresql://u@h/db", None, AUTO, ("postgresql://u@h/db", None, AUTO)),
        ("postgresql://u@h/db?schema=s", None, AUTO, ("postgresql://u@h/db", "s", AUTO)),
        ("postgresql://u@h/db?schema=s", "s", AUTO, ("postgresql://u@h/db", "s", AUTO)),
        (
            "postgres://u@h/db?sslmode=disable&prepare_threshold=none&connect_timeout=5",
            None,
            AUTO,
            ("postgres://u@h/db?sslmode=disable&connect_timeout=5", None, None),
        ),
        (
            "POSTGRESQL://u@h/db?prepare_threshold=None",
            None,
            None,
            ("POSTGRESQL://u@h/db", None, None),
        ),
        ("postgresql://u@h/db?prepare_threshold=5", None, AUTO, ("postgresql://u@h/db", None, 5)),
        ("postgresql://u@h/db?prepare_threshold=0", None, 0, ("postgresql://u@h/db", None, 0)),
        (
            "postgresql://u@h/db?prepare_threshold=auto",
            None,
            AUTO,
            ("postgresql://u@h/db", None, AUTO),
        ),
        ("postgresql://u@h/db", "s", None, ("postgresql://u@h/db", "s", None)),
        (
            "postgresql:///db?host=/run/postgresql&schema=s&prepare_threshold=none",
            None,
            AUTO,
            ("postgresql:///db?host=/run/postgresql", "s", None),
        ),
        # a key=value conn string is psycopg's to read, as it is
        ("host=h dbname=db", "s", None, ("host=h dbname=db", "s", None)),
    ],
)
def test_postgres_options(
    url: str, schema: str | None, threshold: Any, expected: tuple[Any, ...]
) -> None:
    assert postgres_options(url, schema, threshold) == expected


@pytest.mark.parametrize(
    ("url", "schema", "threshold", "says"),
    [
        ("postgresql://u:secret@h/db?schema=a", "b", AUTO, "disagree"),
        ("postgresql://u:secret@h/db?prepare_threshold=none", None, 0, "disagree"),
        ("postgresql://u:secret@h/db?prepare_threshold=0", None, None, "disagree"),
        (
            "postgresql://u:secret@h/db?prepare_threshold=never",
            None,
            AUTO,
            "none, auto or a number",
        ),
        ("postgresql://u:secret@h/db?prepare_threshold=-1", None, AUTO, "none, auto or a number"),
        ("postgresql://u:secret@h/db?prepare_threshold=1&prepare_threshold=1", None, AUTO, "once"),
        ("postgresql://u:secret@h/db?schema=", None, AUTO, "needs a name"),
    ],
)
def test_postgres_options_reject_and_hide_the_password(
    url: str, schema: str | None, threshold: Any, says: str
) -> None:
    with pytest.raises(InvalidConfigError, match=says) as caught:
        postgres_options(url, schema, threshold)
    assert "secret" not in str(caught.value)


def test_split_schema_takes_out_the_schema_alone() -> None:
    url = "postgresql://u@h/db?prepare_threshold=none&schema=s"
    assert split_schema(url) == ("postgresql://u@h/db?prepare_threshold=none", "s")


# --- from_conn_string on a real server --------------------------------------------------------


def test_sync_from_conn_string_takes_the_schema_from_the_url(pg_url: str, schema: str) -> None:
    with PostgresSaver.from_conn_string(with_query(pg_url, f"schema={schema}")) as cp:
        cp.setup()
        cp.put(*put_args(1, None))
        assert cp.dialect.schema == schema
        assert cp.get_tuple(at()).checkpoint["id"] == checkpoint_id(1)
    assert "history_checkpoints" in tables_in(pg_url, schema)


async def test_async_from_conn_string_takes_the_schema_from_the_url(
    pg_url: str, schema: str
) -> None:
    url = with_query(pg_url, f"schema={schema}&prepare_threshold=none")
    async with AsyncPostgresSaver.from_conn_string(url, schema=schema, pool_size=2) as cp:
        await cp.setup()
        await cp.aput(*put_args(1, None))
        assert cp.conn.kwargs["prepare_threshold"] is None  # type: ignore[union-attr]
    assert "history_checkpoints" in tables_in(pg_url, schema)


def test_schema_in_the_url_and_the_argument_must_agree(pg_url: str, schema: str) -> None:
    with pytest.raises(InvalidConfigError, match="disagree"):
        PostgresSaver.from_conn_string(with_query(pg_url, f"schema={schema}"), schema="other")
    with pytest.raises(InvalidConfigError, match="disagree"):
        AsyncPostgresSaver.from_conn_string(
            with_query(pg_url, "prepare_threshold=none"), prepare_threshold=0
        )


@pytest.mark.parametrize(
    ("query", "kwargs", "threshold"),
    [
        ("", {}, 0),  # the default: prepare, as before, on a direct connection
        ("", {"prepare_threshold": None}, None),
        ("prepare_threshold=none", {}, None),
        ("prepare_threshold=3", {}, 3),
        ("prepare_threshold=auto", {}, 0),
    ],
)
def test_prepare_threshold_on_a_direct_connection(
    query: str, kwargs: dict[str, Any], threshold: int | None, pg_url: str, schema: str
) -> None:
    url = with_query(pg_url, query) if query else pg_url
    with PostgresSaver.from_conn_string(url, schema=schema, **kwargs) as cp:
        cp.setup()
        conn = cp.conn
        assert isinstance(conn, psycopg.Connection)
        assert conn.prepare_threshold == threshold


def test_cli_urls_take_schema_and_prepare_threshold(pg_url: str, schema: str) -> None:
    url = with_query(pg_url, f"schema={schema}&prepare_threshold=none")
    with open_saver(url, create=True) as cp:
        cp.setup()
        assert isinstance(cp, PostgresSaver)
        assert cp.dialect.schema == schema
        conn = cp.conn
        assert isinstance(conn, psycopg.Connection)
        assert conn.prepare_threshold is None
    with open_saver(url) as cp:  # setup() ran in that schema: it opens without create
        assert cp.schema_version() is not None
