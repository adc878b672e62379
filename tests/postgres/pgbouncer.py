"""A real pgbouncer in transaction pooling mode in front of the test server, as a subprocess
on a free port. scripts/install installs it (Debian's package); without it the tests that
need it fail saying so, never skip."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.pg import server_url

READY_WITHIN = 20.0  # seconds for pgbouncer to answer SELECT 1 through to the server


def binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(
            "pgbouncer is not installed, and these tests need a real one: run scripts/install "
            "(it runs apt-get install pgbouncer where it can), or install the pgbouncer package "
            "by hand",
            pytrace=False,
        )
    return found


@dataclass
class Bouncer:
    url: str  # postgresql://user@127.0.0.1:PORT/db, through pgbouncer
    log: Path

    def with_query(self, query: str) -> str:
        return f"{self.url}?{query}"

    def said(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'  # pgbouncer's auth_file quoting


def write_config(
    folder: Path, port: int, server_pool_size: int, reset_after_every_transaction: bool
) -> tuple[Path, str]:
    """pgbouncer.ini and userlist.txt in `folder`, for the test server; and the URL a client
    connects to."""
    upstream = conninfo_to_dict(server_url())
    user = str(upstream.get("user") or pwd.getpwuid(os.getuid()).pw_name)
    dbname = str(upstream.get("dbname") or user)
    host = str(upstream.get("host") or "127.0.0.1")
    server = f"host={host} port={upstream.get('port') or 5432}"
    (folder / "userlist.txt").write_text(
        f"{_quoted(user)} {_quoted(str(upstream.get('password') or ''))}\n"
    )
    lines = [
        "[databases]",
        f"* = {server}",  # any database name goes to the same server
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",  # TCP only: no socket file to clean up
        "auth_type = trust",  # the user must still be in auth_file
        f"auth_file = {folder / 'userlist.txt'}",
        "pool_mode = transaction",
        f"default_pool_size = {server_pool_size}",
        "max_client_conn = 100",
    ]
    if reset_after_every_transaction:
        # Every transaction then starts on a server session with nothing in it: no prepared
        # statement, setting, lock or plan survives from the one before.
        lines += ["server_reset_query = DISCARD ALL", "server_reset_query_always = 1"]
    ini = folder / "pgbouncer.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini, f"postgresql://{user}@127.0.0.1:{port}/{dbname}"


def command(ini: Path) -> list[str]:
    """pgbouncer refuses to run as root; as root it reads its files and then becomes `-u`."""
    if os.geteuid() != 0:
        return [binary(), str(ini)]
    try:
        user = pwd.getpwnam("postgres").pw_name
    except KeyError:
        user = "nobody"
    return [binary(), "-u", user, str(ini)]


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            conn.execute("SELECT 1", prepare=False)
        return True
    except psycopg.OperationalError:
        return False


@contextmanager
def running_pgbouncer(
    folder: Path, server_pool_size: int = 1, reset_after_every_transaction: bool = False
) -> Iterator[Bouncer]:
    """pgbouncer started on a free port, in transaction pooling mode with `server_pool_size`
    server connections, answering before this yields; stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # the free port can be taken before pgbouncer binds it
        ini, url = write_config(
            folder, free_port(), server_pool_size, reset_after_every_transaction
        )
        log = folder / f"pgbouncer-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(command(ini), stdout=out, stderr=subprocess.STDOUT)
        bouncer = Bouncer(url, log)
        try:
            deadline = time.monotonic() + READY_WITHIN
            while proc.poll() is None and time.monotonic() < deadline:
                if answers(url):
                    break
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.05)  # returns at once if pgbouncer exits
            else:
                if proc.poll() is not None and "in use" in bouncer.said():
                    continue  # another process took the port: try a new one
                pytest.fail(
                    f"pgbouncer did not answer at {url} within {READY_WITHIN:.0f} s "
                    f"(exit code {proc.poll()}); its log:\n{bouncer.said()}",
                    pytrace=False,
                )
            yield bouncer
            return
        finally:
            if proc.poll() is None:
                proc.terminate()  # SIGTERM: pgbouncer's fast shutdown
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    pytest.fail("pgbouncer could not bind a free port in 3 tries", pytrace=False)
