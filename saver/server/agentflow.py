"""agentflow's thread endpoints (`/v1/graph/invoke`, `/v1/threads...`), so that the curl
lines of its checkpointing guide run against this server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from saver.server import wire
from saver.server.agent_api import page, start_run, take
from saver.server.context import Ctx, RequiredBody

router = APIRouter(prefix="/v1", tags=["agentflow"], route_class=wire.WireRoute)


@router.post("/graph/invoke")
async def invoke(ctx: Ctx, body: RequiredBody) -> Any:
    """Run the server's graph on `messages` in the thread `config.thread_id` (made if new):
    the messages this call added, the state after it, and what it waits on."""
    if not ctx.assistants:
        raise HTTPException(409, detail="this server runs no graph: start it with --graph")
    assistant = next(iter(ctx.assistants.values()))
    messages = take(body, "messages", list)
    if messages is None:
        raise HTTPException(422, detail="messages: a list of messages is required")
    config = take(body, "config", dict, {})
    thread_id = config.get("thread_id") or (config.get("configurable") or {}).get("thread_id")
    if not isinstance(thread_id, str) or not thread_id:
        raise HTTPException(422, detail="config.thread_id: a thread id is required")
    head = await ctx.saver.aget_tuple(wire.config_of(thread_id))
    before = head.checkpoint["channel_values"].get("messages", []) if head else []
    known = {getattr(m, "id", None) for m in before}
    run = await start_run(
        ctx,
        thread_id,
        {
            "assistant_id": assistant.graph_id,
            "input": {"messages": messages},
            "if_not_exists": "create",
        },
    )
    await run.done.wait()
    result = wire.encode(run.result or {})
    if "__error__" in result:
        raise HTTPException(500, detail=f"the graph failed: {result['__error__']['error']}")
    added = [m for m in result.get("messages", []) if m.get("id") not in known]
    return {
        "thread_id": thread_id,
        "run_id": run.run_id,
        "messages": added,
        "state": {k: v for k, v in result.items() if k != "__interrupt__"},
        "interrupts": result.get("__interrupt__", []),
    }


@router.get("/threads")
async def threads(
    ctx: Ctx, search: str | None = None, status: str | None = None, offset: int = 0, limit: int = 20
) -> Any:
    limit, offset = page({"limit": limit, "offset": offset})
    found = await ctx.saver.alist_threads(search=search, status=status, limit=limit, offset=offset)
    return {"threads": [_thread(t) for t in found], "offset": offset, "limit": limit}


@router.get("/threads/{thread_id}")
async def thread(ctx: Ctx, thread_id: str) -> Any:
    return _thread(await ctx.thread(thread_id))


@router.get("/threads/{thread_id}/messages")
async def messages(
    ctx: Ctx, thread_id: str, search: str | None = None, offset: int = 0, limit: int = 100
) -> Any:
    limit, offset = page({"limit": limit, "offset": offset})
    await ctx.thread(thread_id)
    found = await ctx.saver.alist_messages(
        wire.config_of(thread_id), search=search, offset=offset, limit=limit
    )
    return {
        "thread_id": thread_id,
        "messages": [
            {
                "index": m.index,
                "message_id": m.message_id,
                "message": m.message,
                "checkpoint_id": m.checkpoint_id,
                "step": m.step,
            }
            for m in found
        ],
        "offset": offset,
        "limit": limit,
    }


@router.get("/threads/{thread_id}/state")
async def state(ctx: Ctx, thread_id: str) -> Any:
    return {"thread_id": thread_id, **await ctx.state(thread_id)}


def _thread(info: Any) -> dict[str, Any]:
    out = info.as_dict()
    out.pop("waiting", None)
    return out
