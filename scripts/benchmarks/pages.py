"""Time to first render of the web pages (`saver serve`'s viewer), on SQLite and PostgreSQL.

One database holds 10⁵ threads (a one-turn chat, copied row by row as scale.py grows its
databases), a thread of about 1,000 checkpoints with 20 forks (each an update_state at an
older step, then a run from it), and a thread whose head holds 500 messages. For each page:
the server's own time (its Server-Timing header: from the route's start to the rendered
HTML, median of 20 requests after 2 unmeasured ones), the whole HTTP request from this
process, and the browser's `load` event in Debian's headless Chromium (a new browser context
each time, so the style sheet and script are fetched too; median of 5). The JSON API's
answer for the same data (threads.search, get_history, get_state) is timed beside each page
as the reference: what the page costs over the data it shows.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from langchain_core.messages import HumanMessage

from saver import AsyncPostgresSaver, AsyncSqliteSaver, PostgresSaver, SqliteSaver
from scripts.benchmarks.common import ROOT
from scripts.benchmarks.databases import fresh_databases, server_url
from scripts.benchmarks.scale import Side, thread_name, thread_tables
from scripts.benchmarks.serve_graph import chat, said
from scripts.benchmarks.server import as_url, process

GRAPH = "chat=scripts/benchmarks/serve_graph.py:chat"
THREADS = 100_000
FORKED, LONG = "forked-1000", "messages-500"
FORKS = 20
SERVER_GOAL, LOAD_GOAL = 0.100, 1.0  # seconds
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


async def populate_threads(url: str, threads: int) -> None:
    """One thread of one turn, then copies of it up to `threads` threads."""
    opened = AsyncSqliteSaver if url.startswith("sqlite") else AsyncPostgresSaver
    async with opened.from_conn_string(_conn(url)) as saver:
        await chat.compile(checkpointer=saver).ainvoke(
            said("hello"), {"configurable": {"thread_id": thread_name(0)}}
        )
    with _side(url) as side:
        side.tables = thread_tables(side)
        side.grow(threads)


@contextmanager
def _side(url: str) -> Iterator[Side]:
    if url.startswith("sqlite"):
        import sqlite3

        path = url.removeprefix("sqlite:///")
        with SqliteSaver.from_conn_string(path) as saver, sqlite3.connect(path) as raw:
            yield Side("ours", "sqlite", saver, raw, [])
    else:
        with (
            PostgresSaver.from_conn_string(url) as saver,
            psycopg.connect(url, autocommit=True) as raw,
        ):
            yield Side("ours", "postgres", saver, raw, [])


def _conn(url: str) -> str:
    return url.removeprefix("sqlite:///") if url.startswith("sqlite") else url


async def populate_long(url: str, quick: bool) -> None:
    """The forked thread (about 1,000 checkpoints, 20 forks) and the 500-message thread."""
    opened = AsyncSqliteSaver if url.startswith("sqlite") else AsyncPostgresSaver
    async with opened.from_conn_string(_conn(url)) as saver:
        graph = chat.compile(checkpointer=saver)
        forked = {"configurable": {"thread_id": FORKED}}
        turns = 60 if quick else 320
        for turn in range(turns):
            await graph.ainvoke(said(f"turn {turn}"), forked)
        history = [s async for s in graph.aget_state_history(forked)]
        for n in range(FORKS):
            at = history[(n + 1) * len(history) // (FORKS + 2)].config
            fork = await graph.aupdate_state(
                at, {"messages": [HumanMessage(f"fork {n}")]}, as_node="__start__"
            )
            await graph.ainvoke(None, fork)
        long = {"configurable": {"thread_id": LONG}}
        for turn in range(50 if quick else 250):
            await graph.ainvoke(said(f"message {turn}"), long)


def server_times(url: str, path: str, calls: int = 20) -> tuple[float, float]:
    """Median Server-Timing and median whole request, in seconds."""
    inside, whole = [], []
    with httpx.Client(base_url=url, timeout=60) as http:
        for n in range(calls + 2):
            started = time.perf_counter()
            answer = http.get(path)
            took = time.perf_counter() - started
            answer.raise_for_status()
            if n >= 2:
                whole.append(took)
                inside.append(float(answer.headers["server-timing"].split("dur=")[1]) / 1000)
    return statistics.median(inside), statistics.median(whole)


def api_time(url: str, method: str, path: str, body: Any = None, calls: int = 20) -> float:
    times = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for n in range(calls + 2):
            started = time.perf_counter()
            http.request(method, path, json=body).raise_for_status()
            if n >= 2:
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def load_times(url: str, paths: list[str], runs: int = 5) -> dict[str, float]:
    """Median time to the browser's load event, per path, in seconds."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for path in paths:
            seen = []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(url + path, wait_until="load")
                seen.append(page.evaluate(
                    "performance.getEntriesByType('navigation')[0].loadEventEnd"
                ) / 1000)  # fmt: skip
                context.close()
            out[path] = statistics.median(seen)
        browser.close()
    return out


