"""Driver exceptions become saver errors that say what happened, once for every executor.

TransientStorageError means the same call can work if made again: the connection was lost
(the next call reconnects), the server was briefly unable to take it, or a concurrent
transaction or lock got in the way. Everything else is a plain StorageError saying what is
wrong and what to do, since retrying would fail the same way.

PostgreSQL, by SQLSTATE (a driver error without one is the client's own):

    08xxx  connection exception                        transient: connection lost
    57P01  admin_shutdown (pg_terminate_backend)       transient: connection lost
    57P02  crash_shutdown                              transient: connection lost
    57P05  idle_session_timeout                        transient: connection lost
    25P03  idle_in_transaction_session_timeout         transient: connection lost
    57P03  cannot_connect_now (starting/shutting down) transient: server unavailable
    53300  too_many_connections                        transient: server unavailable
    40001  serialization_failure                       transient: retry
    40P01  deadlock_detected                           transient: retry
    55P03  lock_not_available (lock_timeout)           transient: retry
    none   OperationalError from the client (server    transient: connection lost, unless
           closed the connection, a reconnect failed)  the server refused it for good (below)
    57014  query_canceled (statement_timeout, cancel)  permanent: a retry meets the same limit
    3D000  database does not exist                     permanent
    3F000, 42P01  schema / table missing               permanent: call setup()
    42501  insufficient_privilege                      permanent
    54xxx  program_limit_exceeded (index row size)     permanent
    anything else                                      permanent

A statement_timeout (57014) is permanent: the same statement meets the same limit again, and
retry loops would add load to a server already too slow for it. Waiting for a lock surfaces
as 55P03, retryable, when lock_timeout is set.

SQLite, by result code (or its text, before Python 3.11): BUSY and LOCKED (busy past the
busy timeout) transient; READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB permanent, each
saying what to check; a closed connection is SaverClosedError.
"""

from __future__ import annotations

import re
import sqlite3

from saver.errors import (
    InvalidConfigError,
    SaverClosedError,
    StorageError,
    TransientStorageError,
)

SQLITE_ERRORS = (sqlite3.Error, ValueError)

# Longest driver text a message quotes: a server's message can quote a value of any size.
QUOTED = 300

# --- SQLite ---------------------------------------------------------------------------------

# Primary result codes (sqlite3.h), read from `sqlite_errorcode` (Python 3.11+); the texts
# are what SQLite says for each, for older Pythons.
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
SQLITE_PERMANENT = {
    8: (
        "attempt to write a readonly database",
        "the SQLite file is read-only; check the permissions of the file and of its folder "
        "(SQLite writes -wal and -shm files beside it)",
    ),
    10: (
        "disk i/o error",
        "SQLite could not read or write the file (disk I/O error); check the disk and the file",
    ),
    11: ("malformed", "the SQLite file is corrupt; restore it from a backup"),
    13: ("database or disk is full", "the disk holding the SQLite file is full"),
    14: (
        "unable to open database file",
        "SQLite cannot open the file; check its path and permissions",
    ),
    26: ("not a database", "the file is not a SQLite database"),
}


# SQLITE_IOERR_WRITE: a write failed, which is how a file at its size limit (EFBIG, a ulimit
# or a filesystem's) shows; a full disk is SQLITE_FULL.
SQLITE_IOERR_WRITE = 778
WRITE_FAILED = (
    "SQLite could not write the file: the disk is full, the file reached a size limit "
    "(ulimit -f, the filesystem's), or the disk failed"
)


