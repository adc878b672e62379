"""What every route of one server shares: the saver, the assistants, the runs, the settings;
and the reads that several APIs answer from (a thread, its state, its graph)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Body, Depends, HTTPException, Request
from langchain_core.runnables import RunnableConfig

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


@dataclass
class ServerContext:
    saver: Any  # set once the saver is open (create_app, or its lifespan for a URL)
    assistants: dict[str, Assistant]
    settings: Settings
    runs: Runs | Any

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
        config = {"configurable": {"thread_id": info.thread_id, "checkpoint_ns": ""}}
        head = await self.saver.aget_tuple(config)
        if head is None:
            return wire.thread(info)
        interrupts: dict[str, list[Any]] = {}
        for task_id, channel, value in head.pending_writes or ():
            if channel == "__interrupt__":
                interrupts.setdefault(task_id, []).extend(
                    value if isinstance(value, (list, tuple)) else [value]
                )
        return wire.thread(info, head.checkpoint["channel_values"], interrupts)

    async def state(
        self, thread_id: str, checkpoint: Mapping[str, Any] | None = None, subgraphs: bool = False
    ) -> dict[str, Any]:
        """A thread's state (its head's, or `checkpoint`'s) as `threads.get_state` gives it:
        through its graph where the server has one, else from the checkpoint alone."""
        info = await self.thread(thread_id)
        configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
        configurable.update({k: v for k, v in (checkpoint or {}).items() if v is not None})
        config: RunnableConfig = {"configurable": configurable}
        assistant = self.graph_of(info)
        found = await self.saver.aget_tuple(config) if checkpoint or assistant is None else None
        if checkpoint and found is None:
            raise HTTPException(404, detail=f"Checkpoint {dict(checkpoint)} not found")
        if assistant is not None:
            return wire.state(await assistant.graph.aget_state(config, subgraphs=subgraphs))
        if found is None:
            return {"values": {}, "next": [], "tasks": [], "metadata": {}, "created_at": None,
                    "checkpoint": None, "parent_checkpoint": None, "interrupts": [],
                    "checkpoint_id": None, "parent_checkpoint_id": None}  # fmt: skip
        return wire.state_of_tuple(found)


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.saver_context
    return ctx


# What a route declares to be given the server's context, and a JSON object body.
Ctx = Annotated[ServerContext, Depends(context)]
JsonBody = Annotated[dict[str, Any], Body(default_factory=dict)]
RequiredBody = Annotated[dict[str, Any], Body()]
