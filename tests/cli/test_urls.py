"""How a URL names a store: pure parsing, no database."""

from __future__ import annotations

import pytest

from saver.cli.urls import split_schema, sqlite_path
from saver.errors import InvalidConfigError


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///history.db", "history.db"),
        ("sqlite:///data/history.db", "data/history.db"),
        ("sqlite:////srv/app/history.db", "/srv/app/history.db"),
        ("SQLITE:///history.db", "history.db"),
    ],
)
def test_sqlite_path(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://history.db", "sqlite:history.db"])
def test_sqlite_path_rejects(url: str) -> None:
    with pytest.raises(InvalidConfigError, match="sqlite:///"):
        sqlite_path(url)


@pytest.mark.parametrize(
    ("url", "conn_string", "schema"),
    [
        ("postgresql://u@h/db", "postgresql://u@h/db", None),
        ("postgresql://u@h/db?schema=agents", "postgresql://u@h/db", "agents"),
        (
            "postgres://u:pw@h:5432/db?sslmode=require&schema=agents&connect_timeout=5",
            "postgres://u:pw@h:5432/db?sslmode=require&connect_timeout=5",
            "agents",
        ),
        # no host: urlunsplit would have made this postgresql:/db
        (
            "postgresql:///db?host=/var/run/postgresql&schema=s",
            "postgresql:///db?host=/var/run/postgresql",
            "s",
        ),
        ("postgresql://h1:5432,h2:5433/db?schema=s", "postgresql://h1:5432,h2:5433/db", "s"),
    ],
)
def test_split_schema(url: str, conn_string: str, schema: str | None) -> None:
    assert split_schema(url) == (conn_string, schema)


@pytest.mark.parametrize(
    "url", ["postgresql://u:secret@h/db?schema=", "postgresql://u:secret@h/db?schema=a&schema=b"]
)
def test_split_schema_rejects_and_hides_the_password(url: str) -> None:
    with pytest.raises(InvalidConfigError, match="schema") as caught:
        split_schema(url)
    assert "secret" not in str(caught.value)
