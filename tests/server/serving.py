"""`saver serve` as a real process on a free port, for the server tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
GRAPHS = "tests/server/graphs.py"
ALL_GRAPHS = ("approval", "echo", "tools", "nested", "failing", "held")
READY_WITHIN = 60.0  # seconds for a process to answer /healthz (imports, a first connection)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown, no release of what it holds."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def graph_options(names: Sequence[str] = ALL_GRAPHS) -> list[str]:
    return [f"--graph={name}={GRAPHS}:{name}" for name in names]


@contextmanager
def serving(
    url: str, *options: str, log_dir: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A `saver serve URL OPTIONS` process until the block ends."""
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    command = [sys.executable, "-m", "saver", "serve", url, f"--port={port}", *options]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: kill reaches its workers
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()


def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"saver serve exited {server.process.returncode}:\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # polling a starting process, not timing a behaviour
    raise RuntimeError(f"saver serve did not answer within {READY_WITHIN} s:\n{server.output()}")
