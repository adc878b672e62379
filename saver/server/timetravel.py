"""Time travel over HTTP, which neither API has as such: a thread's fork tree and what changed
between two of its checkpoints. Replay and fork go through runs (`checkpoint_id`) and
`update_state`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from saver.core.views import fork_tree
from saver.errors import InvalidConfigError
from saver.server import wire
from saver.server.context import Ctx

router = APIRouter(tags=["time travel"], route_class=wire.WireRoute)


@router.get("/threads/{thread_id}/tree")
async def tree(ctx: Ctx, thread_id: str) -> Any:
    """Every root checkpoint with its parent, oldest first; the branches (a later child of a
    checkpoint, from a replay or update_state, starts a fork there); the heads of branches."""
    await ctx.thread(thread_id)
    steps = (await ctx.saver.ahistory({"configurable": {"thread_id": thread_id}}))[::-1]
    parents = {s.parent_id for s in steps}
    return {
        "thread_id": thread_id,
        "checkpoints": [s.as_dict() for s in steps],
        "branches": [b.as_dict() for b in fork_tree((s.checkpoint_id, s.parent_id) for s in steps)],
        "heads": [s.checkpoint_id for s in steps if s.checkpoint_id not in parents],
    }


@router.get("/threads/{thread_id}/diff")
async def diff(
    ctx: Ctx,
    thread_id: str,
    from_: Annotated[str | None, Query(alias="from", description="default: to's parent")] = None,
    to: Annotated[str | None, Query(description="checkpoint id (default: the head)")] = None,
) -> Any:
    """What changed, channel by channel, from checkpoint `from` to checkpoint `to`."""
    await ctx.thread(thread_id)
    later = await ctx.saver.aget_tuple(wire.config_of(thread_id, {"checkpoint_id": to}))
    if later is None:
        raise HTTPException(404, detail=f"Checkpoint {to} not found in thread {thread_id}")
    earlier_id = from_ or (later.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    if earlier_id is None:
        raise HTTPException(422, detail="from: the checkpoint has no parent; give one")
    try:
        changes = await ctx.saver.adiff(
            wire.config_of(thread_id, {"checkpoint_id": earlier_id}), later.config
        )
    except InvalidConfigError as e:
        raise HTTPException(404, detail=str(e)) from None
    return {
        "thread_id": thread_id,
        "from": earlier_id,
        "to": later.config["configurable"]["checkpoint_id"],
        "changes": [c.as_dict() for c in changes],
    }
