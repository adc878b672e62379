"""The pages people open: threads, one thread's fork tree and steps, the approvals inbox."""

from __future__ import annotations

import asyncio
import hashlib
import time
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from langgraph.checkpoint.base import CheckpointTuple

from saver.core.filters import key_values
from saver.core.views import Change, ThreadInfo, diff, is_messages
from saver.errors import InvalidConfigError
from saver.server import wire
from saver.server.context import Ctx, ServerContext
from saver.server.ui import render
from saver.server.ui.lanes import layout
from saver.server.ui.site import page

PAGE_SIZE = 50
WINDOW = 200  # timeline rows on one page of a thread
SHOWN_MESSAGES = 100  # the latest messages of a step, unless all are asked for
INBOX_SIZE = 100
STATUSES = {"interrupted": "waiting on an interrupt", "idle": "idle", "busy": "busy",
            "error": "error"}  # fmt: skip
ASSETS = {"ui.css": "text/css", "ui.js": "text/javascript"}


def start_timer(request: Request) -> None:
    """When the route began: what the page's Server-Timing header measures from."""
    request.state.started = time.perf_counter()


router = APIRouter(include_in_schema=False, dependencies=[Depends(start_timer)])


@router.get("/")
async def threads_page(
    request: Request,
    ctx: Ctx,
    q: str = "",
    metadata: str = "",
    where: str = "checkpoint",
    status: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    problem = None
    filters: dict[str, Any] = {}
    try:
        terms = key_values(metadata.split(), "metadata")
    except InvalidConfigError as e:
        terms, problem = {}, str(e)
    if terms:
        filters["thread_metadata" if where == "thread" else "filter"] = terms
    if q.strip():
        filters["prefix"] = q.strip()
    if status in STATUSES:
        filters["status"] = status
    found = await ctx.saver.alist_threads(limit=PAGE_SIZE + 1, offset=offset, **filters)
    return page(
        request,
        "threads.html",
        threads=[(t, render.summary(t.thread_metadata, t.metadata)) for t in found[:PAGE_SIZE]],
        more=len(found) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        q=q,
        metadata=metadata,
        where=where,
        status=status,
        statuses=STATUSES,
        problem=problem,
    )


@router.get("/inbox")
async def inbox_page(request: Request, ctx: Ctx) -> Response:
    found = await ctx.saver.alist_threads(status="interrupted", limit=INBOX_SIZE)
    waiting = await _waiting(ctx, found)
    return page(request, "inbox.html", waiting=waiting, version=_inbox_version(found))


@router.get("/inbox/version")
async def inbox_version(ctx: Ctx) -> Response:
    found = await ctx.saver.alist_threads(status="interrupted", limit=INBOX_SIZE)
    return PlainTextResponse(_inbox_version(found))


async def _waiting(ctx: ServerContext, found: list[ThreadInfo]) -> list[dict[str, Any]]:
    """Each thread waiting on an interrupt, with what it asks and its last message."""
    heads = await asyncio.gather(
        *(ctx.saver.aget_tuple(wire.config_of(t.thread_id)) for t in found)
    )
    out = []
    for info, head in zip(found, heads, strict=True):
        if head is None:
            continue
        interrupts = [i for each in wire.interrupts_of(head.pending_writes).values() for i in each]
        last = [
            render.chat_message(v[-1])
            for v in head.checkpoint["channel_values"].values()
            if is_messages(v)
        ]
        out.append(
            {
                "info": info,
                "checkpoint_id": head.config["configurable"]["checkpoint_id"],
                "interrupts": [
                    {
                        "id": getattr(i, "id", None),
                        "value": getattr(i, "value", i),
                        "json": render.pretty(getattr(i, "value", i)),
                    }  # fmt: skip
                    for i in interrupts
                ],
                "last": last[0] if last else None,
                "graph": ctx.graph_of(info) is not None,
            }
        )
    return out


def _inbox_version(found: list[ThreadInfo]) -> str:
    """Changes when a thread starts or stops waiting, or waits at another checkpoint."""
    heads = ",".join(f"{t.thread_id}:{t.head_id}" for t in found)
    return hashlib.blake2b(heads.encode(), digest_size=8).hexdigest()


@router.get("/thread/{thread_id}")
async def thread_page(
    request: Request,
    ctx: Ctx,
    thread_id: str,
    at: str = "",
    vs: str = "",
    first: Annotated[int | None, Query(ge=0)] = None,
    messages: str = "",
) -> Response:
    """The fork tree and timeline (a window of WINDOW steps, drawn with every lane of the
    whole tree), and one step: the head, or `at`, against its parent or `vs`."""
    info = await ctx.thread(thread_id)
    version = await _thread_version(ctx, info)  # read first: a change after it shows next poll
    steps = await ctx.saver.ahistory(wire.config_of(thread_id), with_interrupts=False)
    index = {s.checkpoint_id: n for n, s in enumerate(steps)}
    if at and at not in index:
        raise HTTPException(404, detail=f"Checkpoint {at} not found in thread {thread_id}")
    selected = steps[index[at]] if at else (steps[0] if steps else None)
    if first is None:  # the window that holds the selected step
        first = index[at] // WINDOW * WINDOW if at else 0
    tree = layout([(s.checkpoint_id, s.parent_id) for s in steps], range(first, first + WINDOW))
    rows = render.timeline(steps, tree, first, WINDOW)
    detail = None
    if selected is not None:
        detail = await _detail(ctx, info, selected.checkpoint_id, vs or selected.parent_id)
    return page(
        request,
        "thread.html",
        info=info,
        rows=rows,
        first=first,
        total=len(steps),
        window=WINDOW,
        request_at=at,
        all_messages=messages == "all",
        shown_messages=SHOWN_MESSAGES,
        selected=selected,
        detail=detail,
        vs=vs,
        live=not at,
        version=version,
        status_label=STATUSES.get(info.status, info.status),
    )


async def checkpoint_of(ctx: ServerContext, thread_id: str, checkpoint_id: str) -> CheckpointTuple:
    found = await ctx.saver.aget_tuple(wire.config_of(thread_id, {"checkpoint_id": checkpoint_id}))
    if found is None:
        raise HTTPException(404, detail=f"Checkpoint {checkpoint_id} not found in {thread_id}")
    return found


async def _detail(
    ctx: ServerContext, info: ThreadInfo, checkpoint_id: str, other_id: str | None
) -> dict[str, Any]:
    """One checkpoint: its state, its pending writes, and what changed from `other_id` (its
    parent unless the page chose another). Read from the checkpoints alone: a graph would
    read the same rows again."""
    found = await checkpoint_of(ctx, info.thread_id, checkpoint_id)
    values = found.checkpoint["channel_values"]
    changes: list[Change] = []
    if other_id:
        other = await checkpoint_of(ctx, info.thread_id, other_id)
        changes = diff(wire.visible(other.checkpoint["channel_values"]), wire.visible(values))
    state = wire.state_of_tuple(found)
    return {
        "checkpoint_id": checkpoint_id,
        "state": state,
        "channels": render.channels(values),
        "metadata_json": render.pretty(found.metadata),
        "writes": [
            {"task": task, "channel": channel, "json": render.pretty(value)}
            for task, channel, value in found.pending_writes or []
            if channel != "__interrupt__"
        ],
        "interrupts": [
            {"id": i.get("id"), "json": render.pretty(i.get("value"))} for i in state["interrupts"]
        ],
        "other_id": other_id,
        "changes": [render.change_view(c) for c in changes],
        "graph": ctx.graph_of(info) is not None,
    }


@router.get("/thread/{thread_id}/fork")
async def fork_page(request: Request, ctx: Ctx, thread_id: str, at: str) -> Response:
    """The state of one step, to edit before update_state writes it as a new branch."""
    info = await ctx.thread(thread_id)
    assistant = ctx.graph_of(info)
    found = await checkpoint_of(ctx, thread_id, at)
    values = wire.visible(found.checkpoint["channel_values"])
    shown = render.channels(values)
    return page(
        request,
        "fork.html",
        info=info,
        checkpoint_id=at,
        step=found.metadata.get("step"),
        channels=shown,
        values_json=render.pretty({k: v for k, v in values.items() if k not in shown.messages}),
        nodes=sorted(assistant.graph.nodes) if assistant else [],
        graph=assistant is not None,
    )


@router.get("/thread/{thread_id}/version")
async def thread_version(ctx: Ctx, thread_id: str) -> Response:
    return PlainTextResponse(await _thread_version(ctx, await ctx.thread(thread_id)))


async def _thread_version(ctx: ServerContext, info: ThreadInfo) -> str:
    """Changes when the page would: a new head or write, or the thread's status."""
    head = await ctx.saver.ahead_version(info.thread_id)
    return f"{info.status}:{info.checkpoints}:{head or ''}"


@router.get("/assets/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, detail=f"no asset {name}")
    body = (resources.files("saver.server.ui") / "assets" / name).read_bytes()
    return Response(body, media_type=ASSETS[name], headers={"Cache-Control": "max-age=300"})
