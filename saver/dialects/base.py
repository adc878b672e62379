"""What a dialect provides: statement texts, and builders for the few dynamic ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from saver.core.filters import Leaf


@dataclass(frozen=True)
class Stmt:
    """One statement for an executor: `many` runs it once per params row and returns nothing."""

    sql: str
    params: Any = ()
    many: bool = False


def load_migrations(dialect: str) -> list[tuple[int, list[str]]]:
    """Numbered .sql files, split into statements on ';' at a line end."""
    folder = resources.files("saver.dialects").joinpath("migrations", dialect)
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        lines = [ln for ln in entry.read_text().splitlines() if not ln.strip().startswith("--")]
        statements = [s.strip() for s in "\n".join(lines).split(";\n") if s.strip()]
        out.append((int(entry.name.split("_", 1)[0]), [s.rstrip(";") for s in statements]))
    return out


class Dialect:
    """Base for dialects; subclasses fill in every UPPER_SNAKE statement and builder."""

    name: str
    MIGRATIONS: list[tuple[int, list[str]]]
    CREATE_MIGRATIONS_TABLE: str
    LOCK_MIGRATIONS: str | None
    SELECT_SCHEMA_VERSION: str
    INSERT_SCHEMA_VERSION: str
    UPSERT_CHECKPOINT: str
    INSERT_BLOB: str
    UPSERT_WRITE: str
    INSERT_WRITE: str
    SELECT_TUPLE_LATEST: str
    SELECT_TUPLE_BY_ID: str
    SELECT_LATEST_ID: str
    DELETE_THREAD: tuple[str, ...]
    COUNT_THREAD: str
    COPY_THREAD: tuple[str, ...]
    SELECT_RUN_CHECKPOINTS: str
    SELECT_THREAD_GRAPH: str
    SELECT_THREAD_BLOB_KEYS: str
    DELETE_CHECKPOINTS: str
    DELETE_WRITES_OF: str
    DELETE_BLOBS: str
    SELECT_ANCESTORS: str
    SELECT_BLOB_KEYS_AMONG: str
    SELECT_BLOBS: str
    SELECT_CHANNEL_WRITES: str

    def array(self, values: list[Any]) -> Any:
        """A list parameter, in the form this dialect's `ANY`/`json_each` reads."""
        raise NotImplementedError

    def keys(self, rows: Sequence[tuple[str, ...]]) -> Any:
        """A list of key tuples, as one parameter this dialect can unpack into columns."""
        raise NotImplementedError

    def select_page(self, where: list[str]) -> str:
        raise NotImplementedError

    def list_where(
        self,
        namespace: str,
        thread_id: str | None,
        checkpoint_ns: str | None,
        checkpoint_id: str | None,
        before_id: str | None,
        leaves: list[Leaf],
        after: tuple[str, str, str] | None,
    ) -> tuple[list[str], list[Any]]:
        raise NotImplementedError
