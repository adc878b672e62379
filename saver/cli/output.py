"""Where output goes: results on stdout (a table, or JSON), progress and errors on stderr.

Ids (thread ids, checkpoint ids) are printed whole, on one line, in every table and tree, so
they can be copied into `show` or `diff`: other columns wrap, then `drop` columns go, and if
the ids alone are wider than the terminal the table is drawn wider (the terminal folds the
lines; each id is still one unbroken run of text)."""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.filesize import decimal
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

PADDING = 2  # a cell's blank either side, as Table draws it
WRAPPED_MIN = 10  # a column that wraps keeps at least this many characters (or its widest cell,
# or its header's longest word)


def stdout(at_least: int = 0) -> Console:
    """A console on stdout, as wide as the terminal (80 when not one, or $COLUMNS), and at
    least `at_least` characters wide."""
    console = Console(file=sys.stdout, highlight=False)
    if console.width < at_least:
        console = Console(file=sys.stdout, highlight=False, width=at_least)
    return console


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


def plain(text: str) -> Text:
    """`text` as it is: no console markup read into it (`[red]` in an id stays `[red]`)."""
    return Text(text)


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[RenderableType]],
    *,
    whole: Collection[str] = (),
    drop: Sequence[str] = (),
) -> None:
    """A table on stdout whose `whole` columns (ids) are never wrapped nor cut.

    While the table does not fit the terminal with every other column at least WRAPPED_MIN
    wide, the `drop` columns are left out, first first; if it still does not fit, it is drawn
    as wide as it needs. Strings are printed as they are (no markup)."""
    cells = [[plain(c) if isinstance(c, str) else c for c in row] for row in rows]
    console = stdout()
    natural = [
        _widest(console, [plain(header), *(row[i] for row in cells)])
        for i, header in enumerate(headers)
    ]

    least = [
        natural[i] if h in whole else min(natural[i], max(WRAPPED_MIN, *map(len, h.split())))
        for i, h in enumerate(headers)
    ]

    def needed(kept: Sequence[int]) -> int:
        return len(kept) + 1 + sum(PADDING + least[i] for i in kept)  # + the borders

    kept = list(range(len(headers)))
    for name in drop:
        if needed(kept) <= console.width:
            break
        kept.remove(headers.index(name))
    table = Table(*(Column(headers[i], no_wrap=headers[i] in whole) for i in kept))
    for row in cells:
        table.add_row(*(row[i] for i in kept))
    stdout(at_least=needed(kept)).print(table)


def _widest(console: Console, renderables: Sequence[RenderableType]) -> int:
    """The widest of `renderables` on one line, however wide the terminal."""
    options = console.options.update_width(1_000_000)
    return max(Measurement.get(console, options, r).maximum for r in renderables)
