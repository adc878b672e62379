"""The web viewer: threads, a thread's fork tree and steps, the approvals inbox, time travel
from any step. Server-rendered pages (Jinja2) with one small script of our own."""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from saver.server.ui import actions, pages, security
from saver.server.ui.site import page

TITLES = {401: "Log in first", 403: "Refused", 404: "Not found", 405: "Read-only",
          409: "Not now", 422: "That cannot be done", 503: "The database is away"}  # fmt: skip


def mount(app: FastAPI, ui_path: str) -> None:
    """The pages under `ui_path`; their errors answered as pages, the API's as before."""
    prefix = ui_path.rstrip("/")
    app.include_router(pages.router, prefix=prefix)
    app.include_router(actions.router, prefix=prefix)
    api_invalid = app.exception_handlers[RequestValidationError]

    def on_page(request: Request) -> bool:
        local = request.url.path[len(request.scope.get("root_path", "")) :]
        page_of = security.page_path(local, ui_path)
        return page_of is not None and not page_of.startswith("/assets/")

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> Response:
        if not on_page(request):
            return await http_exception_handler(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _error_page(request, exc.status_code, detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not on_page(request):
            answer = api_invalid(request, exc)
            return await answer if isinstance(answer, Awaitable) else answer
        problems = "; ".join(f"{e['loc'][-1]}: {e.get('msg')}" for e in exc.errors())
        return _error_page(request, 422, problems)


def _error_page(request: Request, code: int, detail: str) -> Response:
    """An error as a page, with a way back: never a stack trace, as the API's never are."""
    came = urlsplit(request.headers.get("referer", ""))
    same_site = came.netloc == request.headers.get("host")
    back = came.path + (f"?{came.query}" if came.query else "") if same_site else None
    title = TITLES.get(code, "Something went wrong")
    return page(request, "error.html", code, title=title, detail=detail, back=back)
