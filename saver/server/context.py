"""What every route of one server shares: the saver, the assistants, the runs, the settings;
and the reads that several APIs answer from (a thread, its state, its graph)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Body, Depends, HTTPException, Request

from saver.core.views import ThreadInfo
from saver.server import wire
from saver.server.graphs import Assistant
from saver.server.runs import Runs


@dataclass
class Settings:
    token: str | None = None
    read_only: bool = False
    cors: list[str] = field(default_factory=list)
    max_body: int = 10 * 1024 * 1024  # bytes in a request body
    lease: float = 30.0  # seconds a run holds its thread between renewals
    ui_path: str | None = "/"  # where the web pages live; None: no pages


class StateCache:
    """Head states already sent, as JSON, by thread and head version (saver.head_version):
    a long thread's state costs milliseconds to read and encode, and is asked for again and
    again while nothing changes. Least recently used first out, within `limit` bytes."""

    def __init__(self, limit: int = 64 * 1024 * 1024) -> None:
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, key: tuple[str, str]) -> bytes | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], body: bytes) -> None:
        if len(body) > self.limit // 8 or key in self.entries:
            return
        self.entries[key] = body
        self.size += len(body)
        while self.size > self.limit:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped)


@dataclass
class ServerContext:
    saver: Any  # set once the saver is open (create_app, or its lifespan for a URL)
    assistants: dict[str, Assistant]
    settings: Settings
    runs: Runs | Any
    cache: StateCache = field(default_factory=StateCache)

    def assistant(self, assistant_id: Any) -> Assistant:
        """An assistant by its id or its graph's name (either is accepted, as there)."""
        for found in self.assistants.values():
            if assistant_id in (found.assistant_id, found.graph_id):
                return found
        known = ", ".join(sorted(self.assistants)) or "none: the server runs no graph"
        raise HTTPException(404, detail=f"Assistant {assistant_id!r} not found (graphs: {known})")

    def graph_of(self, info: ThreadInfo | None) -> Assistant | None:
        """The assistant that ran a thread, or the only one there is."""
        if info is not None:
            gid = info.thread_metadata.get("graph_id") or info.metadata.get("graph_id")
            if gid in self.assistants:
                return self.assistants[gid]
        return next(iter(self.assistants.values()), None)

    async def thread(self, thread_id: str) -> ThreadInfo:
        found = await self.saver.aget_thread(thread_id)
        if found is None:
            raise HTTPException(404, detail=f"Thread with ID {thread_id} not found")
        return found

    async def thread_dict(self, info: ThreadInfo) -> dict[str, Any]:
        """A thread with its head's values and the interrupts it waits on."""
        if info.head_id is None:
            return wire.thread(info)
        head = await self.saver.aget_tuple(wire.config_of(info.thread_id))
        if head is None:
            return wire.thread(info)
        interrupts = wire.interrupts_of(head.pending_writes)
        return wire.thread(info, head.checkpoint["channel_values"], interrupts)

    async def head_state(self, thread_id: str) -> bytes:
        """The head's state as JSON, from the cache while the head and its writes are those
        it was read from (read again before keeping it: a write in between is not kept)."""
        if len(self.assistants) > 1:  # which graph reads it is the thread's to say: no cache
            return wire.dumps(await self.state(thread_id))
        version = await self.saver.ahead_version(thread_id)
        key = (thread_id, version or "")
        if version is not None and (hit := self.cache.get(key)) is not None:
            return hit
        state = await self.state(thread_id)
        body = wire.dumps(state)
        head = version.partition(":")[0] if version else None
        if head == state["checkpoint_id"] and await self.saver.ahead_version(thread_id) == version:
            self.cache.put(key, body)
        return body

    async def state(
        self, thread_id: str, checkpoint: Mapping[str, Any] | None = None, subgraphs: bool = False
    ) -> dict[str, Any]:
        """A thread's state (its head's, or `checkpoint`'s) as `threads.get_state` gives it:
        through its graph where the server has one, else from the checkpoint alone."""
        config = wire.config_of(thread_id, checkpoint)
        if len(self.assistants) == 1:  # no need to read the thread to know its graph
            assistant: Assistant | None = next(iter(self.assistants.values()))
        else:
            assistant = self.graph_of(await self.thread(thread_id))
        if assistant is not None:
            snapshot = await assistant.graph.aget_state(config, subgraphs=subgraphs)
            if snapshot.created_at is not None:
                return wire.state(snapshot)
        elif (found := await self.saver.aget_tuple(config)) is not None:
            return wire.state_of_tuple(found)
        await self.thread(thread_id)  # no such checkpoint: is there a thread at all?
        if checkpoint:
            raise HTTPException(404, detail=f"Checkpoint {dict(checkpoint)} not found")
        return {"values": {}, "next": [], "tasks": [], "metadata": {}, "created_at": None,
                "checkpoint": None, "parent_checkpoint": None, "interrupts": [],
                "checkpoint_id": None, "parent_checkpoint_id": None}  # fmt: skip


async def context(request: Request) -> ServerContext:  # async: FastAPI runs a def in a thread
    ctx: ServerContext = request.app.state.saver_context
    if ctx.saver is None:  # create_app(URL) mounted: no lifespan of its own opened the URL
        raise HTTPException(503, detail="the saver is not open: mount create_app(saver)")
    return ctx


# What a route declares to be given the server's context, and a JSON object body.
Ctx = Annotated[ServerContext, Depends(context)]
JsonBody = Annotated[dict[str, Any], Body(default_factory=dict)]
RequiredBody = Annotated[dict[str, Any], Body()]
