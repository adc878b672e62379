"""The ASGI app: LangGraph's Agent Server API, agentflow's `/v1` endpoints and time travel over
one saver, behind a token, read-only mode and body limit; `/healthz` and `/metrics` beside."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from saver.errors import InvalidConfigError, StorageError, TransientStorageError
from saver.server import agent_api, agentflow, metrics, timetravel, ui
from saver.server.context import ServerContext, Settings
from saver.server.graphs import assistants
from saver.server.guard import Guard
from saver.server.runs import Runs
from saver.server.storage import open_saver
from saver.server.timed import TimedSaver

log = logging.getLogger("saver.server")


def create_app(
    checkpointer: Any,
    graph: Any = None,
    *,
    graphs: Mapping[str, Any] | None = None,
    token: str | None = None,
    read_only: bool = False,
    cors: list[str] | None = None,
    max_body: int = 10 * 1024 * 1024,
    lease: float = 30.0,
    ui_path: str | None = "/",
) -> FastAPI:
    """An app serving `checkpointer`: an async saver of this package, opened and closed by
    the caller, or a URL, which the app opens on startup (as `saver serve` does). `graph` (a
    StateGraph or a graph compiled without a checkpointer) is the assistant "agent"; `graphs`
    names several. Without a graph the app serves history only. `token`: every route but
    /healthz needs `Authorization: Bearer <token>` (the pages ask for it once). `ui_path`:
    where the web pages live (None: no pages)."""
    named = dict(graphs or {})
    if graph is not None:
        named.setdefault("agent", graph)
    if ui_path is not None and not ui_path.startswith("/"):
        raise ValueError(f"ui_path must start with /, got {ui_path!r}")
    settings = Settings(token, read_only, list(cors or []), max_body, lease, ui_path)
    ctx = ServerContext(None, {}, settings, None)

    def serve(opened: Any) -> None:
        ctx.saver = TimedSaver(opened)
        ctx.runs = Runs(ctx.saver, lease)
        ctx.assistants = assistants(named, opened)

    if not isinstance(checkpointer, str):
        serve(checkpointer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = await open_saver(checkpointer) if isinstance(checkpointer, str) else None
        if opened is not None:
            serve(opened)
        # What is loaded by now lives as long as the process: out of the collector's sight,
        # a full collection (every few thousand requests) takes a millisecond, not a hundred.
        gc.freeze()
        try:
            yield
        finally:
            await ctx.runs.close()
            if opened is not None:
                await opened.aclose()

    app = FastAPI(
        title="langgraph-checkpoint-history",
        summary="Threads, state, history and runs over your own checkpoint database.",
        lifespan=lifespan,
    )
    app.state.saver_context = ctx
    app.include_router(agent_api.router)
    app.include_router(agentflow.router)
    app.include_router(timetravel.router)
    _add_health(app, ctx)
    _add_error_handlers(app)
    if ui_path is not None:  # after the API's error handlers: the pages' own answer a page
        ui.mount(app, ui_path)
    app.add_middleware(Guard, settings=settings)  # errors of any other kind: guard.py
    if settings.cors:  # outside the guard: a preflight carries no token
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Content-Location", "Location"],
        )
    return app


def _add_health(app: FastAPI, ctx: ServerContext) -> None:
    @app.get("/healthz", tags=["server"])
    async def healthz() -> Any:
        """The database answers: 200, else 503."""
        try:
            await ctx.saver.aschema_version()
        except Exception:
            return JSONResponse({"ok": False, "detail": "the database does not answer"}, 503)
        return {"ok": True}

    @app.get("/ok", tags=["server"], include_in_schema=False)
    async def ok() -> Any:  # the Agent Server's own probe, which langgraph-sdk users know
        return {"ok": True}

    @app.get("/metrics", tags=["server"])
    async def prometheus() -> Response:
        return Response(metrics.generate(), media_type=metrics.CONTENT_TYPE)

    @app.get("/info", tags=["server"])
    async def info() -> Any:
        return {"version": "langgraph-checkpoint-history", "flags": {"assistants": True}}


def _add_error_handlers(app: FastAPI) -> None:
    """Errors as JSON naming the problem; never a stack trace, SQL text or a URL."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        ]
        return JSONResponse({"detail": "; ".join(problems)}, 422)

    @app.exception_handler(InvalidConfigError)
    async def refused(request: Request, exc: InvalidConfigError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 422)

    @app.exception_handler(TransientStorageError)
    async def transient(request: Request, exc: TransientStorageError) -> JSONResponse:
        detail = "the database is busy or restarting; try again"
        return JSONResponse({"detail": detail}, 503, headers={"Retry-After": "1"})

    @app.exception_handler(StorageError)
    async def storage(request: Request, exc: StorageError) -> JSONResponse:
        log.error(
            "storage error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return JSONResponse({"detail": f"the database failed ({type(exc).__name__})"}, 500)
