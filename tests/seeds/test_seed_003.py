"""Seed 003 (agentflow's checkpointing guide): its verification steps, the curl lines as
written there, against `saver serve`, and again after the server restarts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.stores import KINDS, make_store
from tests.server.serving import graph_options, serving

SEED_URL = "http://127.0.0.1:8000"
INVOKES = [
    """curl -X POST http://127.0.0.1:8000/v1/graph/invoke \\
-H "Content-Type: application/json" \\
-d '{"messages": [{"role": "user", "content": "Remember my name is Alice"}], "config": {"thread_id": "demo-thread"}}'""",
    """curl -X POST http://127.0.0.1:8000/v1/graph/invoke \\
-H "Content-Type: application/json" \\
-d '{"messages": [{"role": "user", "content": "What is my name?"}], "config": {"thread_id": "demo-thread"}}'""",
]
INSPECT = [
    "curl http://127.0.0.1:8000/v1/threads",
    "curl http://127.0.0.1:8000/v1/threads/demo-thread/messages",
    "curl http://127.0.0.1:8000/v1/threads/demo-thread/state",
]


def curl(line: str, url: str) -> object:
    """Run a seed's curl line as written, at the test server's address instead of :8000."""
    done = subprocess.run(
        ["bash", "-c", line.replace(SEED_URL, url) + " --silent --fail-with-body"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("kind", KINDS)
def test_the_verification_steps_find_the_thread_before_and_after_a_restart(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = make_store(kind, tmp_path, request.addfinalizer)
    with serving(store.url, *graph_options(["echo"]), log_dir=tmp_path) as server:
        answers = [curl(line, server.url) for line in INVOKES]
        before = [curl(line, server.url) for line in INSPECT]
    with serving(store.url, *graph_options(["echo"]), log_dir=tmp_path) as server:
        after = [curl(line, server.url) for line in INSPECT]
    threads, messages, state = before
    assert [m["content"] for a in answers for m in a["messages"]] == [  # type: ignore[index]
        "Remember my name is Alice",
        "echo: Remember my name is Alice",
        "What is my name?",
        "echo: What is my name?",
    ]
    assert [t["thread_id"] for t in threads["threads"]] == ["demo-thread"]  # type: ignore[index]
    assert [m["message"]["content"] for m in messages["messages"]][-1] == "echo: What is my name?"  # type: ignore[index]
    assert len(state["values"]["messages"]) == 4  # type: ignore[index]
    assert after == before
