"""Puts that fill a disk: shared by the forked writer (under a file size limit) and the
tmpfs test (in the test process)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from langgraph.checkpoint.base import Checkpoint
from langgraph.checkpoint.base.id import uuid6

VALUE_SIZE = 64 * 1024


def value(i: int) -> bytes:
    return random.Random(f"fill:{i}").randbytes(VALUE_SIZE)


def fill_until_error(
    saver: Any, thread: str, max_puts: int, report: Callable[[str, Any], None]
) -> dict[str, Any]:
    """Put checkpoint after checkpoint on `thread`, each with a new incompressible value,
    reporting each committed one (`report("put", {"id", "i"})`); returns what the failing
    put raised: {"type", "module", "message", "puts", "cause"}."""
    config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    latest = saver.get_tuple(config)
    start = latest.metadata["step"] + 1 if latest else 0
    version = latest.checkpoint["channel_versions"]["data"] if latest else None
    for i in range(start, start + max_puts):
        version = saver.get_next_version(version, None)
        checkpoint = Checkpoint(
            v=4,
            id=str(uuid6()),
            ts=datetime.now(timezone.utc).isoformat(),
            channel_values={"data": value(i), "i": i},
            channel_versions={"data": version, "i": version},
            versions_seen={},
            updated_channels=["data", "i"],
        )
        try:
            config = saver.put(
                config, checkpoint, {"source": "loop", "step": i}, {"data": version, "i": version}
            )
        except Exception as exc:  # noqa: BLE001 - judged by the test
            cause = exc.__cause__ or exc.__context__
            return {
                "type": type(exc).__name__,
                "module": type(exc).__module__,
                "message": str(exc),
                "puts": i - start,
                # what the driver said, if the saver kept it as the cause
                "cause": None
                if cause is None
                else f"{type(cause).__module__}."
                f"{type(cause).__name__} {getattr(cause, 'sqlite_errorname', '')}: {cause}",
            }
        report("put", {"id": checkpoint["id"], "i": i})
    return {
        "type": None,
        "module": None,
        "message": "no put failed",
        "puts": max_puts,
        "cause": None,
    }
