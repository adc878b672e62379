"""The web pages over HTTP (no browser): what each page lists and finds, where its forms
may come from, what a read-only or token-guarded server shows, and where the pages live.
What a person sees and clicks is tests/server/test_ui_browser.py."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client

from saver import SqliteSaver
from tests.server.graphs import echo
from tests.server.serving import Server


def said(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


def new_thread(server: Server, graph: str = "echo", text: str = "hi", **metadata: object) -> str:
    client = get_sync_client(url=server.url)
    tid = client.threads.create(thread_id=str(uuid.uuid4()), metadata=metadata)["thread_id"]
    client.runs.wait(tid, graph, input=said(text), metadata=metadata or None)
    return tid


# What the page does, whatever the database: once, on SQLite.
sqlite_only = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


def form_secret(session: httpx.Client, url: str) -> str:
    """The form secret a page gives this browser (its forms carry it back, with the cookie)."""
    page = session.get(url)
    secret = session.cookies["saver_csrf"]
    assert 'name="csrf"' not in page.text or f'value="{secret}"' in page.text
    return secret


def test_the_threads_page_lists_a_thread_with_its_status(server: Server) -> None:
    tid = new_thread(server, "approval")
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert tid in page.text and "waiting on an interrupt" in page.text


def test_the_threads_page_finds_by_id_prefix(server: Server) -> None:
    tid = new_thread(server)
    page = httpx.get(f"{server.url}/", params={"q": tid[:13]}).text
    assert tid in page and page.count('class="thread-link"') == 1


@pytest.mark.parametrize("where", ["thread", "checkpoint"])
def test_the_threads_page_finds_by_metadata(server: Server, where: str) -> None:
    mark = uuid.uuid4().hex
    tid = new_thread(server, mark=mark)
    new_thread(server, mark="other")
    page = httpx.get(f"{server.url}/", params={"metadata": f"mark={mark}", "where": where}).text
    assert tid in page and page.count('class="thread-link"') == 1


def test_the_threads_page_filters_by_status(server: Server) -> None:
    waiting, done = new_thread(server, "approval"), new_thread(server)
    page = httpx.get(f"{server.url}/", params={"status": "interrupted"}).text
    assert waiting in page and done not in page


@sqlite_only
def test_a_metadata_search_that_is_not_key_value_says_so(server: Server) -> None:
    page = httpx.get(f"{server.url}/", params={"metadata": "nokey"})
    assert page.status_code == 200 and "takes KEY=VALUE" in page.text


@sqlite_only
def test_the_threads_page_pages_on_the_server(server: Server) -> None:
    first = httpx.get(f"{server.url}/", params={"offset": 0}).text
    assert first.count('class="thread-link"') <= 50


@sqlite_only
def test_a_wrong_query_parameter_is_a_422_page(server: Server) -> None:
    answer = httpx.get(f"{server.url}/", params={"offset": -1})
    assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]
    assert "offset" in answer.text


@sqlite_only
def test_a_long_history_shows_a_window_of_steps_and_pages_through_them(
    server: Server, store: Any
) -> None:
    tid = str(uuid.uuid4())
    with SqliteSaver.from_conn_string(store.path) as saver:
        graph = echo.compile(checkpointer=saver)
        for turn in range(70):  # 3 checkpoints a turn
            graph.invoke(said(f"turn {turn}"), {"configurable": {"thread_id": tid}})
        oldest = list(graph.get_state_history({"configurable": {"thread_id": tid}}))[-1]
    page = httpx.get(f"{server.url}/thread/{tid}").text
    assert page.count("data-checkpoint=") == 200 and "steps 1–200 of 210" in page
    at = oldest.config["configurable"]["checkpoint_id"]
    later = httpx.get(f"{server.url}/thread/{tid}", params={"at": at}).text
    assert "steps 201–210 of 210" in later and 'class="selected"' in later
    assert f'href="?at={at}&amp;first=0"' in later  # "Newer steps", the step kept selected


def test_a_thread_page_shows_its_steps_and_the_head_s_messages(server: Server) -> None:
    tid = new_thread(server, text="ping")
    page = httpx.get(f"{server.url}/thread/{tid}").text
    assert page.count("data-checkpoint=") == 3 and "echo: ping" in page
    assert "Replay from here" in page and "Fork from here" in page


def test_an_unknown_thread_is_a_404_page(server: Server) -> None:
    page = httpx.get(f"{server.url}/thread/{uuid.uuid4()}")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "not found" in page.text and "Traceback" not in page.text


@sqlite_only
def test_an_unknown_checkpoint_is_a_404_page(server: Server) -> None:
    tid = new_thread(server)
    assert httpx.get(f"{server.url}/thread/{tid}", params={"at": "nope"}).status_code == 404


def test_the_inbox_shows_what_a_waiting_thread_asks(server: Server) -> None:
    tid = new_thread(server, "approval")
    page = httpx.get(f"{server.url}/inbox").text
    assert tid in page and "approve?" in page and "Approve" in page


@sqlite_only
def test_a_form_without_its_secret_is_refused(server: Server) -> None:
    tid = new_thread(server, "approval")
    answer = httpx.post(f"{server.url}/thread/{tid}/resume", data={"decision": "approve"})
    assert answer.status_code == 403 and "secret" in answer.text
    assert httpx.get(f"{server.url}/threads/{tid}").json()["status"] == "interrupted"


@sqlite_only
def test_a_form_posted_from_another_site_is_refused(server: Server) -> None:
    tid = new_thread(server, "approval")
    with httpx.Client() as session:
        secret = form_secret(session, f"{server.url}/inbox")
        answer = session.post(
            f"{server.url}/thread/{tid}/resume",
            data={"csrf": secret, "decision": "approve"},
            headers={"Origin": "http://evil.example"},
        )
    assert answer.status_code == 403 and "another site" in answer.text


def test_an_approval_from_the_page_resumes_the_thread(server: Server) -> None:
    tid = new_thread(server, "approval")
    with httpx.Client() as session:
        secret = form_secret(session, f"{server.url}/inbox")
        answer = session.post(
            f"{server.url}/thread/{tid}/resume", data={"csrf": secret, "decision": "approve"}
        )
    assert answer.status_code == 303 and answer.headers["location"] == f"/thread/{tid}"
    joined = get_sync_client(url=server.url).runs.list(tid)[0]
    values = get_sync_client(url=server.url).runs.join(tid, joined["run_id"])
    assert values["messages"][-1]["content"] == "approved: True"


@sqlite_only
def test_an_approval_of_a_step_the_thread_left_is_refused(server: Server) -> None:
    tid = new_thread(server, "approval")
    head = httpx.get(f"{server.url}/threads/{tid}/state").json()["checkpoint_id"]
    get_sync_client(url=server.url).runs.wait(tid, "approval", input=said("again"))
    with httpx.Client() as session:
        secret = form_secret(session, f"{server.url}/inbox")
        answer = session.post(
            f"{server.url}/thread/{tid}/resume",
            data={"csrf": secret, "decision": "approve", "checkpoint_id": head},
        )
    assert answer.status_code == 409 and "moved on" in answer.text


@sqlite_only
def test_an_answer_that_is_not_json_is_a_422_page(server: Server) -> None:
    tid = new_thread(server, "approval")
    with httpx.Client() as session:
        secret = form_secret(session, f"{server.url}/inbox")
        answer = session.post(
            f"{server.url}/thread/{tid}/resume",
            data={"csrf": secret, "decision": "edit", "value": "{oops"},
        )
    assert answer.status_code == 422 and "is not JSON" in answer.text
    assert "text/html" in answer.headers["content-type"]


@sqlite_only
def test_the_api_still_answers_json_errors(server: Server) -> None:
    answer = httpx.get(f"{server.url}/threads/{uuid.uuid4()}")
    assert answer.status_code == 404 and "not found" in answer.json()["detail"]


@sqlite_only
def test_pages_allow_only_their_own_scripts(server: Server) -> None:
    headers = httpx.get(f"{server.url}/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["server-timing"].startswith("app;dur=")
