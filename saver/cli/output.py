"""Where output goes: results on stdout (a table, or JSON), progress and errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.filesize import decimal


def stdout() -> Console:
    return Console(file=sys.stdout, highlight=False)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False)


def interactive() -> bool:
    """A person is watching (stderr is a terminal): worth drawing progress for."""
    return sys.stderr.isatty()


def print_json(data: Any) -> None:
    """One JSON document on one line, and nothing else, so `| jq` always works."""
    sys.stdout.write(json.dumps(data) + "\n")


def human_bytes(size: int) -> str:
    """`532 bytes`, `12.3 kB`, `4.1 MB` (powers of 1000)."""
    return decimal(size)