def from_sqlite(exc: BaseException) -> StorageError:
    text = str(exc)
    lowered = text.lower()
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if code == SQLITE_IOERR_WRITE:
        return StorageError(f"{WRITE_FAILED}: {text}")
    if "closed" in lowered or "no active connection" in text:
        return SaverClosedError(f"the SQLite connection is closed: {text}")
    if primary in (SQLITE_BUSY, SQLITE_LOCKED) or (
        primary is None
        and isinstance(exc, sqlite3.OperationalError)
        and ("locked" in lowered or "busy" in lowered)
    ):
        return TransientStorageError(f"SQLite stayed busy past the busy timeout; retry: {text}")
    for known, (says, what) in SQLITE_PERMANENT.items():
        if primary == known or (primary is None and says in lowered):
            return StorageError(f"{what}: {text}")
    if "no such table" in lowered:
        return StorageError(f"the saver's tables are missing; call setup() first: {text}")
    return StorageError(f"SQLite error: {text}")


# --- PostgreSQL -----------------------------------------------------------------------------

# SQLSTATEs after which the server has closed the connection.
CONNECTION_ENDED = {
    "57P01": "the server terminated the connection",
    "57P02": "the server crashed",
    "57P05": "the server closed the idle session (idle_session_timeout)",
    "25P03": "the server closed the idle transaction (idle_in_transaction_session_timeout)",
}
# SQLSTATEs of a server that could not take the connection just now.
SERVER_BUSY = {
    "57P03": "the server is starting up or shutting down",
    "53300": "the server has too many connections",
}
# SQLSTATEs after which a retry of the same call can succeed.
RETRY = {
    "40001": "a concurrent transaction got in the way (serialization failure)",
    "40P01": "a deadlock with another transaction (deadlock detected)",
    "55P03": "a lock was not available in time (lock_timeout)",
}
# Permanent SQLSTATEs (or their class, the first two characters): what went wrong and what to
# do about it.
PERMANENT = {
    "42P01": "the saver's tables are missing; call setup() first",
    "3F000": "the saver's schema is missing; call setup() first",
    "42703": "the saver's tables lack a column this version needs; call setup() to migrate",
    "3D000": "the database does not exist; create it or fix the database name",
    "57P04": "the database was dropped",
    "42501": "the PostgreSQL role lacks a privilege the saver needs; grant it",
    "57014": (
        "the statement was canceled (statement_timeout, or a cancel request); a retry would "
        "meet the same limit: raise statement_timeout, or set lock_timeout so that waiting "
        "for a lock is reported as retryable"
    ),
    "25006": "the server is read-only (a standby, or default_transaction_read_only is on)",
    "53100": "the PostgreSQL server is out of disk space",
    "53200": "the PostgreSQL server is out of memory",
    "54": (
        "a value is too large for PostgreSQL (an index row over its size limit, say); "
        "use shorter ids, channel names or namespaces"
    ),
    "22": "PostgreSQL rejected a value",
    "23": "a row broke a constraint on the saver's tables",
    "58": "the PostgreSQL server had a system or disk I/O error",
    "XX": "the PostgreSQL server reported an internal error (corrupt data, say)",
}
# What a server says when it refuses a connection for good (at connect, or on a reconnect);
# libpq reports these without a SQLSTATE.
REFUSED = (
    (
        re.compile(r'database "(?P<name>[^"]*)" does not exist'),
        "PostgreSQL database {q} does not exist; create it (CREATE DATABASE) or fix the "
        "database name in the URL",
    ),
    (
        re.compile(r'role "(?P<name>[^"]*)" does not exist'),
        "PostgreSQL role {q} does not exist; create it or fix the user name in the URL",
    ),
    (
        re.compile(r'authentication failed for user "(?P<name>[^"]*)"'),
        "PostgreSQL refused the password of user {q}; fix the user or password",
    ),
    (
        re.compile(r"no pg_hba\.conf entry"),
        "the PostgreSQL server does not accept this host, user or database (pg_hba.conf)",
    ),
    (
        re.compile(r'permission denied for database "(?P<name>[^"]*)"'),
        "the PostgreSQL user may not connect to database {q} (CONNECT privilege)",
    ),
)


