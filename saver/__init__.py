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
from saver.io._async.postgres import AsyncPostgresSaver
from saver.io._async.sqlite import AsyncSqliteSaver
from saver.io._sync.postgres import PostgresSaver
from saver.io._sync.sqlite import SqliteSaver
from saver.retention.policy import RetentionPolicy, parse_duration
from saver.retention.sweep import CleanupReport

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
