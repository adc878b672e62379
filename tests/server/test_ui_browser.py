"""The web pages as a person uses them, in Debian's headless Chromium against a real
`saver serve` on SQLite and PostgreSQL: approve from the inbox and see the thread go on, click
two steps and read their diff, fork from an old step with an edited message and see the
branch; a read-only server, a token, the keyboard, axe-core, a phone-width screen."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph_sdk import get_sync_client
from playwright.sync_api import Browser, Page, expect

from tests.server.browser import DESKTOP, PHONE, axe_violations, backend, shot
from tests.server.serving import Server

# What the page does, whatever the database: once, on SQLite.
sqlite_only = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def thread_of(server: Server, graph: str, *texts: str) -> str:
    client = get_sync_client(url=server.url)
    tid = client.threads.create(thread_id=str(uuid.uuid4()))["thread_id"]
    for text in texts:
        client.runs.wait(tid, graph, input=said(text))
    return tid


def test_the_inbox_approves_an_interrupt_and_the_thread_goes_on(
    server: Server, page: Page, store: Any
) -> None:
    tid = thread_of(server, "approval", "ship it?")
    page.goto(f"{server.url}/inbox")
    card = page.locator("section.card", has_text=tid)
    expect(card).to_contain_text("approve?")
    shot(page, f"inbox-{backend(store)}")
    card.get_by_role("button", name="Approve").click()
    expect(page).to_have_url(f"{server.url}/thread/{tid}")
    expect(page.locator(".facts .badge")).to_have_text("idle")
    expect(page.locator(".chat")).to_contain_text("approved: True")
    page.goto(f"{server.url}/inbox")
    expect(page.locator("section.card", has_text=tid)).to_have_count(0)


@sqlite_only
def test_the_inbox_resumes_with_an_edited_answer(server: Server, page: Page) -> None:
    tid = thread_of(server, "approval", "edit me")
    page.goto(f"{server.url}/inbox")
    card = page.locator("section.card", has_text=tid)
    card.get_by_text("Answer with a value…").click()
    card.get_by_label("What interrupt() returns, as JSON").fill('{"ok": "with changes"}')
    card.get_by_role("button", name="Resume with this value").click()
    expect(page.locator(".chat")).to_contain_text("approved: {'ok': 'with changes'}")


@sqlite_only
def test_the_inbox_shows_a_new_interrupt_without_a_reload(server: Server, page: Page) -> None:
    page.goto(f"{server.url}/inbox")
    page.evaluate("window.stayed = true")
    tid = thread_of(server, "approval", "arrived later")
    expect(page.locator("section.card", has_text=tid)).to_contain_text("approve?")
    assert page.evaluate("window.stayed") is True


def test_a_thread_page_shows_new_steps_as_they_arrive(server: Server, page: Page) -> None:
    tid = thread_of(server, "echo", "first")
    page.goto(f"{server.url}/thread/{tid}")
    page.evaluate("window.stayed = true")
    get_sync_client(url=server.url).runs.wait(tid, "echo", input=said("second"))
    expect(page.locator(".chat")).to_contain_text("echo: second")
    expect(page.locator(".timeline tbody tr")).to_have_count(6)
    assert page.evaluate("window.stayed") is True


def test_two_steps_clicked_show_what_changed_between_them(
    server: Server, page: Page, store: Any
) -> None:
    tid = thread_of(server, "tools", "add")
    page.goto(f"{server.url}/thread/{tid}")
    rows = page.locator(".timeline tbody tr")
    rows.nth(0).get_by_role("link").first.click()  # the head: the answer
    rows.nth(4).get_by_role("link", name="diff").click()  # against the input
    changes = page.locator(".change")
    expect(page.locator("#changes")).to_contain_text("(chosen)")
    expect(changes.locator(".diff-add")).to_have_count(4)  # question, call, result, answer
    expect(changes.locator(".diff-add").last).to_contain_text("the sum is 5")
    expect(changes.locator(".diff-add .msg-tool")).to_contain_text("5")
    shot(page, f"thread-diff-{backend(store)}")


def test_a_fork_with_an_edited_message_makes_a_branch(
    server: Server, page: Page, store: Any
) -> None:
    tid = thread_of(server, "echo", "hello")
    page.goto(f"{server.url}/thread/{tid}")
    page.locator(".timeline tbody tr").nth(1).get_by_role("link").first.click()  # before chat ran
    page.get_by_text("Fork from here…").click()
    page.get_by_label("1. human").fill("hello, edited")
    page.get_by_role("button", name="Fork", exact=True).click()
    expect(page.locator(".tag.fork")).to_have_count(1)
    expect(page.locator(".timeline tr.selected")).to_contain_text("update_state")
    expect(page.locator(".chat")).to_contain_text("hello, edited")
    page.get_by_role("button", name="Replay from here").click()
    expect(page.locator(".timeline tbody tr").first).to_contain_text("chat")
    expect(page.locator(".chat")).to_contain_text("echo: hello, edited")
    expect(page.locator(".tag.head")).to_have_count(2)
    expect(page.locator(".facts .badge")).to_have_text("idle")
    shot(page, f"thread-fork-{backend(store)}")


@sqlite_only
def test_a_fork_can_drop_a_message(server: Server, page: Page) -> None:
    tid = thread_of(server, "echo", "keep", "drop me")
    page.goto(f"{server.url}/thread/{tid}")
    page.get_by_text("Fork from here…").click()
    page.get_by_label("drop message 3").check()
    page.get_by_role("button", name="Fork", exact=True).click()
    said_by_person = page.locator(".chat .msg-human .text")
    expect(said_by_person).to_have_text(["keep"])
    expect(page.locator(".chat")).to_contain_text("echo: drop me")


@sqlite_only
def test_every_control_is_reachable_by_keyboard(server: Server, page: Page) -> None:
    tid = thread_of(server, "approval", "keys")
    page.goto(f"{server.url}/thread/{tid}")
    reached = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.textContent.trim().slice(0, 40)"))
    assert {"Replay from here", "Fork from here…", "copy", "Approvals", "Threads"} <= reached
    page.goto(f"{server.url}/inbox")
    page.locator("section.card", has_text=tid).get_by_role("link").focus()
    page.keyboard.press("Tab")  # the last message's copy button
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Approve
    expect(page).to_have_url(f"{server.url}/thread/{tid}")
    expect(page.locator(".chat")).to_contain_text("approved: True")


@sqlite_only
@pytest.mark.parametrize("path", ["/", "/inbox", "/thread/{tid}"])
def test_axe_finds_nothing_wrong(server: Server, browser: Browser, path: str) -> None:
    tid = thread_of(server, "tools", "axe")
    thread_of(server, "approval", "axe")
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)  # axe is a script of its own
    page = context.new_page()
    page.goto(server.url + path.format(tid=tid))
    shot(page, "page-" + (path.strip("/").split("/")[0] or "threads"))
    assert axe_violations(page) == []
    if "thread" in path:  # and the fork form
        page.get_by_text("Fork from here…").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Fork from step")
        shot(page, "page-fork")
        assert axe_violations(page) == []
    context.close()


@sqlite_only
def test_a_phone_width_screen_scrolls_no_page_sideways(
    server: Server, browser: Browser, store: Any
) -> None:
    tid = thread_of(server, "tools", "on a phone")
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    for path in ("/", "/inbox", f"/thread/{tid}"):
        page.goto(server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    shot(page, f"thread-phone-{backend(store)}")
    context.close()
