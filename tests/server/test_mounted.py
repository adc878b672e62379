"""create_app mounted in a user's FastAPI app, under a path, with the saver from its lifespan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from langgraph_sdk import get_client

from tests.server.serving import ROOT, Server, free_port, wait_ready


async def test_the_sdk_works_against_a_mounted_app(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.server.mounted_app:app", f"--port={port}"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MOUNTED_DB": str(tmp_path / "h.db")},
        )  # fmt: skip
    try:
        wait_ready(Server(f"http://127.0.0.1:{port}", process, log))
        client = get_client(url=f"http://127.0.0.1:{port}/agent")
        tid = (await client.threads.create())["thread_id"]
        result = await client.runs.wait(tid, "agent", input={"messages": [("user", "hi")]})
        found = await client.threads.search()
        page = httpx.get(f"http://127.0.0.1:{port}/agent/thread/{tid}")
        inbox = httpx.get(f"http://127.0.0.1:{port}/agent/inbox")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    assert [m["content"] for m in result["messages"]] == ["hi", "echo: hi"]
    assert [t["thread_id"] for t in found] == [tid]
    # the pages under the mount too, their links and assets under its path
    assert page.status_code == 200 and "echo: hi" in page.text
    assert 'href="/agent/assets/ui.css"' in page.text and 'href="/agent/inbox"' in page.text
    assert inbox.status_code == 200
