"""Driver exceptions become saver errors that say what happened, once for every executor."""

from __future__ import annotations

import re
import sqlite3

import psycopg
import psycopg_pool

from saver.errors import (
    InvalidConfigError,
    SaverClosedError,
    StorageError,
    TransientStorageError,
)

SQLITE_ERRORS = (sqlite3.Error, ValueError)
POSTGRES_ERRORS = (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed)


def from_sqlite(exc: BaseException) -> StorageError:
    text = str(exc)
    if "closed" in text.lower() or "no active connection" in text:
        return SaverClosedError(f"the SQLite connection is closed: {text}")
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return TransientStorageError(f"SQLite stayed busy past the busy timeout: {text}")
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return StorageError(f"the file is not a SQLite database: {text}")
    return StorageError(f"SQLite error: {text}")


def from_postgres(exc: BaseException, can_reconnect: bool = True) -> StorageError:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, psycopg_pool.PoolClosed) or (
        isinstance(exc, psycopg.InterfaceError) and "closed" in text
    ):
        return SaverClosedError(f"the PostgreSQL connection or pool is closed: {text}")
    if isinstance(exc, (psycopg.OperationalError, psycopg_pool.PoolTimeout)):
        then = (
            "the next call reconnects"
            if can_reconnect
            else "this saver cannot reopen a connection it was given; pass a new one"
        )
        return TransientStorageError(f"PostgreSQL connection lost or unavailable ({text}); {then}")
    if isinstance(exc, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)):
        return TransientStorageError(
            f"PostgreSQL: a concurrent change got in the way; retry: {text}"
        )
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return StorageError(f"saver tables are missing; call setup() first: {text}")
    return StorageError(f"PostgreSQL error: {text}")


def open_error(url: str, exc: BaseException) -> StorageError:
    text = redact(str(exc).strip())
    # libpq says "invalid ... value" for a URL no retry can fix (a port that is not a number).
    if isinstance(exc, (psycopg.ProgrammingError, ValueError)) or "invalid" in text:
        return InvalidConfigError(f"malformed PostgreSQL URL {redact(url)!r}: {text}")
    return TransientStorageError(f"cannot connect to PostgreSQL at {redact(url)!r}: {text}")


def redact(text: str) -> str:
    """Hide passwords, in URL or key=value form, before text goes into a message."""
    text = re.sub(r"(://[^:/@\s]*:)[^\s/]*@", r"\1***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)
