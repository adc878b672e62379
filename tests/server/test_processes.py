"""Server processes sharing one database agree: a run started through one is seen and resumed
through another, a thread one runs on is busy for both, and a process killed mid-run loses
no committed step and leaves its thread in error, not busy, once its lease runs out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError

from tests.cli.stores import KINDS, make_store
from tests.server.serving import Server, graph_options, serving

LEASE = "--lease=1"


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@pytest.fixture(params=KINDS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    store = make_store(request.param, tmp_path, request.addfinalizer)
    options = [*graph_options(["approval", "held"]), LEASE]
    with serving(store.url, *options, log_dir=tmp_path) as one:
        with serving(store.url, *options, log_dir=tmp_path) as two:
            yield one, two


async def status_becomes(server: Server, tid: str, wanted: str, within: float = 20.0) -> str:
    """Poll the thread's status until it is `wanted` (a lease runs out in its own time)."""
    client = get_client(url=server.url)
    deadline = time.monotonic() + within
    found = ""
    while time.monotonic() < deadline:
        found = (await client.threads.get(tid))["status"]
        if found == wanted:
            break
        time.sleep(0.05)
    return found


async def test_a_run_started_through_one_process_is_resumed_through_the_other(
    pair: tuple[Server, Server],
) -> None:
    one, two = (get_client(url=s.url) for s in pair)
    tid = (await one.threads.create())["thread_id"]
    await one.runs.wait(tid, "approval", input=said("hi"))
    seen = await two.threads.get(tid)
    result = await two.runs.wait(tid, "approval", command={"resume": "from two"})
    after = await one.threads.get(tid)
    assert seen["status"] == "interrupted"
    assert result["messages"][-1]["content"] == "approved: from two"
    assert after["status"] == "idle" and after["values"] == result


async def held_in_one(pair: tuple[Server, Server], gate: Path) -> tuple[str, str, str]:
    """A run of `held` started through the first server, until `gate` exists: its thread,
    its run id, and the status the second server saw once it started."""
    client = get_client(url=pair[0].url)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "held", input=said(str(gate)))
    return tid, run["run_id"], await status_becomes(pair[1], tid, "busy")


async def test_a_thread_busy_in_one_process_is_busy_in_the_other(
    pair: tuple[Server, Server], tmp_path: Path
) -> None:
    one, two = (get_client(url=s.url) for s in pair)
    gate = tmp_path / "gate"
    tid, first, busy = await held_in_one(pair, gate)
    with pytest.raises(ConflictError):
        await two.runs.create(tid, "held", input=said("x"), multitask_strategy="reject")
    queued = await two.runs.create(tid, "held", input=said(str(gate)), multitask_strategy="enqueue")
    gate.touch()
    await one.runs.join(tid, first)
    result = await two.runs.join(tid, queued["run_id"])
    assert busy == "busy" and len(result["messages"]) == 4


async def test_a_run_of_another_process_is_joined(
    pair: tuple[Server, Server], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    tid, run, _ = await held_in_one(pair, gate)
    gate.touch()
    joined = await get_client(url=pair[1].url).runs.join(tid, run)
    assert joined["messages"][-1]["content"].startswith("released by gate")


async def test_a_run_of_another_process_is_found_running_then_done(
    pair: tuple[Server, Server], tmp_path: Path
) -> None:
    one, two = (get_client(url=s.url) for s in pair)
    gate = tmp_path / "gate"
    tid, run, _ = await held_in_one(pair, gate)
    running = await two.runs.get(tid, run)
    gate.touch()
    await one.runs.join(tid, run)
    done = await two.runs.get(tid, run)
    assert (running["status"], done["status"]) == ("running", "success")
    assert done["assistant_id"] == (await one.assistants.get("held"))["assistant_id"]


async def test_a_killed_process_leaves_its_thread_in_error_with_every_committed_step(
    pair: tuple[Server, Server], tmp_path: Path
) -> None:
    one, two = pair
    client = get_client(url=two.url)
    tid = (await client.threads.create())["thread_id"]
    run = await get_client(url=one.url).runs.create(
        tid, "held", input=said(str(tmp_path / "never"))
    )
    busy = await status_becomes(two, tid, "busy")
    one.kill()
    dead = await status_becomes(two, tid, "error")
    reported = (await client.runs.get(tid, run["run_id"]))["status"]
    history = await client.threads.get_history(tid)
    gate = tmp_path / "gate"
    gate.touch()
    rerun = await client.runs.wait(tid, "held", input=said(str(gate)))
    assert (busy, dead, reported) == ("busy", "error", "error")
    assert [s["metadata"]["source"] for s in history] == [
        "loop",
        "input",
    ]  # committed before the kill
    assert rerun["messages"][-1]["content"].startswith("released by gate")
    assert (await client.threads.get(tid))["status"] == "idle"


@pytest.mark.parametrize("kind", KINDS)
async def test_two_worker_processes_of_one_server_agree(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = make_store(kind, tmp_path, request.addfinalizer)
    options = [*graph_options(["approval"]), "--workers=2"]
    with serving(store.url, *options, log_dir=tmp_path) as server:
        tid = (await get_client(url=server.url).threads.create())["thread_id"]
        await get_client(url=server.url).runs.wait(tid, "approval", input=said("hi"))
        seen = [(await get_client(url=server.url).threads.get(tid))["status"] for _ in range(6)]
        await get_client(url=server.url).runs.wait(tid, "approval", command={"resume": "ok"})
        after = [(await get_client(url=server.url).threads.get(tid))["status"] for _ in range(6)]
        pids = {line for line in server.output().splitlines() if "Started server process" in line}
    assert set(seen) == {"interrupted"} and set(after) == {"idle"} and len(pids) == 2
