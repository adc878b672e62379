"""LangGraph's Agent Server API, the part `langgraph-sdk` uses for assistants, threads, state,
history and runs, answered from the saver and this server's graphs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import StreamingResponse
from langchain_core.runnables import RunnableConfig
from langgraph.errors import InvalidUpdateError

from saver.core.views import ThreadInfo
from saver.server import wire
from saver.server.context import Ctx, JsonBody, RequiredBody, ServerContext
from saver.server.runs import Run, checked, events

router = APIRouter(route_class=wire.WireRoute)
Json = dict[str, Any]
SORT_BY = {
    "updated_at": "last_activity",
    "created_at": "created",
    "state_updated_at": "last_activity",
}
STATUSES = ("idle", "busy", "interrupted", "error")


def take(
    body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    """`body[name]`, which must be of `kind` where given (422 naming the field if not)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise HTTPException(422, detail=f"{name}: expected {names}, got {value!r}"[:300])
    return value


def page(body: Mapping[str, Any], default_limit: int = 10) -> tuple[int, int]:
    limit, offset = take(body, "limit", int, default_limit), take(body, "offset", int, 0)
    if not 1 <= limit <= 1000 or offset < 0:
        raise HTTPException(422, detail="limit must be 1 to 1000 and offset 0 or more")
    return limit, offset


CHECKPOINT_KEYS = ("checkpoint_id", "checkpoint_ns", "checkpoint_map")  # what a body may aim at


