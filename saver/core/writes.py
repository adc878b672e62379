"""Pending-write rules: which index a write takes, and the order they are read back in."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import WRITES_IDX_MAP, writes_sort_key

__all__ = ["WRITES_IDX_MAP", "write_index", "is_special", "sort_key"]


def write_index(channel: str, position: int) -> int:
    """Special channels (error, interrupt, resume...) take a fixed negative index."""
    return WRITES_IDX_MAP.get(channel, position)


def is_special(channel: str) -> bool:
    """A special write replaces an earlier one of the same task; a regular one never does."""
    return channel in WRITES_IDX_MAP


def sort_key(task_path: str, task_id: str, idx: int) -> tuple[Any, ...]:
    return writes_sort_key(task_path or "", task_id, idx)
