"""What a server refuses: a request without the token, a write to a read-only server, a body
too large, a start beyond loopback without a token; and what it never says."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from tests.server.serving import ROOT, Server, graph_options, serving

TOKEN = "s3cret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("guarded")
    url = f"sqlite:///{where / 'h.db'}"
    options = [*graph_options(["echo"]), "--max-body=2000", "--read-only"]
    with serving(url, *options, log_dir=where, env={"SAVER_TOKEN": TOKEN}) as server:
        yield server


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers", [{}, bearer("wrong"), {"Authorization": TOKEN}, {"x-api-key": "wrong"}]
)
def test_a_request_without_the_right_token_is_401(guarded: Server, headers: dict[str, str]) -> None:
    answer = httpx.post(f"{guarded.url}/threads/search", json={}, headers=headers)
    assert answer.status_code == 401 and "token" in answer.json()["detail"]


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/metrics", "/v1/threads"])
def test_every_route_but_healthz_needs_the_token(guarded: Server, path: str) -> None:
    assert httpx.get(f"{guarded.url}{path}").status_code == 401
    assert httpx.get(f"{guarded.url}/healthz").status_code == 200


async def test_the_sdk_s_api_key_is_the_token_too(guarded: Server) -> None:
    found = await get_client(url=guarded.url, api_key=TOKEN).threads.search()
    assert found == []


async def test_the_sdk_with_a_bearer_header_reads(guarded: Server) -> None:
    found = await get_client(url=guarded.url, api_key=None, headers=bearer()).threads.search()
    assert found == []


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/threads"),
        ("PATCH", "/threads/t"),
        ("DELETE", "/threads/t"),
        ("POST", "/threads/t/runs/wait"),
        ("POST", "/threads/t/state"),
        ("POST", "/v1/graph/invoke"),
    ],
)
def test_a_read_only_server_refuses_every_write(guarded: Server, method: str, path: str) -> None:
    answer = httpx.request(method, f"{guarded.url}{path}", json={}, headers=bearer())
    assert answer.status_code == 405 and "read-only" in answer.json()["detail"]


@pytest.mark.parametrize(
    "method, path",
    [("DELETE", "/threads/search"), ("PATCH", "/threads/count"), ("POST", "/threads/search%0A")],
)
def test_a_read_only_server_takes_no_write_dressed_as_a_search(
    guarded: Server, method: str, path: str
) -> None:
    answer = httpx.request(method, f"{guarded.url}{path}", json={}, headers=bearer())
    assert answer.status_code in (404, 405) and answer.status_code != 200


@pytest.mark.parametrize("path", ["/threads/search", "/threads/count", "/assistants/search"])
def test_a_read_only_server_answers_searches_sent_as_post(guarded: Server, path: str) -> None:
    assert httpx.post(f"{guarded.url}{path}", json={}, headers=bearer()).status_code == 200


def test_a_body_over_the_limit_is_413(guarded: Server) -> None:
    big = {"metadata": {"x": "y" * 5000}}
    answer = httpx.post(f"{guarded.url}/threads/search", json=big, headers=bearer())
    assert answer.status_code == 413


def test_a_streamed_body_over_the_limit_is_413(guarded: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"metadata": {"x": "'
        yield b"y" * 5000
        yield b'"}}'

    answer = httpx.post(
        f"{guarded.url}/threads/search",
        content=chunks(),
        headers={**bearer(), "content-type": "application/json"},
    )
    assert answer.status_code == 413


def test_cors_is_off_unless_asked(guarded: Server) -> None:
    answer = httpx.get(f"{guarded.url}/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers


def test_the_token_never_reaches_the_log(guarded: Server) -> None:
    httpx.get(f"{guarded.url}/healthz")
    assert TOKEN not in guarded.output()


def test_a_start_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "saver",
            "serve",
            f"sqlite:///{tmp_path / 'h.db'}",
            "--host=0.0.0.0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2 and "token" in done.stderr


def test_a_graph_that_cannot_load_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "saver", "serve", f"sqlite:///{tmp_path / 'h.db'}",
         "--graph=x=tests/server/graphs.py:nope"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and "nope" in done.stderr and "Traceback" not in done.stderr


def test_a_failing_graph_s_error_is_named_without_a_stack_trace(server: Server) -> None:
    tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
    answer = httpx.post(
        f"{server.url}/threads/{tid}/runs/wait",
        json={"assistant_id": "failing", "input": {"messages": [{"role": "user", "content": "x"}]}},
    )
    assert answer.json()["__error__"] == {"error": "ValueError", "message": "the model is down"}
    assert "Traceback" not in answer.text and "Traceback" not in server.output()


def test_a_cors_preflight_needs_no_token_and_a_refusal_carries_cors(tmp_path: Path) -> None:
    origin = "https://app.example"
    options = ["--cors", origin]
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with serving(url, *options, log_dir=tmp_path, env={"SAVER_TOKEN": TOKEN}) as server:
        preflight = httpx.options(
            f"{server.url}/threads/search",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        refused = httpx.post(f"{server.url}/threads/search", json={}, headers={"Origin": origin})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == origin
