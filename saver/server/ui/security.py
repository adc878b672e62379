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
    return same(cookies.get(SESSION_COOKIE, ""), session_of(token))


def same(given: str, expected: str) -> bool:
    """Equal, in constant time; any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def csrf_of(request: Request) -> str:
    """This browser's form secret: its cookie's, or a new one (set by `remember_csrf`)."""
    known = request.cookies.get(CSRF_COOKIE, "")
    if len(known) < 32:
        known = request.state.new_csrf = secrets.token_urlsafe(32)
    return known


def remember_csrf(request: Request, response: Response, path: str) -> None:
    if getattr(request.state, "new_csrf", None):
        _cookie(request, response, CSRF_COOKIE, request.state.new_csrf, path)


def check_form(request: Request, form: Mapping[str, str]) -> None:
    """A form post from our own page: the browser says it comes from this origin (where it
    says anything: Origin, else Sec-Fetch-Site), and brings the browser's form secret back.
    The secret alone would not do: a page on another port of this host can set cookies."""
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    if origin is not None:
        foreign = urlsplit(origin).netloc != request.headers.get("host")  # "null" too
    else:
        foreign = site is not None and site not in ("same-origin", "none")
    if foreign:
        raise HTTPException(403, detail="refused: a form posted from another site")
    known = request.cookies.get(CSRF_COOKIE, "")
    if not known or not same(form.get(CSRF_FIELD, ""), known):
        raise HTTPException(403, detail="refused: the form's secret is missing or wrong; reload")


def log_in(request: Request, response: Response, token: str, path: str) -> None:
    _cookie(request, response, SESSION_COOKIE, session_of(token), path)


def log_out(response: Response, path: str) -> None:
    response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, samesite="strict")


def _cookie(request: Request, response: Response, name: str, value: str, path: str) -> None:
    """A cookie for this server's pages only: no script reads it, no other site sends it,
    and over https only where the page came over https."""
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, path=path, httponly=True, samesite="strict", secure=secure)


PAGES = ("/", "/inbox", "/login", "/logout")  # and what lies under these:
UNDER = ("/inbox/", "/thread/", "/assets/")


def is_open(page: str) -> bool:
    """What a browser without the token may load: the login page and the style and script."""
    return page == "/login" or page.startswith("/assets/")


def page_path(path: str, ui_path: str | None) -> str | None:
    """`path` within the pages (`/`, `/inbox`, `/thread/...`), or None if not a page's."""
    if ui_path is None:
        return None
    prefix = ui_path.rstrip("/")
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        return None
    inner = path[len(prefix) :] or "/"
    return inner if inner in PAGES or inner.startswith(UNDER) else None
