"""Differential testing against LangGraph's InMemorySaver: shared by the sync and async twins.

A parity test runs one scenario twice, once on `MemoryOpener()` and once on our saver, and
records what a user sees in a `Transcript`. Ids differ between the two runs, so the
transcript turns each one into a label by order of first appearance and drops timestamps
and run ids; the two transcripts must then be equal.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Send
from pydantic import BaseModel

# Checkpoint, task, message and run ids are uuids; interrupt ids are 32 hex digits.
ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])"
)
DROPPED_KEYS = frozenset({"created_at", "ts", "run_id"})


class MemoryOpener:
    """Opens the same InMemorySaver each call, so a 'restart' keeps what was saved.

    Usable as `with opener() as cp` and `async with opener() as cp`, like `open_saver`.
    """

    def __init__(self) -> None:
        self.saver = InMemorySaver()

    def __call__(self, **kwargs: Any) -> MemoryOpener:
        return self

    def __enter__(self) -> InMemorySaver:
        return self.saver

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> InMemorySaver:
        return self.saver

    async def __aexit__(self, *exc: object) -> None:
        return None


class Transcript:
    """What one run showed its user, step by step, with ids replaced by stable labels."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        # A dict, so a failing comparison names the steps that differ.
        self.entries: dict[str, Any] = {}

    def add(self, what: str, observed: Any) -> Any:
        """Record `observed` under `what`; return its normalised form."""
        assert what not in self.entries, f"step {what!r} recorded twice"
        normal = self.entries[what] = self.normalise(observed)
        return normal

    def label(self, found: re.Match[str]) -> str:
        return self.labels.setdefault(found.group(0), f"<id{len(self.labels) + 1}>")

    def normalise(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return ID.sub(self.label, obj)
        if obj is None or isinstance(obj, (bool, int, float, bytes)):
            return obj
        if isinstance(obj, BaseCheckpointSaver):  # LangGraph puts it in subgraph configs
            return "<checkpointer>"
        if isinstance(obj, BaseException):
            return {"error": type(obj).__name__, "message": self.normalise(str(obj))}
        if isinstance(obj, tuple) and hasattr(obj, "_asdict"):  # StateSnapshot, PregelTask
            return {"type": type(obj).__name__, **self._mapping(obj._asdict())}
        if isinstance(obj, Send):
            return {"type": "Send", "node": obj.node, "arg": self.normalise(obj.arg)}
        if isinstance(obj, BaseModel):  # messages
            return {"type": type(obj).__name__, **self._mapping(obj.model_dump())}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # Interrupt, Command
            fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
            return {"type": type(obj).__name__, **self._mapping(fields)}
        if isinstance(obj, Mapping):
            return self._mapping(obj)
        if isinstance(obj, tuple):
            return tuple(self.normalise(v) for v in obj)
        if isinstance(obj, list):
            return [self.normalise(v) for v in obj]
        if isinstance(obj, (set, frozenset)):
            return sorted((self.normalise(v) for v in obj), key=repr)
        return {"type": type(obj).__name__, "repr": self.normalise(repr(obj))}

    def _mapping(self, obj: Mapping[Any, Any]) -> dict[Any, Any]:
        # Visit keys in an order that does not depend on the ids inside them, so both runs
        # hand out labels in the same order even if a saver reorders a dict.
        keys = sorted(obj, key=lambda k: ID.sub("", k) if isinstance(k, str) else repr(k))
        return {self.normalise(k): self.normalise(obj[k]) for k in keys if k not in DROPPED_KEYS}