def postgres_errors() -> tuple[type[BaseException], ...]:
    """What psycopg raises (nothing where it is not installed): imported here, not at the
    top, so a SQLite-only install can import this module."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        return ()

    return (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed)


def from_postgres(exc: BaseException, can_reconnect: bool = True) -> StorageError:
    import psycopg
    import psycopg_pool

    text = said(exc)
    state = getattr(exc, "sqlstate", None)
    if isinstance(exc, psycopg_pool.PoolClosed) or (
        isinstance(exc, psycopg.InterfaceError) and "closed" in text
    ):
        return SaverClosedError(f"the PostgreSQL connection or pool is closed: {text}")
    then = (
        "the next call reconnects"
        if can_reconnect
        else "this saver cannot reopen a connection it was given; pass a new one"
    )
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return TransientStorageError(
            f"PostgreSQL connection lost or unavailable (no connection from the pool in "
            f"time: {text}); {then}"
        )
    if state is None and isinstance(exc, psycopg.OperationalError):
        if isinstance(exc, psycopg.errors.PipelineAborted):  # the error is an earlier one's
            return StorageError(f"PostgreSQL error: {text}")
        refused = refusal(text)
        if refused is not None:
            return StorageError(refused)
        return TransientStorageError(f"PostgreSQL connection lost or unavailable ({text}); {then}")
    if state is None:
        return StorageError(f"PostgreSQL error ({type(exc).__name__}): {text}")
    return by_sqlstate(state, text, then, type(exc).__name__)


def by_sqlstate(state: str, text: str, then: str, name: str = "") -> StorageError:
    """The error for a PostgreSQL error with SQLSTATE `state` whatever the driver: `text` is
    what the server said (its primary message), `then` what happens on the next call after
    a lost connection, `name` the driver's name for the error."""
    if state.startswith("08") or state in CONNECTION_ENDED:
        why = CONNECTION_ENDED.get(state, "connection failure")
        return TransientStorageError(
            f"PostgreSQL connection lost or unavailable ({why}: {text}); {then}"
        )
    if state in SERVER_BUSY:
        return TransientStorageError(
            f"PostgreSQL connection lost or unavailable ({SERVER_BUSY[state]}: {text}); {then}"
        )
    if state in RETRY:
        return TransientStorageError(f"PostgreSQL: {RETRY[state]}; retry: {text}")
    what = PERMANENT.get(state) or PERMANENT.get(state[:2]) or "PostgreSQL error"
    return StorageError(f"{what} [SQLSTATE {state}{' ' + name if name else ''}]: {text}")


def said(exc: BaseException) -> str:
    """What the driver said, without what could be large or secret: a server error's primary
    message (its DETAIL can quote a whole row), or the client's text, passwords hidden,
    whitespace collapsed, cut at QUOTED characters. Never the statement."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = " ".join((primary or str(exc)).split()) or type(exc).__name__
    text = redact(text)
    return text if len(text) <= QUOTED else text[: QUOTED - 3] + "..."


def refusal(text: str) -> str | None:
    """The message for a server that refused the connection for good, or None."""
    for pattern, message in REFUSED:
        found = pattern.search(text)
        if found is not None:
            name = found.groupdict().get("name")
            return message.format(q=f'"{name}"' if name is not None else "")
    return None


def open_error(url: str, exc: BaseException) -> StorageError:
    import psycopg

    text = said(exc)
    where = redact(url)
    # libpq says "invalid ... value" for a URL no retry can fix (a port that is not a number).
    if isinstance(exc, (psycopg.ProgrammingError, ValueError)) or "invalid" in text:
        return InvalidConfigError(f"malformed PostgreSQL URL {where!r}: {text}")
    refused = refusal(text)
    if refused is not None:
        return StorageError(f"cannot connect to PostgreSQL at {where!r}: {refused}")
    return TransientStorageError(f"cannot connect to PostgreSQL at {where!r}: {text}")


def redact(text: str) -> str:
    """Hide passwords, in URL or key=value form, before text goes into a message."""
    # Up to the last "@" of the URL: a password may hold "/" or "@" unencoded.
    text = re.sub(r"(://[^:/@\s]*:)\S*@", r"\1***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)
