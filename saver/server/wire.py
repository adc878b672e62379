"""What the server sends: graph values, states, threads and checkpoints as the JSON that
LangGraph's Agent Server sends for them (the shapes `langgraph-sdk` parses). Values are
encoded by what they are, never pickled: LangChain messages by their own serialisation,
models and dataclasses field by field, anything else as a tagged repr."""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from fastapi import Response
from fastapi.routing import APIRoute
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.types import Interrupt, Send, StateSnapshot

from saver.core.views import ThreadInfo

# LangGraph's bookkeeping channels: never part of a state a client sees.
HIDDEN_PREFIX = ("branch:to:", "join:", "__pregel_")
HIDDEN = frozenset({"__start__", "__interrupt__", "__error__", "__resume__", "__no_writes__"})


def dumps(value: Any) -> bytes:
    """`value` as JSON bytes: orjson walks it, and asks `_default` for what it does not know
    (LangChain messages and other models by their own model_dump). A value orjson refuses
    (an int over 64 bits) is walked by `_plain` instead."""
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":")).encode()


def encode(value: Any) -> Any:
    """`value` as plain JSON data (dicts, lists, strings, numbers)."""
    return orjson.loads(dumps(value))


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump") and callable(value.model_dump):
        try:  # LangChain messages and other pydantic models: their own serialisation
            return value.model_dump()
        except Exception:  # a model that cannot dump itself is shown, not fatal
            pass
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, Send):
        return {"node": value.node, "arg": value.arg}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return {"$repr": f"{type(value).__name__}: {value!r}"[:2000]}


def _plain(value: Any) -> Any:
    """What `dumps` gives, by a walk in Python: for the values orjson cannot take."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Enum)):
        return str(value) if isinstance(value, UUID) else _plain(value.value)
    return _plain(_default(value))


class WireResponse(Response):
    """A route's answer as JSON, by `dumps`: FastAPI's own encoder walks every value first,
    which on a long thread's state costs more than reading it."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class WireRoute(APIRoute):
    """A route whose answer, unless it is a Response already, goes out as a WireResponse."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        @functools.wraps(endpoint)
        async def answered(*args: Any, **kw: Any) -> Any:
            found = await endpoint(*args, **kw)
            return found if isinstance(found, Response) else WireResponse(found)

        super().__init__(path, answered, **kwargs)


def stamp(moment: datetime | float | str | None) -> str | None:
    """An ISO 8601 time with its zone, as the Agent Server writes times."""
    if moment is None:
        return None
    if isinstance(moment, str):
        return moment
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    return moment.isoformat()


def visible(values: Any) -> Any:
    """A state's values without LangGraph's bookkeeping channels."""
    if not isinstance(values, Mapping):
        return values
    return {
        k: v for k, v in values.items() if k not in HIDDEN and not str(k).startswith(HIDDEN_PREFIX)
    }


def config_of(thread_id: str, checkpoint: Mapping[str, Any] | None = None) -> RunnableConfig:
    """The config of a thread's root namespace, at `checkpoint`'s id (and namespace, map)
    where it names them, else at the head."""
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    configurable.update({k: v for k, v in (checkpoint or {}).items() if v is not None})
    return {"configurable": configurable}


def checkpoint_ref(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    return {
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
    }


def state(snapshot: StateSnapshot) -> dict[str, Any]:
    """A StateSnapshot as `threads.get_state` returns it."""
    checkpoint = checkpoint_ref(snapshot.config)
    parent = checkpoint_ref(snapshot.parent_config)
    tasks = []
    for task in snapshot.tasks:
        sub = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": list(task.path),
                "error": None if task.error is None else f"{type(task.error).__name__}",
                "interrupts": _interrupts(task.interrupts),
                "checkpoint": checkpoint_ref(sub) if isinstance(sub, Mapping) else None,
                "state": state(sub) if isinstance(sub, StateSnapshot) else None,
                "result": task.result,
            }
        )
    return {
        "values": visible(snapshot.values),
        "next": list(snapshot.next),
        "tasks": tasks,
        "metadata": snapshot.metadata or {},
        "created_at": snapshot.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": _interrupts(snapshot.interrupts),
        "checkpoint_id": checkpoint and checkpoint["checkpoint_id"],
        "parent_checkpoint_id": parent and parent["checkpoint_id"],
    }


def _interrupts(found: Sequence[Any]) -> list[Any]:
    """Interrupts as a state shows them: id and value."""
    return [{"id": i.id, "value": i.value} if isinstance(i, Interrupt) else i for i in found]


def interrupts_of(writes: Sequence[tuple[str, str, Any]] | None) -> dict[str, list[Any]]:
    """The interrupts among a checkpoint's pending writes, by the task that raised them."""
    found: dict[str, list[Any]] = {}
    for task_id, channel, value in writes or ():
        if channel == "__interrupt__":
            found.setdefault(task_id, []).extend(
                value if isinstance(value, (list, tuple)) else [value]
            )
    return found


def state_of_tuple(found: CheckpointTuple) -> dict[str, Any]:
    """A state read from a checkpoint alone (no graph to ask): its values, the nodes its
    last step triggered as `next`, the interrupts written on it."""
    checkpoint = found.checkpoint
    updated = checkpoint.get("updated_channels") or checkpoint["channel_values"]
    nexts = sorted({c[len("branch:to:") :] for c in updated if c.startswith("branch:to:")})
    interrupts = [i for each in interrupts_of(found.pending_writes).values() for i in each]
    snapshot = StateSnapshot(
        values=checkpoint["channel_values"],
        next=tuple(nexts),
        config=found.config,
        metadata=found.metadata,
        created_at=checkpoint["ts"],
        parent_config=found.parent_config,
        tasks=(),
        interrupts=tuple(interrupts),
    )
    return state(snapshot)


def thread(info: ThreadInfo, values: Any = None, interrupts: Any = None) -> dict[str, Any]:
    """A thread as `threads.get` and `threads.search` return it."""
    return {
        "thread_id": info.thread_id,
        "created_at": stamp(info.first_at),
        "updated_at": stamp(info.last_at),
        "state_updated_at": stamp(info.last_at),
        "metadata": info.thread_metadata,
        "status": info.status,
        "config": {"configurable": {}},
        "values": visible(values) if values is not None else None,
        "interrupts": interrupts or {},
        "error": None,
    }
