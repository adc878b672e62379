"""Executors that drive core plans over a real connection, and the saver classes on top.

`_async/` is the source; `_sync/` is generated from it by scripts/unasync.py. Code outside
this package imports the classes from here, never from `_sync` or `_async`. The PostgreSQL
classes load on first use: a SQLite-only install has no psycopg.
"""

from typing import TYPE_CHECKING, Any

from saver.io._async.saver import AsyncHistorySaver
from saver.io._async.sqlite import AsyncSqliteSaver
from saver.io._sync.saver import HistorySaver
from saver.io._sync.sqlite import SqliteSaver

if TYPE_CHECKING:
    from saver.io._async.postgres import AsyncPostgresSaver
    from saver.io._sync.postgres import PostgresSaver

__all__ = [
    "AsyncHistorySaver",
    "AsyncPostgresSaver",
    "AsyncSqliteSaver",
    "HistorySaver",
    "PostgresSaver",
    "SqliteSaver",
]

POSTGRES_CLASSES = {
    "AsyncPostgresSaver": "saver.io._async.postgres",
    "PostgresSaver": "saver.io._sync.postgres",
}


def __getattr__(name: str) -> Any:
    if name not in POSTGRES_CLASSES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise ImportError(
            f"{name} needs psycopg: pip install 'langgraph-checkpoint-history[postgres]'"
        ) from None
    from importlib import import_module

    return getattr(import_module(POSTGRES_CLASSES[name]), name)
