"""Driver exceptions become saver errors that say what happened, once for every executor."""

from __future__ import annotations

import sqlite3

from saver.errors import SaverClosedError, StorageError, TransientStorageError


def from_sqlite(exc: BaseException) -> StorageError:
    text = str(exc)
    if "closed" in text.lower() or "no active connection" in text:
        return SaverClosedError(f"the SQLite connection is closed: {text}")
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return TransientStorageError(f"SQLite stayed busy past the busy timeout: {text}")
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return StorageError(f"the file is not a SQLite database: {text}")
    return StorageError(f"SQLite error: {text}")


SQLITE_ERRORS = (sqlite3.Error, ValueError)
