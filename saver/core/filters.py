"""Metadata filters: checked here, bound as parameters by the dialect, never spliced."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from saver.core import codec
from saver.core.config import storable, unicode_text
from saver.dialects.base import Leaf
from saver.errors import InvalidConfigError

SCALARS = (str, int, float, bool, type(None))


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise InvalidConfigError(f"metadata filter keys must be strings, got {key!r}")
    if '"' in key or any(ord(ch) < 32 for ch in key):
        raise InvalidConfigError(
            f"metadata filter key {key!r} contains a quote or control character"
        )
    return storable(key, "metadata filter key", "list")


def _check_value(value: Any, path: tuple[str, ...]) -> Any:
    """A value JSON can hold: no lone surrogate, no inf or NaN (which nothing stored holds)."""
    if isinstance(value, str):
        unicode_text(value, f"metadata filter value for {'.'.join(path)!r}", "list")
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidConfigError(
            f"metadata filter value for {'.'.join(path)!r} is {value!r}, which JSON cannot hold"
        )
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_value(_check_key(k), path)
            _check_value(v, (*path, k))
    elif isinstance(value, list):
        for v in value:
            _check_value(v, path)
    return value


def index_keys(keys: Any) -> tuple[str, ...]:
    """The top-level metadata keys a SQLite saver indexes (`indexed_metadata`)."""
    if isinstance(keys, str) or not isinstance(keys, (list, tuple, set, frozenset)):
        raise InvalidConfigError(f"indexed_metadata must be a list of metadata keys, got {keys!r}")
    return tuple(sorted({_check_key(key) for key in keys}))


def leaves(filter: dict[str, Any] | None) -> list[Leaf]:
    """Flatten a filter into (path, value) pairs; nested dicts mean containment."""
    if filter is None:
        return []
    if not isinstance(filter, dict):
        raise InvalidConfigError(f"filter must be a dict, got {type(filter).__name__}")
    out: list[Leaf] = []

    def walk(prefix: tuple[str, ...], node: dict[str, Any]) -> None:
        for key, value in node.items():
            path = (*prefix, codec.escaped(_check_key(key)))
            if isinstance(value, dict) and value:
                walk(path, value)
            elif isinstance(value, (*SCALARS, list, dict)):
                out.append((path, codec.escaped(_check_value(value, path))))  # as stored
            else:
                raise InvalidConfigError(
                    f"metadata filter value for {'.'.join(path)!r} must be a string, number, "
                    f"bool, None, list or dict, got {type(value).__name__}"
                )

    walk((), filter)
    return out


def key_values(pairs: Iterable[str], what: str) -> dict[str, Any]:
    """A metadata filter from `KEY=VALUE` texts, as people type them: each value as JSON
    where it reads as JSON (numbers, true, null, quoted text), else as the text itself."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise InvalidConfigError(f"{what} takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out
