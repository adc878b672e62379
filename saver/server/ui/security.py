"""The pages' own defences: a session cookie standing for the token (so a person types it
once), and a per-browser secret every form carries back (so another site cannot post one)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response

SESSION_COOKIE = "saver_session"
CSRF_COOKIE = "saver_csrf"
CSRF_FIELD = "csrf"


def session_of(token: str) -> str:
    """What the session cookie holds for `token`: derived from it, never the token itself."""
    return hmac.new(token.encode(), b"saver-ui-session", hashlib.sha256).hexdigest()


def has_session(cookies: Mapping[str, str], token: str) -> bool:
    return hmac.compare_digest(cookies.get(SESSION_COOKIE, ""), session_of(token))


def csrf_of(request: Request) -> str:
    """This browser's form secret: its cookie's, or a new one (set by `remember_csrf`)."""
    known = request.cookies.get(CSRF_COOKIE, "")
    if len(known) < 32:
        known = request.state.new_csrf = secrets.token_urlsafe(32)
    return known


def remember_csrf(request: Request, response: Response, path: str) -> None:
    if getattr(request.state, "new_csrf", None):
        response.set_cookie(
            CSRF_COOKIE, request.state.new_csrf, path=path, httponly=True, samesite="strict"
        )


def check_form(request: Request, form: Mapping[str, str]) -> None:
    """A form post from our own page: same origin, and the browser's form secret back."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, detail="refused: a form posted from another site")
    known = request.cookies.get(CSRF_COOKIE, "")
    if not known or not hmac.compare_digest(form.get(CSRF_FIELD, ""), known):
        raise HTTPException(403, detail="refused: the form's secret is missing or wrong; reload")


def log_in(response: Response, token: str, path: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_of(token), path=path, httponly=True, samesite="strict"
    )


PAGES = ("/inbox", "/thread/", "/login", "/assets/")
OPEN_PAGES = ("/login", "/assets/")  # what a browser without the token may load


def page_path(path: str, ui_path: str | None) -> str | None:
    """`path` within the pages (`/`, `/inbox`, `/thread/...`), or None if not a page's."""
    if ui_path is None:
        return None
    prefix = ui_path.rstrip("/")
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        return None
    inner = path[len(prefix) :] or "/"
    return inner if inner == "/" or inner.startswith(PAGES) else None
