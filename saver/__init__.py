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

__all__ = [
    "AsyncPostgresSaver",
    "AsyncSqliteSaver",
    "CorruptRowError",
    "InvalidConfigError",
    "PostgresSaver",
    "SaverClosedError",
    "SqliteSaver",
    "StorageError",
    "TransientStorageError",
]
