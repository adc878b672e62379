"""The storage a CLI test points the command line at: a fresh SQLite file, or a fresh
PostgreSQL schema dropped when the test (or module) ends, with the URL the command gets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from saver import PostgresSaver, SqliteSaver
from tests.pg import server_url
from tests.support import drop_schema

KINDS = ("sqlite", "postgres")


@dataclass
class Store:
    path: str  # the SQLite file, or the PostgreSQL server URL (what raw_rows reads)
    schema: str | None
    url: str  # what the command line gets

    def open(self, namespace: str = "") -> AbstractContextManager[Any]:
        """Our saver on this storage."""
        if self.schema is None:
            return SqliteSaver.from_conn_string(self.path, namespace=namespace)
        return PostgresSaver.from_conn_string(self.path, schema=self.schema, namespace=namespace)

    def table(self, name: str) -> str:
        """A table's name as raw SQL on this storage must write it."""
        return f'"{self.schema}".{name}' if self.schema else name


S = TypeVar("S", bound=Store)


def with_schema(url: str, schema: str) -> str:
    """A PostgreSQL URL that names the schema, as the command line reads it."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def make_store(
    kind: str,
    where: Path,
    finalize: Callable[[Callable[[], None]], Any],
    cls: type[S] = Store,  # type: ignore[assignment]
) -> S:
    """An empty store of `kind` ("sqlite": a new file in `where`; "postgres": a new schema,
    dropped through `finalize`, a request's addfinalizer)."""
    if kind == "sqlite":
        path = str(where / f"history-{uuid.uuid4().hex[:8]}.db")
        return cls(path, None, f"sqlite:///{path}")  # an absolute path: sqlite:////tmp/...
    url, schema = server_url(), f"t_{uuid.uuid4().hex[:16]}"
    finalize(lambda: drop_schema(url, schema))
    return cls(url, schema, with_schema(url, schema))
