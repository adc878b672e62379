"""The web viewer: threads, a thread's fork tree and steps, the approvals inbox, time travel
from any step. Server-rendered pages (Jinja2) with one small script of our own."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import Response

from saver.server.ui import actions, pages, security
from saver.server.ui.site import page

TITLES = {401: "Log in first", 403: "Refused", 404: "Not found", 405: "Read-only",
          409: "Not now", 422: "That cannot be done", 503: "The database is away"}  # fmt: skip


def mount(app: FastAPI, ui_path: str) -> None:
    prefix = ui_path.rstrip("/")
    app.include_router(pages.router, prefix=prefix)
    app.include_router(actions.router, prefix=prefix)

    @app.exception_handler(HTTPException)
    async def answered(request: Request, exc: HTTPException) -> Response:
        """A page's error as a page (with a way back); the API's as JSON, as before."""
        local = request.url.path[len(request.scope.get("root_path", "")) :]
        if security.page_path(local, ui_path) is None or local.startswith(f"{prefix}/assets/"):
            return await http_exception_handler(request, exc)
        title = TITLES.get(exc.status_code, "Something went wrong")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        back = request.headers.get("referer") if request.method == "POST" else None
        return page(request, "error.html", exc.status_code,
                    title=title, detail=detail, back=back)  # fmt: skip
