"""Option value types and positional arguments: argparse reports a bad value as a usage error
(exit 2) before a command runs, so nothing is opened, let alone deleted."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

from saver.errors import InvalidConfigError
from saver.io.errors import redact
from saver.retention.policy import parse_duration

URL = re.compile(r"([a-z][a-z0-9+.-]*://|sqlite:|postgres(ql)?:)", re.IGNORECASE)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def duration(text: str) -> timedelta:
    """`30d`, `12h`, `1d12h`: a positive duration in s, m, h, d or w."""
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"a duration must be positive, got {text!r}")
    try:
        value = parse_duration(text)
    except InvalidConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError(f"a duration must be positive, got {text!r}")
    return value


def looks_like_url(text: str) -> bool:
    """`sqlite:///h.db`, `postgresql://...`, `mysql://...`: a URL (good or bad), where a thread
    id or a search TEXT could have stood."""
    return bool(URL.match(text))


def place_positionals(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Give `[URL] THREAD [CHECKPOINT]`-style positionals the values the user meant.

    argparse cannot tell which slot was left out: `history sqlite:///h.db` gave THREAD the URL
    and no URL, and `show THREAD CHECKPOINT` (the URL in $SAVER_URL) gave URL the thread. When
    fewer values were given than there are slots, the first is the URL if it looks like one,
    else the URL comes from $SAVER_URL; the rest fill the other slots in order, and a required
    slot left empty is a usage error that names it."""
    slots = [a for a in parser._actions if not a.option_strings]
    if len(slots) < 2 or slots[0].dest != "url":
        return
    given = [getattr(args, a.dest) for a in slots if getattr(args, a.dest) is not None]
    if len(given) == len(slots):
        return
    url = given.pop(0) if given and looks_like_url(given[0]) else None
    args.url = url
    for slot in slots[1:]:
        setattr(args, slot.dest, given.pop(0) if given else None)
    missing = [
        str(a.metavar or a.dest) for a in slots[1:] if a.required and getattr(args, a.dest) is None
    ]
    if missing:
        taken = f": {redact(url)!r} was read as the URL" if url is not None else ""
        parser.error(f"missing {', '.join(missing)}{taken}")
