"""LangGraph's Agent Server API through the official client (`langgraph-sdk`), used as its
docs show, against a real `saver serve` process on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.serving import Server

HI = {"messages": [{"role": "user", "content": "hi"}]}


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def contents(values: dict[str, Any]) -> list[str]:
    return [m["content"] for m in values["messages"]]


async def two_turns(server: Server) -> tuple[Any, str, list[dict[str, Any]]]:
    """A client, a thread of two echo turns ("one", "two"), and its history, newest first:
    history[3] is the state after the first turn."""
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=said("one"))
    await client.runs.wait(tid, "echo", input=said("two"))
    return client, tid, await client.threads.get_history(tid, limit=100)


# --- assistants -----------------------------------------------------------------------------


async def test_each_graph_is_an_assistant_found_by_id_or_name(server: Server) -> None:
    client = get_client(url=server.url)
    found = await client.assistants.search(limit=100)
    by_name = await client.assistants.get("approval")
    by_id = await client.assistants.get(by_name["assistant_id"])
    assert {a["graph_id"] for a in found} >= {"approval", "echo", "tools", "nested"}
    assert by_id == by_name and by_name["name"] == "approval"


async def test_an_assistant_id_is_the_agent_server_s_for_the_same_graph(server: Server) -> None:
    found = await get_client(url=server.url).assistants.get("approval")
    assert found["assistant_id"] == str(
        uuid.uuid5(uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8"), "approval")
    )


async def test_an_unknown_assistant_is_404(server: Server) -> None:
    with pytest.raises(NotFoundError):
        await get_client(url=server.url).assistants.get("nope")


# --- threads --------------------------------------------------------------------------------


async def test_a_created_thread_is_idle_with_its_metadata(server: Server) -> None:
    client = get_client(url=server.url)
    made = await client.threads.create(metadata={"user": "u1"})
    found = await client.threads.get(made["thread_id"])
    assert (found["status"], found["metadata"], found["values"]) == ("idle", {"user": "u1"}, None)


async def test_creating_a_thread_twice_is_a_conflict_unless_asked_to_do_nothing(
    server: Server,
) -> None:
    client = get_client(url=server.url)
    tid = str(uuid.uuid4())
    await client.threads.create(thread_id=tid, metadata={"n": 1})
    again = await client.threads.create(thread_id=tid, if_exists="do_nothing")
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=tid)
    assert again["metadata"] == {"n": 1}


async def test_an_unknown_thread_is_404(server: Server) -> None:
    with pytest.raises(NotFoundError):
        await get_client(url=server.url).threads.get(str(uuid.uuid4()))


async def test_update_merges_metadata(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create(metadata={"a": 1}))["thread_id"]
    updated = await client.threads.update(tid, metadata={"b": 2})
    assert updated["metadata"] == {"a": 1, "b": 2}


async def test_delete_removes_the_thread_and_its_history(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=HI)
    await client.threads.delete(tid)
    with pytest.raises(NotFoundError):
        await client.threads.get(tid)


async def test_search_finds_threads_by_metadata_status_and_ids(server: Server) -> None:
    client = get_client(url=server.url)
    tag = uuid.uuid4().hex
    waiting = (await client.threads.create(metadata={"tag": tag}))["thread_id"]
    done = (await client.threads.create(metadata={"tag": tag}))["thread_id"]
    await client.runs.wait(waiting, "approval", input=HI)
    await client.runs.wait(done, "echo", input=HI)
    tagged = await client.threads.search(metadata={"tag": tag})
    interrupted = await client.threads.search(metadata={"tag": tag}, status="interrupted")
    by_id = await client.threads.search(ids=[done])
    assert {t["thread_id"] for t in tagged} == {waiting, done}
    assert [t["thread_id"] for t in interrupted] == [waiting]
    assert [t["thread_id"] for t in by_id] == [done]


async def test_search_pages_and_sorts(server: Server) -> None:
    client = get_client(url=server.url)
    tag = uuid.uuid4().hex
    made = [(await client.threads.create(metadata={"tag": tag}))["thread_id"] for _ in range(3)]
    newest = await client.threads.search(metadata={"tag": tag}, limit=2, sort_by="created_at")
    rest = await client.threads.search(metadata={"tag": tag}, offset=2, sort_by="created_at")
    oldest = await client.threads.search(
        metadata={"tag": tag}, limit=1, sort_by="created_at", sort_order="asc"
    )
    assert [t["thread_id"] for t in newest + rest] == made[::-1]
    assert [t["thread_id"] for t in oldest] == made[:1]


async def test_count_counts_what_search_finds(server: Server) -> None:
    client = get_client(url=server.url)
    tag = uuid.uuid4().hex
    for _ in range(3):
        await client.threads.create(metadata={"tag": tag})
    assert await client.threads.count(metadata={"tag": tag}) == 3


async def test_copy_makes_a_thread_with_the_same_history(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=HI)
    copied = await client.threads.copy(tid)
    history = await client.threads.get_history(copied["thread_id"])
    original = await client.threads.get_history(tid)
    assert copied["thread_id"] != tid
    assert [s["values"] for s in history] == [s["values"] for s in original]


# --- runs, state and interrupts -------------------------------------------------------------


async def test_runs_wait_returns_the_values_and_the_interrupt_it_stopped_on(
    server: Server,
) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    result = await client.runs.wait(tid, "approval", input=HI)
    assert contents(result) == ["hi", "echo: hi"]
    assert result["__interrupt__"][0]["value"] == {"question": "approve?", "messages": 2}


async def test_a_thread_waiting_on_interrupt_is_interrupted_with_its_interrupts(
    server: Server,
) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "approval", input=HI)
    thread = await client.threads.get(tid)
    state = await client.threads.get_state(tid)
    assert thread["status"] == "interrupted"
    assert [i["value"]["question"] for v in thread["interrupts"].values() for i in v] == [
        "approve?"
    ]
    assert state["next"] == ["approve"] and state["interrupts"][0]["value"]["messages"] == 2


async def test_a_resume_command_finishes_the_run_and_the_thread_is_idle(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "approval", input=HI)
    result = await client.runs.wait(tid, "approval", command={"resume": "yes"})
    thread = await client.threads.get(tid)
    assert contents(result)[-1] == "approved: yes" and "__interrupt__" not in result
    assert (thread["status"], thread["interrupts"]) == ("idle", {})


async def test_the_state_read_again_is_the_same_until_the_thread_moves(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "approval", input=HI)
    waiting, again = await client.threads.get_state(tid), await client.threads.get_state(tid)
    await client.runs.wait(tid, "approval", command={"resume": "yes"})
    done = await client.threads.get_state(tid)
    assert waiting == again and waiting["next"] == ["approve"]
    assert done["next"] == [] and contents(done["values"])[-1] == "approved: yes"


async def test_a_thread_whose_run_raised_is_in_error(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    with pytest.raises(Exception, match="ValueError: the model is down"):
        await client.runs.wait(tid, "failing", input=HI)
    assert (await client.threads.get(tid))["status"] == "error"


async def test_a_tool_loop_runs_to_its_answer(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    result = await client.runs.wait(tid, "tools", input=said("add 2 and 3"))
    kinds = [m["type"] for m in result["messages"]]
    assert kinds == ["human", "ai", "tool", "ai"] and contents(result)[-1] == "the sum is 5"


async def test_a_run_on_an_unknown_thread_is_404_unless_asked_to_create_it(
    server: Server,
) -> None:
    client = get_client(url=server.url)
    tid = str(uuid.uuid4())
    with pytest.raises(httpx.HTTPStatusError) as refused:  # runs.wait raises httpx's own
        await client.runs.wait(tid, "echo", input=HI)
    assert refused.value.response.status_code == 404
    made = await client.runs.wait(tid, "echo", input=HI, if_not_exists="create")
    assert contents(made) == ["hi", "echo: hi"]


async def test_a_run_without_a_thread_leaves_no_thread(server: Server) -> None:
    client = get_client(url=server.url)
    before = await client.threads.count()
    result = await client.runs.wait(None, "echo", input=HI)
    assert contents(result) == ["hi", "echo: hi"] and await client.threads.count() == before


async def test_interrupt_before_stops_a_run_at_a_node(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "tools", input=said("add"), interrupt_before=["tools"])
    state = await client.threads.get_state(tid)
    assert state["next"] == ["tools"] and (await client.threads.get(tid))["status"] == "interrupted"


async def test_runs_stream_sends_values_updates_and_message_tuples(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    parts = [
        p
        async for p in client.runs.stream(
            tid, "echo", input=HI, stream_mode=["values", "updates", "messages-tuple"]
        )
    ]
    events = [p.event for p in parts]
    assert events[0] == "metadata" and parts[0].data["run_id"]
    assert {"values", "updates", "messages"} <= set(events)
    update = next(p.data for p in parts if p.event == "updates")
    message, meta = next(p.data for p in parts if p.event == "messages")
    assert update["chat"]["messages"][0]["content"] == "echo: hi"
    assert (message["content"], meta["langgraph_node"]) == ("echo: hi", "chat")
    assert contents([p.data for p in parts if p.event == "values"][-1]) == ["hi", "echo: hi"]


async def test_runs_stream_of_subgraphs_names_their_namespace(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    events = [
        p.event
        async for p in client.runs.stream(
            tid, "nested", input=HI, stream_mode="updates", stream_subgraphs=True
        )
    ]
    assert any(e.startswith("updates|inner:") for e in events)


async def test_state_with_subgraphs_shows_the_subgraph_waiting(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "nested", input=HI)
    state = await client.threads.get_state(tid, subgraphs=True)
    inner = state["tasks"][0]["state"]
    assert state["next"] == ["inner"] and inner["next"] == ["approve"]


async def test_a_background_run_is_joined_and_listed(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "echo", input=HI)
    joined = await client.runs.join(tid, run["run_id"])
    found = await client.runs.get(tid, run["run_id"])
    listed = await client.runs.list(tid)
    assert contents(joined) == ["hi", "echo: hi"]
    assert found["status"] == "success" and [r["run_id"] for r in listed] == [run["run_id"]]


async def test_a_second_run_under_reject_is_a_conflict(server: Server, tmp_path: Any) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    gate = tmp_path / "gate"
    first = await client.runs.create(tid, "held", input=said(str(gate)))
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "held", input=said("x"), multitask_strategy="reject")
    busy = (await client.threads.get(tid))["status"]
    gate.touch()
    await client.runs.join(tid, first["run_id"])
    assert busy == "busy" and (await client.threads.get(tid))["status"] == "idle"


async def test_a_second_run_under_enqueue_runs_after_the_first(
    server: Server, tmp_path: Any
) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    gate = tmp_path / "gate"
    gate_two = tmp_path / "gate-two"
    first = await client.runs.create(tid, "held", input=said(str(gate)))
    second = await client.runs.create(
        tid, "held", input=said(str(gate_two)), multitask_strategy="enqueue"
    )
    waiting = (await client.runs.get(tid, second["run_id"]))["status"]
    gate.touch()
    gate_two.touch()
    result = await client.runs.join(tid, second["run_id"])
    assert waiting == "pending"
    assert [m.split(" in ")[0] for m in contents(result)[1::2]] == [
        "released by gate",
        "released by gate-two",
    ]
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "success"


async def test_get_history_pages_with_limit_before_and_metadata(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=said("one"))
    await client.runs.wait(tid, "echo", input=said("two"))
    everything = await client.threads.get_history(tid, limit=100)
    first_two = await client.threads.get_history(tid, limit=2)
    older = await client.threads.get_history(tid, limit=100, before=first_two[-1]["checkpoint"])
    inputs = await client.threads.get_history(tid, limit=100, metadata={"source": "input"})
    assert first_two + older == everything and len(everything) == 6
    assert [s["metadata"]["source"] for s in inputs] == ["input", "input"]


async def test_get_state_of_an_old_checkpoint(server: Server) -> None:
    client, tid, history = await two_turns(server)
    old = history[3]
    state = await client.threads.get_state(tid, checkpoint_id=old["checkpoint_id"])
    assert state["values"] == old["values"] and contents(state["values"]) == ["one", "echo: one"]


async def test_an_unknown_checkpoint_is_404(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=HI)
    with pytest.raises(NotFoundError):
        await client.threads.get_state(tid, checkpoint_id=str(uuid.uuid4()))


async def test_update_state_from_an_old_step_forks_and_a_run_continues_the_fork(
    server: Server,
) -> None:
    client, tid, history = await two_turns(server)
    after_one = history[3]  # the state after the first turn
    forked = await client.threads.update_state(
        tid, said("edited"), as_node="chat", checkpoint_id=after_one["checkpoint_id"]
    )
    state = await client.threads.get_state(tid)
    assert state["checkpoint_id"] == forked["checkpoint_id"]
    assert state["parent_checkpoint_id"] == after_one["checkpoint_id"]
    assert contents(state["values"]) == ["one", "echo: one", "edited"]


async def test_a_run_from_an_old_checkpoint_replays_from_there(server: Server) -> None:
    client, tid, history = await two_turns(server)
    after_one = history[3]
    result = await client.runs.wait(
        tid, "echo", input=said("three"), checkpoint_id=after_one["checkpoint_id"]
    )
    assert contents(result) == ["one", "echo: one", "three", "echo: three"]


# --- the sync client ------------------------------------------------------------------------


def test_the_sync_client_runs_the_approval_flow(server: Server) -> None:
    client = get_sync_client(url=server.url)
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "approval", input=HI)
    waiting = client.threads.get(tid)["status"]
    result = client.runs.wait(tid, "approval", command={"resume": "ok"})
    history = client.threads.get_history(tid, limit=3)
    assert waiting == "interrupted" and contents(result)[-1] == "approved: ok"
    assert len(history) == 3


def test_the_sync_client_streams(server: Server) -> None:
    client = get_sync_client(url=server.url)
    tid = client.threads.create()["thread_id"]
    events = [p.event for p in client.runs.stream(tid, "echo", input=HI, stream_mode="updates")]
    assert events == ["metadata", "updates"]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"assistant_id": "echo", "stream_mode": "bogus"}, "stream_mode"),
        ({"assistant_id": "echo", "multitask_strategy": "maybe"}, "multitask_strategy"),
        ({"assistant_id": "echo", "command": {"resum": 1}}, "command"),
        ({"assistant_id": 5}, "assistant_id"),
        ({"assistant_id": "echo", "metadata": []}, "metadata"),
    ],
)
def test_a_bad_run_request_is_422_naming_the_field(server: Server, body: Any, field: str) -> None:
    tid = get_sync_client(url=server.url).threads.create()["thread_id"]
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", json=body)
    assert answer.status_code == 422 and field in answer.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"assistant_id": "echo", "config": {"configurable": []}}, "config.configurable"),
        ({"assistant_id": "echo", "checkpoint": "x"}, "checkpoint"),
        ({"assistant_id": "echo", "stream_mode": [{}]}, "stream_mode"),
        ({"assistant_id": "echo", "interrupt_before": "chat"}, "interrupt_before"),
        ({}, "assistant_id"),
    ],
)
def test_a_run_request_of_the_wrong_shape_is_422_naming_the_field(
    server: Server, body: Any, field: str
) -> None:
    tid = get_sync_client(url=server.url).threads.create()["thread_id"]
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", json=body)
    assert answer.status_code == 422 and field in answer.json()["detail"]


def test_a_body_cannot_aim_at_another_thread(server: Server) -> None:
    client = get_sync_client(url=server.url)
    mine, other = (client.threads.create()["thread_id"] for _ in range(2))
    client.runs.wait(other, "echo", input=HI)
    body = {"values": said("x"), "as_node": "chat", "checkpoint": {"thread_id": other}}
    httpx.post(f"{server.url}/threads/{mine}/state", json=body)
    assert len(client.threads.get_history(other, limit=100)) == 3


async def test_a_busy_thread_is_not_deleted_or_updated(server: Server, tmp_path: Any) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    gate = tmp_path / "gate"
    run = await client.runs.create(tid, "held", input=said(str(gate)))
    with pytest.raises(ConflictError):
        await client.threads.delete(tid)
    with pytest.raises(ConflictError):
        await client.threads.update_state(tid, said("x"), as_node="hold")
    gate.touch()
    await client.runs.join(tid, run["run_id"])


async def test_a_run_cancelled_twice_ends_once_and_frees_its_thread(
    server: Server, tmp_path: Any
) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "held", input=said(str(tmp_path / "never")))
    await asyncio.gather(
        client.runs.cancel(tid, run["run_id"]), client.runs.cancel(tid, run["run_id"])
    )
    found = await client.runs.get(tid, run["run_id"])
    assert found["status"] == "interrupted"
    assert (await client.threads.get(tid))["status"] != "busy"


def test_a_body_that_is_not_json_is_422(server: Server) -> None:
    answer = httpx.post(
        f"{server.url}/threads/search",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422 and "detail" in answer.json()


def test_a_bad_search_status_is_422(server: Server) -> None:
    with pytest.raises(UnprocessableEntityError, match="status"):
        get_sync_client(url=server.url).threads.search(status="sleeping")  # type: ignore[arg-type]