def aimed(thread_id: str, body: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The configurable of `thread_id` at the checkpoint the body names (`checkpoint`, an
    object, and any of `names`, a checkpoint id); nothing else of the body reaches it."""
    given = take(body, "checkpoint", dict, {})
    checkpoint = {k: given[k] for k in CHECKPOINT_KEYS if given.get(k)}
    for name in names:
        if take(body, name, str):
            checkpoint["checkpoint_id"] = body[name]
    return dict(wire.config_of(thread_id, checkpoint)["configurable"])


async def idle(ctx: ServerContext, thread_id: str, what: str) -> ThreadInfo:
    """The thread, which no run may hold while `what` changes it (409 if one does)."""
    info = await ctx.thread(thread_id)
    if info.status == "busy":
        raise HTTPException(409, detail=f"Thread {thread_id} is busy with a run: {what} waits")
    return info


# --- assistants ------------------------------------------------------------------------------


@router.post("/assistants/search", tags=["assistants"])
async def search_assistants(ctx: Ctx, body: JsonBody) -> Any:
    limit, offset = page(body)
    graph_id = take(body, "graph_id", str)
    found = [a.as_dict() for a in ctx.assistants.values() if graph_id in (None, a.graph_id)]
    return found[offset : offset + limit]


@router.post("/assistants/count", tags=["assistants"])
async def count_assistants(ctx: Ctx, body: JsonBody) -> int:
    graph_id = take(body, "graph_id", str)
    return sum(graph_id in (None, a.graph_id) for a in ctx.assistants.values())


@router.get("/assistants/{assistant_id}", tags=["assistants"])
async def get_assistant(ctx: Ctx, assistant_id: str) -> Any:
    return ctx.assistant(assistant_id).as_dict()


@router.get("/assistants/{assistant_id}/graph", tags=["assistants"])
async def get_assistant_graph(ctx: Ctx, assistant_id: str) -> Any:
    drawn = ctx.assistant(assistant_id).graph.get_graph().to_json()
    return drawn


@router.get("/assistants/{assistant_id}/schemas", tags=["assistants"])
async def get_assistant_schemas(ctx: Ctx, assistant_id: str) -> Any:
    found = ctx.assistant(assistant_id)
    graph = found.graph
    return {
        "graph_id": found.graph_id,
        "input_schema": graph.get_input_jsonschema(),
        "output_schema": graph.get_output_jsonschema(),
        "state_schema": graph.get_output_jsonschema(),  # a StateGraph's, unless it names an output
        "config_schema": graph.config_schema().model_json_schema(),
        "context_schema": None,
    }


# --- threads ---------------------------------------------------------------------------------


@router.post("/threads", tags=["threads"])
async def create_thread(ctx: Ctx, body: JsonBody) -> Any:
    thread_id = take(body, "thread_id", str) or str(uuid.uuid4())
    metadata = take(body, "metadata", dict, {})
    if_exists = take(body, "if_exists", str, "raise")
    if if_exists not in ("raise", "do_nothing"):
        raise HTTPException(422, detail="if_exists must be raise or do_nothing")
    existing = await ctx.saver.aget_thread(thread_id)
    if existing is not None:
        if if_exists == "raise":
            raise HTTPException(409, detail=f"Thread with ID {thread_id} already exists")
        return await ctx.thread_dict(existing)
    return await ctx.thread_dict(await ctx.saver.aput_thread(thread_id, metadata=metadata))


@router.post("/threads/search", tags=["threads"])
async def search_threads(ctx: Ctx, body: JsonBody) -> Any:
    limit, offset = page(body)
    ids = take(body, "ids", list)
    if ids is not None:
        found = [await ctx.saver.aget_thread(str(t)) for t in ids]
        infos = [t for t in found if t is not None][offset : offset + limit]
    else:
        order = _thread_order(body)
        infos = await ctx.saver.alist_threads(
            limit=limit, offset=offset, **_thread_filters(body), **order
        )
    return [await ctx.thread_dict(t) for t in infos]


@router.post("/threads/count", tags=["threads"])
async def count_threads(ctx: Ctx, body: JsonBody) -> int:
    return int(await ctx.saver.acount_threads(**_thread_filters(body)))


def _thread_filters(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a thread search or count filters on, as list_threads and count_threads take it."""
    status = take(body, "status", str)
    if status is not None and status not in STATUSES:
        raise HTTPException(422, detail=f"status must be one of {list(STATUSES)}")
    if take(body, "values", dict):
        raise HTTPException(
            422, detail="values: searching threads by their values is not supported"
        )
    return {"thread_metadata": take(body, "metadata", dict), "status": status}


def _thread_order(body: Mapping[str, Any]) -> dict[str, Any]:
    sort_by = take(body, "sort_by", str, "updated_at")
    sort_order = take(body, "sort_order", str, "desc")
    if sort_by not in SORT_BY or sort_order not in ("asc", "desc"):
        raise HTTPException(
            422, detail=f"sort_by must be one of {sorted(SORT_BY)} and sort_order asc or desc"
        )
    return {"sort": SORT_BY[sort_by], "ascending": sort_order == "asc"}


@router.get("/threads/{thread_id}", tags=["threads"])
async def get_thread(ctx: Ctx, thread_id: str) -> Any:
    return await ctx.thread_dict(await ctx.thread(thread_id))


@router.patch("/threads/{thread_id}", tags=["threads"])
async def update_thread(ctx: Ctx, thread_id: str, body: JsonBody) -> Any:
    await ctx.thread(thread_id)
    updated = await ctx.saver.aput_thread(thread_id, metadata=take(body, "metadata", dict, {}))
    return await ctx.thread_dict(updated)


@router.delete("/threads/{thread_id}", status_code=204, tags=["threads"])
async def delete_thread(ctx: Ctx, thread_id: str) -> Response:
    await idle(ctx, thread_id, "delete")
    await ctx.saver.adelete_thread(thread_id)
    return Response(status_code=204)


@router.post("/threads/{thread_id}/copy", tags=["threads"])
async def copy_thread(ctx: Ctx, thread_id: str) -> Any:
    await ctx.thread(thread_id)
    target = str(uuid.uuid4())
    await ctx.saver.acopy_thread(thread_id, target)
    return await ctx.thread_dict(await ctx.thread(target))


# --- state and history -----------------------------------------------------------------------


@router.get("/threads/{thread_id}/state", tags=["state"])
async def get_state(ctx: Ctx, thread_id: str, subgraphs: bool = False) -> Any:
    if subgraphs:
        return await ctx.state(thread_id, None, subgraphs)
    return Response(await ctx.head_state(thread_id), media_type="application/json")


@router.get("/threads/{thread_id}/state/{checkpoint_id}", tags=["state"])
async def get_state_at(
    ctx: Ctx, thread_id: str, checkpoint_id: str, subgraphs: bool = False
) -> Any:
    return await ctx.state(thread_id, {"checkpoint_id": checkpoint_id}, subgraphs)


@router.post("/threads/{thread_id}/state/checkpoint", tags=["state"])
async def get_state_of_checkpoint(ctx: Ctx, thread_id: str, body: JsonBody) -> Any:
    checkpoint = aimed(thread_id, body)
    checkpoint.pop("thread_id")
    return await ctx.state(thread_id, checkpoint, bool(body.get("subgraphs")))


@router.post("/threads/{thread_id}/state", tags=["state"])
async def update_state(ctx: Ctx, thread_id: str, body: JsonBody) -> Any:
    configurable = aimed(thread_id, body, "checkpoint_id")  # an old checkpoint: a fork
    as_node = take(body, "as_node", str)
    config = await updated_state(ctx, thread_id, configurable, body.get("values"), as_node)
    ref = wire.checkpoint_ref(config)
    return {"checkpoint": ref, "configurable": ref, "checkpoint_id": ref and ref["checkpoint_id"]}


async def updated_state(
    ctx: ServerContext, thread_id: str, configurable: Json, values: Any, as_node: str | None
) -> RunnableConfig:
    """update_state through the thread's graph, on an idle thread; the new checkpoint's config."""
    assistant = ctx.graph_of(await idle(ctx, thread_id, "update_state"))
    if assistant is None:
        raise HTTPException(409, detail="update_state needs a graph: start the server with --graph")
    if as_node is not None and as_node not in assistant.graph.nodes:
        raise HTTPException(422, detail=f"as_node: no node {as_node!r} in the graph")
    try:
        return await assistant.graph.aupdate_state(
            {"configurable": configurable}, values, as_node=as_node
        )
    except (InvalidUpdateError, ValueError) as e:  # what the graph refuses, as it says it
        raise HTTPException(422, detail=f"values: {e}"[:1000]) from None


@router.post("/threads/{thread_id}/history", tags=["state"])
async def get_history(ctx: Ctx, thread_id: str, body: JsonBody) -> Any:
    info = await ctx.thread(thread_id)
    limit, _ = page(body)
    metadata = take(body, "metadata", dict)
    before = body.get("before")
    before_id = (
        before
        if isinstance(before, str)
        else (take(body, "before", dict) or {}).get("checkpoint_id")
    )
    configurable = aimed(thread_id, body)
    config: RunnableConfig = {"configurable": configurable}
    before_config: RunnableConfig | None = (
        {"configurable": {**configurable, "checkpoint_id": before_id}} if before_id else None
    )
    assistant = ctx.graph_of(info)
    if assistant is not None:
        found = assistant.graph.aget_state_history(
            config, filter=metadata, before=before_config, limit=limit
        )
        return [wire.state(s) async for s in found]
    tuples = ctx.saver.alist(config, filter=metadata, before=before_config, limit=limit)
    return [wire.state_of_tuple(t) async for t in tuples]


# --- runs ------------------------------------------------------------------------------------


async def start_run(ctx: ServerContext, thread_id: str | None, body: Json) -> Run:
    """A run of the body's assistant on the thread (None: a thread of its own, deleted when
    the run ends), checked before anything is written."""
    if take(body, "assistant_id", str) is None:
        raise HTTPException(422, detail="assistant_id: the graph to run is required")
    assistant = ctx.assistant(body["assistant_id"])
    checked(body)
    if thread_id is None:
        body = {**body, "on_completion": body.get("on_completion") or "delete"}
        own = str(uuid.uuid4())
        try:
            return await _started(ctx, own, assistant, body)
        except HTTPException:
            await ctx.saver.adelete_thread(own)
            raise
    if await ctx.saver.aget_thread(thread_id) is None and body.get("if_not_exists") != "create":
        raise HTTPException(404, detail=f"Thread with ID {thread_id} not found")
    return await _started(ctx, thread_id, assistant, body)


async def _started(ctx: ServerContext, thread_id: str, assistant: Any, body: Json) -> Run:
    info = await ctx.saver.aput_thread(
        thread_id,
        metadata={
            **take(body, "metadata", dict, {}),
            "graph_id": assistant.graph_id,
            "assistant_id": assistant.assistant_id,
        },
    )
    run = await ctx.runs.start(thread_id, assistant, body, info.thread_metadata)
    if body.get("on_completion") == "delete":
        run.done_callbacks.append(lambda: ctx.saver.adelete_thread(run.thread_id))
    return run


def _located(run: Run) -> dict[str, str]:
    where = f"/threads/{run.thread_id}/runs/{run.run_id}"
    return {"Content-Location": where, "Location": f"{where}/join"}


@router.post("/threads/{thread_id}/runs", tags=["runs"])
async def create_run(ctx: Ctx, thread_id: str, body: RequiredBody) -> Any:
    run = await start_run(ctx, thread_id, body)
    return wire.WireResponse(
        run.as_dict(), headers={"Content-Location": _located(run)["Content-Location"]}
    )


@router.post("/threads/{thread_id}/runs/wait", tags=["runs"])
async def wait_run(ctx: Ctx, thread_id: str, body: RequiredBody) -> Any:
    return await _wait(await start_run(ctx, thread_id, body))


@router.post("/runs/wait", tags=["runs"])
async def wait_stateless_run(ctx: Ctx, body: RequiredBody) -> Any:
    return await _wait(await start_run(ctx, None, body))


async def _wait(run: Run) -> Any:
    await run.done.wait()
    return wire.WireResponse(run.result or {}, headers=_located(run))


@router.post("/threads/{thread_id}/runs/stream", tags=["runs"])
async def stream_run(ctx: Ctx, thread_id: str, body: RequiredBody) -> Any:
    return _streamed(await start_run(ctx, thread_id, body))


@router.post("/runs/stream", tags=["runs"])
async def stream_stateless_run(ctx: Ctx, body: RequiredBody) -> Any:
    return _streamed(await start_run(ctx, None, body))


def _streamed(run: Run) -> StreamingResponse:
    headers = {**_located(run), "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    headers["Location"] = headers["Content-Location"] + "/stream"
    return StreamingResponse(
        events(run, run.listen()), media_type="text/event-stream", headers=headers
    )


@router.get("/threads/{thread_id}/runs", tags=["runs"])
async def list_runs(
    ctx: Ctx, thread_id: str, limit: int = 10, offset: int = 0, status: str | None = None
) -> Any:
    limit, offset = page({"limit": limit, "offset": offset})
    await ctx.thread(thread_id)
    found = [r.as_dict() for r in ctx.runs.of_thread(thread_id) if status in (None, r.status)]
    return found[offset : offset + limit]


@router.get("/threads/{thread_id}/runs/{run_id}", tags=["runs"])
async def get_run(ctx: Ctx, thread_id: str, run_id: str) -> Any:
    run = ctx.runs.get(run_id)
    if run is not None and run.thread_id == thread_id:
        return run.as_dict()
    found = await ctx.runs.elsewhere(thread_id, run_id)  # another worker's or server's
    if found is None:
        raise HTTPException(404, detail=f"Run {run_id} not found")
    return found


@router.get("/threads/{thread_id}/runs/{run_id}/join", tags=["runs"])
async def join_run(ctx: Ctx, thread_id: str, run_id: str) -> Any:
    run = ctx.runs.get(run_id)
    if run is not None and run.thread_id == thread_id:
        return await _wait(run)
    await ctx.runs.wait_released(thread_id, run_id)  # a run of another process
    state = await ctx.state(thread_id)
    values = state["values"]
    return {**values, "__interrupt__": state["interrupts"]} if state["interrupts"] else values


@router.get("/threads/{thread_id}/runs/{run_id}/stream", tags=["runs"])
async def join_run_stream(ctx: Ctx, thread_id: str, run_id: str) -> Any:
    run = ctx.runs.get(run_id)
    if run is None or run.thread_id != thread_id:
        raise HTTPException(404, detail=f"Run {run_id} not found")
    return StreamingResponse(events(run, run.listen()), media_type="text/event-stream")


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", tags=["runs"])
async def cancel_run(
    ctx: Ctx, thread_id: str, run_id: str, wait: bool = False, action: str = "interrupt"
) -> Response:
    if action not in ("interrupt", "rollback"):
        raise HTTPException(422, detail="action must be interrupt or rollback")
    run = ctx.runs.get(run_id)
    if run is None or run.thread_id != thread_id:
        raise HTTPException(404, detail=f"Run {run_id} not found")
    await ctx.runs.cancel(run, rollback=action == "rollback")
    return Response(status_code=202 if not wait else 204)


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, tags=["runs"])
async def delete_run(ctx: Ctx, thread_id: str, run_id: str) -> Response:
    run = ctx.runs.get(run_id)
    if run is None or run.thread_id != thread_id:
        raise HTTPException(404, detail=f"Run {run_id} not found")
    await ctx.runs.cancel(run)
    ctx.runs.runs.pop(run_id, None)
    return Response(status_code=204)
