"""Run the `saver` console script: captured (`saver_cli`), or with stderr on a pseudo-terminal,
as a person would see it (`run_on_terminal`)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("saver")


def saver_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, module: bool = False
) -> subprocess.CompletedProcess[str]:
    """The command's exit code and output, captured; `module` runs `python -m saver` instead."""
    assert SCRIPT.exists(), f"no console script at {SCRIPT}: run .venv/bin/pip install -e ."
    command = [sys.executable, "-m", "saver"] if module else [str(SCRIPT)]
    environ = {k: v for k, v in os.environ.items() if k != "SAVER_URL"}
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        input=stdin if stdin is not None else "",
        env={**environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def run_on_terminal(*args: str) -> tuple[int, bytes, str]:
    """(exit code, what was drawn on the terminal, stdout)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "24"},
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    stdout, _ = proc.communicate(timeout=120)
    return proc.returncode, drawn, stdout
