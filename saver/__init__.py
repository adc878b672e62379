"""langgraph-checkpoint-history: every step of every LangGraph thread, in SQLite or PostgreSQL.

from saver import SqliteSaver, AsyncSqliteSaver
"""

from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from saver.core.retry import RetryPolicy
from saver.errors import (
    CorruptRowError,
    InvalidConfigError,
    SaverClosedError,
    StorageError,
    TransientStorageError,
)
from saver.io import AsyncSqliteSaver, SqliteSaver
from saver.retention.job import CleanupReport
from saver.retention.policy import RetentionPolicy, parse_duration

__all__ = [
    "AsyncSqliteSaver",
    "CleanupReport",
    "CorruptRowError",
    "InvalidConfigError",
    "RetentionPolicy",
    "RetryPolicy",
    "SaverClosedError",
    "SqliteSaver",
    "StorageError",
    "TransientStorageError",
    "parse_duration",
]
if find_spec("psycopg") is not None:  # (a star import must not fail where it is missing)
    __all__ += ["AsyncPostgresSaver", "PostgresSaver"]

if TYPE_CHECKING:
    from saver.io import AsyncPostgresSaver, PostgresSaver


def __getattr__(name: str) -> Any:
    """PostgresSaver and AsyncPostgresSaver load on first use (they need psycopg)."""
    import saver.io

    if name in saver.io.POSTGRES_CLASSES:
        return getattr(saver.io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
