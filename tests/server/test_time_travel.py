"""Time travel over HTTP: a thread's fork tree and the diff of two steps; and the server's
own routes, /healthz and /metrics."""

from __future__ import annotations

from typing import Any

import httpx
from langgraph_sdk import get_client

from tests.server.serving import Server


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def forked_thread(server: Server) -> tuple[str, list[dict[str, Any]], str]:
    """Two turns, then update_state from after the first: the thread, its history before the
    fork (newest first), and the fork's checkpoint."""
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=said("one"))
    await client.runs.wait(tid, "echo", input=said("two"))
    history = await client.threads.get_history(tid, limit=100)
    fork = await client.threads.update_state(
        tid, said("edited"), as_node="chat", checkpoint_id=history[3]["checkpoint_id"]
    )
    return tid, history, fork["checkpoint_id"]


async def test_the_tree_shows_every_checkpoint_and_where_a_fork_starts(server: Server) -> None:
    tid, history, fork = await forked_thread(server)
    tree = httpx.get(f"{server.url}/threads/{tid}/tree").json()
    ids = [c["checkpoint_id"] for c in tree["checkpoints"]]
    (trunk,) = tree["branches"]
    assert ids == sorted(ids) and len(ids) == len(history) + 1
    assert set(tree["heads"]) == {history[0]["checkpoint_id"], fork}
    assert trunk["forks"] == [
        {"parent": history[3]["checkpoint_id"], "checkpoints": [fork], "forks": []}
    ]


async def test_the_diff_of_a_step_against_its_parent_shows_the_added_message(
    server: Server,
) -> None:
    tid, _, fork = await forked_thread(server)
    found = httpx.get(f"{server.url}/threads/{tid}/diff", params={"to": fork}).json()
    (change,) = found["changes"]
    assert change["channel"] == "messages" and change["kind"] == "messages"
    assert [m["content"] for m in change["added"]] == ["edited"]


async def test_the_diff_of_any_two_steps(server: Server) -> None:
    tid, history, fork = await forked_thread(server)
    found = httpx.get(
        f"{server.url}/threads/{tid}/diff",
        params={"from": history[0]["checkpoint_id"], "to": fork},
    ).json()
    (change,) = found["changes"]
    assert [m["content"] for m in change["removed"]] == ["two", "echo: two"]
    assert [m["content"] for m in change["added"]] == ["edited"]


def test_a_diff_with_an_unknown_checkpoint_is_404(server: Server) -> None:
    tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
    answer = httpx.get(f"{server.url}/threads/{tid}/diff", params={"to": "nope"})
    assert answer.status_code == 404 and "nope" in answer.json()["detail"]


def test_healthz_says_the_database_answers(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"ok": True}


def test_metrics_count_requests_saver_operations_and_runs(server: Server) -> None:
    tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
    body = {"assistant_id": "echo", "input": said("hi")}
    httpx.post(f"{server.url}/threads/{tid}/runs/wait", json=body)
    text = httpx.get(f"{server.url}/metrics").text
    assert (
        'saver_http_requests_total{method="POST",route="/threads/{thread_id}/runs/wait",status="200"}'
        in text
    )
    assert 'saver_operation_seconds_count{operation="aget_thread"}' in text
    assert 'saver_runs_total{status="success"}' in text


def test_the_openapi_document_lists_the_routes(server: Server) -> None:
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/threads/search", "/threads/{thread_id}/runs/stream", "/v1/graph/invoke"} <= set(paths)
