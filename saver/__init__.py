"""langgraph-checkpoint-history: every step of every LangGraph thread, in SQLite or PostgreSQL.

from saver import SqliteSaver, AsyncSqliteSaver
"""

from saver.errors import (
    CorruptRowError,
    InvalidConfigError,
    SaverClosedError,
    StorageError,
    TransientStorageError,
)
from saver.io import AsyncPostgresSaver, AsyncSqliteSaver, PostgresSaver, SqliteSaver
from saver.retention.job import CleanupReport
from saver.retention.policy import RetentionPolicy, parse_duration

__all__ = [
    "AsyncPostgresSaver",
    "AsyncSqliteSaver",
    "CleanupReport",
    "CorruptRowError",
    "InvalidConfigError",
    "PostgresSaver",
    "RetentionPolicy",
    "SaverClosedError",
    "SqliteSaver",
    "StorageError",
    "TransientStorageError",
    "parse_duration",
]
