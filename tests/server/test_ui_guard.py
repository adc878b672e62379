"""The pages behind the server's guard, on SQLite (what the guard does does not depend on the
database): a read-only server shows no control that changes anything and refuses the forms;
with a token, a browser is asked for it once, a wrong one is refused, and the session it gets
opens the pages but not the JSON API; `--ui-path` moves the pages and `--no-ui` drops them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import HumanMessage
from playwright.sync_api import Page, expect

from saver import SqliteSaver
from tests.server.browser import shot
from tests.server.graphs import approval
from tests.server.serving import ROOT, Server, graph_options, serving

TOKEN = "ui-" + uuid.uuid4().hex
WAITING = "waiting-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A read-only server on a database where one thread waits on an interrupt."""
    where = tmp_path_factory.mktemp("ro")
    with SqliteSaver.from_conn_string(str(where / "h.db")) as saver:
        graph = approval.copy(update={"checkpointer": saver})
        graph.invoke({"messages": [HumanMessage("look, don't touch")]},
                     {"configurable": {"thread_id": WAITING}})  # fmt: skip
    with serving(f"sqlite:///{where / 'h.db'}", *graph_options(["approval"]), "--read-only",
                 log_dir=where) as s:  # fmt: skip
        yield s


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("token")
    with serving(f"sqlite:///{where / 'h.db'}", *graph_options(["echo"]), "--ui-path=/ui",
                 log_dir=where, env={"SAVER_TOKEN": TOKEN}) as s:  # fmt: skip
        yield s


def form_secret(session: httpx.Client, url: str) -> str:
    """The form secret a page gives this browser (its forms carry it back, with the cookie)."""
    session.get(url)
    return str(session.cookies["saver_csrf"])


# --- read-only -------------------------------------------------------------------------------


def test_a_read_only_server_shows_no_form_that_posts(read_only: Server) -> None:
    thread = httpx.get(f"{read_only.url}/thread/{WAITING}").text
    inbox = httpx.get(f"{read_only.url}/inbox").text
    assert WAITING in inbox and "approve?" in inbox
    for html in (thread, inbox):
        assert '<form method="post"' not in html and "read-only" in html


def test_a_read_only_server_refuses_a_page_s_form(read_only: Server) -> None:
    with httpx.Client() as session:
        secret = form_secret(session, f"{read_only.url}/inbox")
        answer = session.post(
            f"{read_only.url}/thread/{WAITING}/resume",
            data={"csrf": secret, "decision": "approve"},
        )
    assert answer.status_code == 405
    assert httpx.get(f"{read_only.url}/threads/{WAITING}").json()["status"] == "interrupted"


def test_a_form_from_a_page_of_no_origin_is_refused(read_only: Server) -> None:
    with httpx.Client() as session:
        secret = form_secret(session, f"{read_only.url}/inbox")
        for headers in ({"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
            answer = session.post(f"{read_only.url}/logout", data={"csrf": secret}, headers=headers)
            assert answer.status_code == 403 and "another site" in answer.text


def test_a_read_only_server_shows_no_mutating_control_in_a_browser(
    read_only: Server, page: Page
) -> None:
    page.goto(f"{read_only.url}/inbox")
    expect(page.locator("section.card")).to_contain_text("approve?")
    page.locator("section.card").get_by_role("link").first.click()
    expect(page.locator(".timeline tbody tr")).to_have_count(3)
    for name in ("Replay from here", "Fork from here…", "Approve", "Reject"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.locator("form[method=post]")).to_have_count(0)


# --- a token ---------------------------------------------------------------------------------


def test_a_page_without_the_token_sends_the_browser_to_log_in(guarded: Server) -> None:
    answer = httpx.get(f"{guarded.url}/ui/inbox?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=%2Fui%2Finbox%3Fx%3D1"


def test_the_login_page_refuses_a_wrong_token(guarded: Server) -> None:
    with httpx.Client() as session:
        secret = form_secret(session, f"{guarded.url}/ui/login")
        answer = session.post(f"{guarded.url}/ui/login", data={"csrf": secret, "token": "wrong"})
        assert answer.status_code == 401 and "not this server" in answer.text
        assert session.get(f"{guarded.url}/ui/").status_code == 303


def test_the_right_token_opens_the_pages_but_not_the_api(guarded: Server) -> None:
    with httpx.Client() as session:
        secret = form_secret(session, f"{guarded.url}/ui/login")
        answer = session.post(
            f"{guarded.url}/ui/login", data={"csrf": secret, "token": TOKEN, "next": "/ui/inbox"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/inbox"
        assert TOKEN not in answer.headers["set-cookie"]
        assert session.get(f"{guarded.url}/ui/inbox").status_code == 200
        assert session.post(f"{guarded.url}/threads/search", json={}).status_code == 401


def test_a_cookie_of_any_text_is_no_session_and_no_error(guarded: Server) -> None:
    answer = httpx.get(
        f"{guarded.url}/ui/", headers={"Cookie": "saver_session=\xe9t\xe9".encode("latin-1")}
    )
    assert answer.status_code == 303


def test_logging_out_asks_for_the_token_again(guarded: Server) -> None:
    with httpx.Client() as session:
        secret = form_secret(session, f"{guarded.url}/ui/login")
        session.post(f"{guarded.url}/ui/login", data={"csrf": secret, "token": TOKEN})
        assert session.get(f"{guarded.url}/ui/").status_code == 200
        answer = session.post(f"{guarded.url}/ui/logout", data={"csrf": secret})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
        assert session.get(f"{guarded.url}/ui/").status_code == 303


def test_login_sends_the_browser_only_to_a_page_of_this_server(guarded: Server) -> None:
    with httpx.Client() as session:
        secret = form_secret(session, f"{guarded.url}/ui/login")
        answer = session.post(
            f"{guarded.url}/ui/login",
            data={"csrf": secret, "token": TOKEN, "next": "//evil.example/x"},
        )
    assert answer.headers["location"] == "/ui/"


def test_the_api_keeps_its_token_header_beside_the_pages(guarded: Server) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{guarded.url}/ui/", headers=headers).status_code == 200
    assert httpx.post(f"{guarded.url}/threads/search", json={}, headers=headers).json() == []


def test_a_wrong_token_is_refused_and_the_right_one_asked_once(guarded: Server, page: Page) -> None:
    page.goto(f"{guarded.url}/ui/inbox")
    expect(page.get_by_role("heading")).to_have_text("This server needs its token")
    page.get_by_label("Token").fill("not-it")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That token is not this server's.")
    shot(page, "login-refused")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{guarded.url}/ui/inbox")
    page.goto(f"{guarded.url}/ui/")
    expect(page.get_by_role("heading", name="Threads")).to_be_visible()


# --- where the pages live --------------------------------------------------------------------


def test_no_ui_serves_the_api_alone(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'h.db'}", "--no-ui", log_dir=tmp_path) as s:
        assert httpx.get(f"{s.url}/").status_code == 404
        assert httpx.get(f"{s.url}/inbox").status_code == 404
        assert httpx.post(f"{s.url}/threads/search", json={}).json() == []


def test_a_ui_path_that_is_not_a_path_is_refused_at_start(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "saver", "serve", f"sqlite:///{tmp_path / 'h.db'}"]
    done = subprocess.run(
        [*command, "--ui-path=ui"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "--ui-path must start with /" in done.stderr
