"""How a page goes out: a Jinja2 template, the browser's form secret, headers that keep the
page to its own scripts and styles, and how long the server took (Server-Timing)."""

from __future__ import annotations

import time
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from saver.server.context import ServerContext
from saver.server.ui import security

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("saver.server.ui", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {
    # Our own files only: no inline script, no other origin, no framing.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def base_of(request: Request) -> str:
    """Where the pages live, as the browser sees it (under a mount's root path too)."""
    ctx: ServerContext = request.app.state.saver_context
    return request.scope.get("root_path", "") + (ctx.settings.ui_path or "").rstrip("/")


def page(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    started = getattr(request.state, "started", None) or time.perf_counter()
    ctx: ServerContext = request.app.state.saver_context
    base = base_of(request)
    body = TEMPLATES.get_template(template).render(
        base=base,
        csrf=security.csrf_of(request),
        csrf_field=security.CSRF_FIELD,
        read_only=ctx.settings.read_only,
        can_run=bool(ctx.assistants) and not ctx.settings.read_only,
        token_set=bool(ctx.settings.token),
        **context,
    )
    took = (time.perf_counter() - started) * 1000
    response = HTMLResponse(body, code, headers={**HEADERS, "Server-Timing": f"app;dur={took:.1f}"})
    security.remember_csrf(request, response, base or "/")
    return response
