"""What the pages' buttons do: log in, resume a thread waiting on an interrupt, replay from a
step, fork from a step with edited state. Each form is checked (security.check_form) and
answers with a redirect to the page that shows what it did."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from langchain_core.messages import RemoveMessage

from saver.core.views import ThreadInfo, is_messages
from saver.server import wire
from saver.server.agent_api import start_run, updated_state
from saver.server.context import Ctx, ServerContext
from saver.server.ui import security
from saver.server.ui.pages import checkpoint_of, start_timer
from saver.server.ui.site import base_of, page

router = APIRouter(include_in_schema=False)
DECISIONS = {"approve": True, "reject": False}  # what interrupt() returns for each button


async def form_of(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


@router.get("/login")
async def login_page(request: Request, ctx: Ctx, next: str = "") -> Response:
    start_timer(request)
    if not ctx.settings.token:  # nothing to log in to
        return RedirectResponse(_local(next) or base_of(request) + "/", 303)
    return page(request, "login.html", next=_local(next), problem=None)


@router.post("/login")
async def log_in(request: Request, ctx: Ctx) -> Response:
    start_timer(request)
    form = await form_of(request)
    security.check_form(request, form)
    token = ctx.settings.token or ""
    given = form.get("token", "")
    if not token or not security.same(given, token):
        problem = "That token is not this server's." if token else "This server has no token."
        return page(request, "login.html", 401, next=_local(form.get("next", "")), problem=problem)
    base = base_of(request)
    answer = RedirectResponse(_local(form.get("next", "")) or base + "/", 303)
    security.log_in(request, answer, token, base or "/")
    return answer


@router.post("/logout")
async def log_out(request: Request) -> Response:
    await _checked(request)
    base = base_of(request)
    answer = RedirectResponse(base + "/login", 303)
    security.log_out(answer, base or "/")
    return answer


def _local(target: str) -> str:
    """A redirect only to a path of this server: never `//elsewhere` or a full URL."""
    return target if target.startswith("/") and not target.startswith("//") else ""


async def _checked(request: Request) -> dict[str, str]:
    form = await form_of(request)
    security.check_form(request, form)
    return form


def _thread_url(request: Request, thread_id: str, at: str = "") -> str:
    url = f"{base_of(request)}/thread/{quote(thread_id, safe='')}"
    return f"{url}?at={quote(at, safe='')}" if at else url


@router.post("/thread/{thread_id}/resume")
async def resume(request: Request, ctx: Ctx, thread_id: str) -> Response:
    """Approve, reject, or answer with an edited value: Command(resume=...) through the
    thread's graph; then the thread's page, which follows the run."""
    form = await _checked(request)
    decision = form.get("decision", "")
    if decision in DECISIONS:
        value: Any = DECISIONS[decision]
    elif decision == "edit":
        value = _json(form.get("value", ""), "the answer")
    else:
        raise HTTPException(422, detail="decision must be approve, reject or edit")
    interrupt_id = form.get("interrupt_id") or None
    info = await ctx.thread(thread_id)
    if form.get("checkpoint_id") and form["checkpoint_id"] != info.head_id:
        raise HTTPException(409, detail="the thread moved on since this page showed it: reload")
    assistant = _assistant(ctx, info)
    resume_value = {interrupt_id: value} if interrupt_id and form.get("by_id") else value
    body = {"assistant_id": assistant, "command": {"resume": resume_value},
            "multitask_strategy": "reject"}  # fmt: skip
    await start_run(ctx, thread_id, body)
    return RedirectResponse(_thread_url(request, thread_id), 303)


@router.post("/thread/{thread_id}/replay")
async def replay(request: Request, ctx: Ctx, thread_id: str) -> Response:
    """Run the graph again from a checkpoint: what follows it becomes a new branch."""
    form = await _checked(request)
    checkpoint_id = _required(form, "checkpoint_id")
    assistant_id = _assistant(ctx, await ctx.thread(thread_id))
    body = {"assistant_id": assistant_id, "checkpoint_id": checkpoint_id,
            "input": None, "multitask_strategy": "reject"}  # fmt: skip
    await start_run(ctx, thread_id, body)
    return RedirectResponse(_thread_url(request, thread_id), 303)


@router.post("/thread/{thread_id}/fork")
async def fork(request: Request, ctx: Ctx, thread_id: str) -> Response:
    """update_state at a checkpoint with the form's edits: other channels as JSON, and each
    message kept, edited (same id, new text) or dropped (RemoveMessage)."""
    form = await _checked(request)
    checkpoint_id = _required(form, "checkpoint_id")
    found = await checkpoint_of(ctx, thread_id, checkpoint_id)
    values = wire.visible(found.checkpoint["channel_values"])
    update: dict[str, Any] = {}
    edited = _json(form.get("values", "") or "{}", "the state")
    if not isinstance(edited, dict):
        raise HTTPException(422, detail="the state must be a JSON object of channels")
    for channel, value in edited.items():
        if channel not in values or wire.encode(values[channel]) != value:
            update[channel] = value
    for channel, messages in values.items():
        if is_messages(messages):
            changed = _message_edits(form, channel, messages)
            if changed:
                update[channel] = changed
    config = await updated_state(
        ctx,
        thread_id,
        {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint_id},
        update or None,
        form.get("as_node") or None,
    )
    new_id = config["configurable"]["checkpoint_id"]
    return RedirectResponse(_thread_url(request, thread_id, new_id), 303)


def _message_edits(form: dict[str, str], channel: str, messages: list[Any]) -> list[Any]:
    """The messages a fork changes: fields `{channel}.{i}.drop` and `{channel}.{i}.text`."""
    out: list[Any] = []
    for i, message in enumerate(messages):
        key = f"{channel}.{i}"
        if form.get(f"{key}.drop") and message.id:
            out.append(RemoveMessage(id=message.id))
            continue
        text = form.get(f"{key}.text")
        if text is not None and isinstance(message.content, str):
            text = text.replace("\r\n", "\n")
            if text != message.content:
                out.append(message.model_copy(update={"content": text}))
    return out


def _assistant(ctx: ServerContext, info: ThreadInfo) -> str:
    found = ctx.graph_of(info)
    if found is None:
        raise HTTPException(409, detail="this server runs no graph: start it with --graph")
    return found.assistant_id


def _required(form: dict[str, str], name: str) -> str:
    if not form.get(name):
        raise HTTPException(422, detail=f"{name} is required")
    return form[name]


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise HTTPException(422, detail=f"{what} is not JSON: {e}") from None
