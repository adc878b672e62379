"""saver.io.errors.from_postgres, error by error: TransientStorageError only where the same
call can work again, a plain StorageError naming the problem everywhere else. The errors are
psycopg's own classes, built as psycopg builds them from a server's SQLSTATE (the saver tests
meet the same errors from a real server: tests/savers/_async/test_error_kinds.py)."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest

from saver.errors import SaverClosedError, StorageError, TransientStorageError
from saver.io.errors import from_postgres, open_error, redact

# SQLSTATE -> what the server says with it.
TRANSIENT = {
    "08000": "connection exception",
    "08006": "connection failure",
    "57P01": "terminating connection due to administrator command",
    "57P02": "terminating connection because of crash of another server process",
    "57P03": "the database system is starting up",
    "57P05": "terminating connection due to idle-session timeout",
    "25P03": "terminating connection due to idle-in-transaction timeout",
    "53300": "sorry, too many clients already",
    "40001": "could not serialize access due to concurrent update",
    "40P01": "deadlock detected",
    "55P03": "canceling statement due to lock timeout",
}
# SQLSTATE -> (what the server says, what the message must say).
PERMANENT = {
    "54000": (
        "index row requires 10040 bytes, maximum size is 8191",
        "too large for PostgreSQL",
    ),
    "57014": ("canceling statement due to statement timeout", "statement_timeout"),
    "3D000": ('database "nope" does not exist', "database does not exist"),
    "42P01": ('relation "history_blobs" does not exist', "setup()"),
    "3F000": ('schema "s" does not exist', "setup()"),
    "42501": ("permission denied for table history_checkpoints", "privilege"),
    "53100": ("could not extend file: No space left on device", "disk space"),
    "25006": ("cannot execute INSERT in a read-only transaction", "read-only"),
    "57P04": ('terminating connection because database "x" was dropped', "dropped"),
    "23505": ("duplicate key value violates unique constraint", "constraint"),
    "XX001": ("invalid page in block 7 of relation base/5/16384", "internal error"),
}


@pytest.mark.parametrize("state", list(TRANSIENT))
def test_a_retryable_sqlstate_is_a_transient_storage_error(state: str) -> None:
    exc = psycopg.errors.lookup(state)(TRANSIENT[state])
    error = from_postgres(exc)
    assert isinstance(error, TransientStorageError), error
    assert TRANSIENT[state] in str(error)


@pytest.mark.parametrize("state", list(PERMANENT))
def test_any_other_sqlstate_is_a_permanent_storage_error_naming_the_problem(state: str) -> None:
    said, named = PERMANENT[state]
    error = from_postgres(psycopg.errors.lookup(state)(said))
    assert isinstance(error, StorageError)
    assert not isinstance(error, TransientStorageError), error
    assert named in str(error)
    assert said in str(error)
    assert state in str(error)


@pytest.mark.parametrize(
    "said",
    [
        "consuming input failed: server closed the connection unexpectedly",
        "the connection is lost",
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused",
    ],
)
def test_a_client_side_connection_error_is_transient_and_says_the_connection_was_lost(
    said: str,
) -> None:
    error = from_postgres(psycopg.OperationalError(said))
    assert isinstance(error, TransientStorageError), error
    assert "connection lost" in str(error)
    assert "the next call reconnects" in str(error)


def test_a_lost_connection_the_saver_cannot_reopen_says_to_pass_a_new_one() -> None:
    error = from_postgres(psycopg.OperationalError("the connection is lost"), can_reconnect=False)
    assert isinstance(error, TransientStorageError)
    assert "pass a new one" in str(error)


def test_a_reconnect_refused_for_a_missing_database_is_permanent_naming_it() -> None:
    said = (
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  database "gone" does not exist'
    )
    error = from_postgres(psycopg.OperationalError(said))
    assert not isinstance(error, TransientStorageError), error
    assert 'database "gone" does not exist' in str(error)


def test_a_pool_timeout_is_transient() -> None:
    error = from_postgres(psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec"))
    assert isinstance(error, TransientStorageError)


def test_a_closed_pool_is_a_saver_closed_error() -> None:
    assert isinstance(
        from_postgres(psycopg_pool.PoolClosed("the pool is closed")), SaverClosedError
    )


def test_a_long_server_message_is_cut_short() -> None:
    said = 'invalid input syntax for type json: "' + "x" * 100_000 + '"'
    error = from_postgres(psycopg.errors.lookup("22P02")(said))
    assert not isinstance(error, TransientStorageError)
    assert len(str(error)) < 1000


@pytest.mark.parametrize(
    ("said", "named"),
    [
        ('FATAL:  role "ghost" does not exist', 'role "ghost" does not exist'),
        ('FATAL:  password authentication failed for user "ann"', 'user "ann"'),
        ("FATAL:  no pg_hba.conf entry for host", "pg_hba.conf"),
    ],
)
def test_a_connection_refused_for_good_at_open_is_permanent(said: str, named: str) -> None:
    url = "postgresql://ann:s3cret@127.0.0.1:5432/db"
    error = open_error(url, psycopg.OperationalError(f"connection failed: {said}"))
    assert not isinstance(error, TransientStorageError), error
    assert named in str(error)
    assert "s3cret" not in str(error)


def test_a_server_starting_up_at_open_is_transient() -> None:
    said = "connection failed: FATAL:  the database system is starting up"
    error = open_error("postgresql://127.0.0.1/db", psycopg.OperationalError(said))
    assert isinstance(error, TransientStorageError)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:se/cret@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:secret@h:5432/db?x=1", "postgresql://u:***@h:5432/db?x=1"),
        ("host=h password=abc user=u", "host=h password=*** user=u"),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
    ],
)
def test_redact_hides_every_password_shape(url: str, shown: str) -> None:
    assert redact(url) == shown
