"""Option value types: argparse reports a bad value as a usage error (exit 2) before a
command runs, so nothing is opened, let alone deleted."""

from __future__ import annotations

import argparse
from datetime import timedelta

from saver.errors import InvalidConfigError
from saver.retention.policy import parse_duration


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
