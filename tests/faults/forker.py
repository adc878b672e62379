"""Parent side of worker.py: start the fork server, start jobs, kill them, collect what
they said. Every wait is bounded (WAIT seconds); nothing sleeps."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # the most any single wait on the fork server or a child may take


class Forker:
    def __init__(self, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        with stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.worker"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                bufsize=1,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.running: int | None = None  # the pid of the child not yet reported ended
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        kind, _ = self.next()
        assert kind == "ready", self.describe()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def describe(self) -> str:
        tail = "\n".join(self.seen[-20:])
        return (
            f"fork server (exit {self.proc.poll()}); last lines:\n{tail}\n"
            f"stderr:\n{self.stderr_path.read_text()[-4000:]}"
        )

    def next(self) -> tuple[str, Any]:
        """The next line, as (kind, payload)."""
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no output for {WAIT}s from the {self.describe()}")
        if line is None:
            self.lines.put(None)
            pytest.fail(f"the fork server's stdout closed: {self.describe()}")
        self.seen.append(line)
        kind, _, payload = line.partition(" ")
        return kind, json.loads(payload) if payload else None

    def start(self, job: dict[str, Any]) -> int:
        """Fork a child running `job`; returns its pid. A child an earlier (failed) test
        left running is killed first, so its lines cannot pass for this one's."""
        if self.running is not None:
            self.kill(self.running)
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        kind, pid = self.next()
        assert kind == "pid", self.describe()
        self.running = int(pid)
        return self.running

    def finish(self) -> tuple[list[tuple[str, Any]], int]:
        """Every line the running child says until it ends, and its exit code."""
        said = []
        while (line := self.next())[0] != "exited":
            said.append(line)
        self.running = None
        return said, int(line[1])

    def kill(self, pid: int) -> tuple[list[tuple[str, Any]], int]:
        """SIGKILL the running child; what it said before it died, and its exit code."""
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
            os.kill(pid, signal.SIGKILL)
        return self.finish()

    def close(self) -> None:
        if self.running is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.running, signal.SIGKILL)
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the server ends at end of input
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=WAIT)
        self.pump.join(timeout=WAIT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