def measure(url: str, head_of_forked: str) -> list[dict[str, Any]]:
    pages = [
        ("threads page, 10⁵ threads", "/", ("POST", "/threads/search", {"limit": 50})),
        (
            "thread, ~1,000 checkpoints, 20 forks",
            f"/thread/{FORKED}",
            ("POST", f"/threads/{FORKED}/history", {"limit": 1000}),
        ),
        ("step with 500 messages", f"/thread/{LONG}", ("GET", f"/threads/{LONG}/state", None)),
    ]
    loads = load_times(url, [p for _, p, _ in pages])
    rows = []
    for label, path, (method, api_path, body) in pages:
        inside, whole = server_times(url, path)
        rows.append(
            {
                "page": label,
                "server_s": inside,
                "request_s": whole,
                "load_s": loads[path],
                "api_s": api_time(url, method, api_path, body),
            }
        )
    return rows


def report(backend: str, rows: list[dict[str, Any]], sizes: dict[str, int]) -> None:
    print(f"\n  {backend}: {sizes['threads']:,} threads, forked thread "
          f"{sizes['forked']:,} checkpoints, long thread {sizes['messages']} messages")  # fmt: skip
    print(f"  {'page':<38}{'server':>9}{'request':>9}{'load':>9}{'JSON API':>10}  goals")
    for r in rows:
        met = r["server_s"] <= SERVER_GOAL and r["load_s"] <= LOAD_GOAL
        print(
            f"  {r['page']:<38}{r['server_s'] * 1000:>7.1f}ms{r['request_s'] * 1000:>7.1f}ms"
            f"{r['load_s'] * 1000:>7.0f}ms{r['api_s'] * 1000:>8.1f}ms  "
            f"{'met' if met else 'MISSED'} (≤{SERVER_GOAL * 1000:.0f} ms, ≤{LOAD_GOAL:.0f} s)"
        )


def run_backend(url: str, threads: int, quick: bool) -> dict[str, Any]:
    started = time.perf_counter()
    asyncio.run(populate_threads(url, threads))
    asyncio.run(populate_long(url, quick))
    print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)
    command = ["saver", "serve", url, "--port={port}", f"--graph={GRAPH}"]
    with process([str(ROOT / ".venv/bin/python"), "-m", *command], "/healthz", ROOT, {}) as served:
        info = httpx.get(f"{served}/threads/{FORKED}").json()
        forked = httpx.post(f"{served}/threads/{FORKED}/history", json={"limit": 1000}).json()
        long = httpx.get(f"{served}/threads/{LONG}/state").json()
        sizes = {"threads": threads, "forked": len(forked),
                 "messages": len(long["values"]["messages"])}  # fmt: skip
        rows = measure(served, info["thread_id"])
    return {"sizes": sizes, "pages": rows}


def run(quick: bool = False) -> dict[str, Any]:
    threads = 2_000 if quick else THREADS
    out = {}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pages-")))
        out["sqlite"] = run_backend(f"sqlite:///{folder / 'pages.db'}", threads, quick)
        report("SQLite", out["sqlite"]["pages"], out["sqlite"]["sizes"])
        urls = stack.enter_context(fresh_databases(server_url(), ["pages"]))
        out["postgres"] = run_backend(as_url(urls["pages"]), threads, quick)
        report("PostgreSQL", out["postgres"]["pages"], out["postgres"]["sizes"])
    return out
