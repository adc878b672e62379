"""The same client calls against LangGraph's own in-memory Agent Server (`langgraph dev`) and
against `saver serve`, running the same graphs: the answers agree on what they say (values,
statuses, interrupts, next nodes, history, stream events, errors), and ours carry every
field theirs do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError

from tests.server.serving import GRAPHS, READY_WITHIN, ROOT, Server, free_port

DEV_GRAPHS = ("approval", "tools", "failing", "held")


@pytest.fixture(scope="module")
def langgraph_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    where = tmp_path_factory.mktemp("langgraph-dev")
    config = {"dependencies": ["."], "graphs": {g: f"{ROOT / GRAPHS}:{g}" for g in DEV_GRAPHS}}
    (where / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    log = (where / "dev.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "langgraph"), "dev", "--no-browser", "--no-reload",
         "--port", str(port), "--config", str(where / "langgraph.json")],
        cwd=where, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1",
             "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a starting process
    else:
        raise RuntimeError((where / "dev.log").read_text())
    try:
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def messages(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["type"], m["content"]) for m in values.get("messages", [])]


async def scenario(url: str) -> dict[str, Any]:
    """What a user of the client sees, with the ids and times each server makes up left out."""
    client = get_client(url=url)
    seen: dict[str, Any] = {}
    shapes: dict[str, Any] = {}
    made = await client.threads.create(metadata={"team": "red"})
    tid = made["thread_id"]
    shapes["thread"] = made
    waiting = await client.runs.wait(tid, "approval", input=said("hi"))
    seen["wait"] = (messages(waiting), [i["value"] for i in waiting["__interrupt__"]])
    thread = await client.threads.get(tid)
    shapes["thread after run"] = thread
    seen["thread"] = (
        thread["status"],
        {k: v for k, v in thread["metadata"].items() if k != "assistant_id"},
        [i["value"] for v in thread["interrupts"].values() for i in v],
        messages(thread["values"]),
    )
    state = await client.threads.get_state(tid)
    shapes["state"] = state
    seen["state"] = (
        state["next"],
        [(t["name"], [i["value"] for i in t["interrupts"]]) for t in state["tasks"]],
        [i["value"] for i in state["interrupts"]],
        state["metadata"]["source"],
        state["metadata"]["step"],
    )
    history = await client.threads.get_history(tid, limit=10)
    seen["history"] = [(s["metadata"]["source"], s["metadata"]["step"], s["next"]) for s in history]
    events = [
        (p.event, messages(p.data) if p.event == "values" else None)
        async for p in client.runs.stream(
            tid, "approval", command={"resume": "yes"}, stream_mode=["values", "updates"]
        )
    ]
    seen["stream"] = events[1:]
    seen["after"] = (await client.threads.get(tid))["status"]
    seen["search"] = len(await client.threads.search(metadata={"team": "red"}, limit=100)) >= 1
    fork = await client.threads.update_state(tid, said("edited"), as_node="chat")
    shapes["update_state"] = fork
    tools = await client.runs.wait(
        (await client.threads.create())["thread_id"], "tools", input=said("add")
    )
    seen["tools"] = [m["type"] for m in tools["messages"]]
    try:
        await client.runs.wait(
            (await client.threads.create())["thread_id"], "failing", input=said("x")
        )
    except Exception as e:
        seen["failing"] = str(e)
    try:
        await client.threads.get("00000000-0000-0000-0000-000000000000")
    except NotFoundError:
        seen["unknown thread"] = 404
    busy_tid = (await client.threads.create())["thread_id"]
    gate = Path(f"/tmp/gate-{busy_tid}")
    run = await client.runs.create(busy_tid, "held", input=said(str(gate)))
    try:
        await client.runs.create(busy_tid, "held", input=said("x"), multitask_strategy="reject")
    except ConflictError:
        seen["reject"] = 409
    gate.touch()
    await client.runs.join(busy_tid, run["run_id"])
    gate.unlink()
    return {"seen": seen, "shapes": shapes}


def keys(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {f"{path}.{k}" for k in value} | {
            found
            for k, v in value.items()
            if k not in ("metadata", "values", "interrupts")
            for found in keys(v, f"{path}.{k}")
        }
    return set()


async def test_the_client_sees_what_langgraph_dev_shows(langgraph_dev: str, server: Server) -> None:
    theirs = await scenario(langgraph_dev)
    ours = await scenario(server.url)
    assert ours["seen"] == theirs["seen"]
    for name, shape in theirs["shapes"].items():
        assert keys(shape) - keys(ours["shapes"][name]) == set(), name
