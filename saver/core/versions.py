"""Channel version strings (no I/O): short, and only ever growing as strings compare.

A version is `b` `kc` `.` `3v0q9zk1mx`: a letter giving how many base-36 digits follow (a = 1,
b = 2, ...), the step counter in those digits, then 10 random base-36 digits (about 52 bits) so
two forks of one step, or two processes, never name the same blob. Lowercase letters and
digits only, and the '.' at the same place in any two versions whose first letters tie, so
byte order and a database's collation (even one that skips punctuation) agree.

Older strings are all digits: ours before (10 digits then 48 random hex bits) and LangGraph's
SQL savers' (32 digits). A letter sorts after any digit, so a thread that holds them moves on
to this form and its versions still only grow; LangGraph's 32-digit form is kept where a thread
has it, as LangGraph's own savers continue it.
"""

from __future__ import annotations

import random
import string

DIGITS = string.digits + string.ascii_lowercase
SUFFIX_DIGITS = 10
LONG_DIGITS = 32  # LangGraph's SQL savers


def base36(n: int) -> str:
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = DIGITS[digit] + out
        if not n:
            return out


def counter(version: str | int | None) -> int:
    """The step counter a version carries (0 for none)."""
    if version is None:
        return 0
    if isinstance(version, int):
        return version
    head = str(version).split(".")[0]
    if head[:1].isalpha():
        return int(head[1:], 36)
    return int(head)


def next_version(current: str | int | None) -> str:
    """The version after `current` (the highest a checkpoint holds, or None)."""
    n = counter(current) + 1
    if isinstance(current, str) and len(current.split(".")[0]) == LONG_DIGITS:
        return f"{n:0{LONG_DIGITS}}.{random.random():016}"
    digits = base36(n)
    suffix = "".join(random.choices(DIGITS, k=SUFFIX_DIGITS))
    return f"{DIGITS[9 + len(digits)]}{digits}.{suffix}"
