"""Run the `saver` console script with stderr on a pseudo-terminal, as a person would see it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("saver")


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
