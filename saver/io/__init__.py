"""Executors that drive core plans over a real connection, and the saver classes on top.

`_async/` is the source; `_sync/` is generated from it by scripts/unasync.py. Code outside
this package imports the classes from here, never from `_sync` or `_async`.
"""

from saver.io._async.postgres import AsyncPostgresSaver
from saver.io._async.saver import AsyncHistorySaver
from saver.io._async.sqlite import AsyncSqliteSaver
from saver.io._sync.postgres import PostgresSaver
from saver.io._sync.saver import HistorySaver
from saver.io._sync.sqlite import SqliteSaver

__all__ = [
    "AsyncHistorySaver",
    "AsyncPostgresSaver",
    "AsyncSqliteSaver",
    "HistorySaver",
    "PostgresSaver",
    "SqliteSaver",
]
