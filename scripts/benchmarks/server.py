"""`saver serve` under load, against the same calls made in-process and against LangGraph's own
in-memory Agent Server (`langgraph dev`), in one run.

A trivial chat graph (serve_graph.py). One thread holds a 200-turn chat; 32 concurrent clients
ask for its state (`GET /threads/{id}/state`), and 32 clients each run the graph on a thread of
their own (`POST /threads/{id}/runs/wait`). Requests per second and p50/p99 latency, for one
and two worker processes, on SQLite and PostgreSQL. "In-process" is `graph.aget_state` on the
same saver in this process, one call at a time, against one client's `GET state`: what HTTP
costs. The load generator shares the machine's two cores with the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from scripts.benchmarks.common import ROOT, header
from scripts.benchmarks.databases import fresh_databases, server_url
from scripts.benchmarks.serve_graph import chat, said

GRAPH = "chat=scripts/benchmarks/serve_graph.py:chat"
CLIENTS = 32
THREAD = "chat-200"
P99_GOAL = 0.020  # seconds: GET state of a 200-turn thread
OVERHEAD_GOAL = 1.5  # HTTP get_state against the call in-process


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(command: list[str], ready: str, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """A server process on a free port (`{port}` in `command`), until the block ends."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="bench-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [c.replace("{port}", str(port)) for c in command],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(Path(log.name).read_text())
        try:
            if httpx.get(url + ready, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        raise RuntimeError(f"no answer from {command[0]}: {Path(log.name).read_text()}")
    try:
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


async def load(
    clients: int,
    per_client: int,
    call: Callable[[httpx.AsyncClient, int], Awaitable[None]],
    url: str,
) -> dict[str, float]:
    """`clients` concurrent clients, each making `per_client` calls: rate and latencies."""
    latencies: list[float] = []

    async def client(n: int, http: httpx.AsyncClient) -> None:
        for _ in range(per_client):
            started = time.perf_counter()
            await call(http, n)
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
        await call(http, 0)  # a first connection and route, not timed
        started = time.perf_counter()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }


WRK_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"assistant_id": "chat", "if_not_exists": "create", ' ..
    '"input": {"messages": [{"role": "user", "content": "hi"}]}}'
  return wrk.format("POST", "/threads/%s" .. string.format("%%012d", counter) .. "/runs/wait",
    {["Content-Type"] = "application/json"}, body)
end
"""
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def wrk(url: str, seconds: int, thread_prefix: str | None = None) -> dict[str, float]:
    """wrk's closed loop of CLIENTS connections for `seconds` (one wrk thread: its C loop
    leaves the cores to the server): GET `url`, or with `thread_prefix` a runs.wait on a new
    thread per request."""
    command = ["wrk", "-t1", f"-c{CLIENTS}", f"-d{seconds}s", "--latency", "--timeout=30s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if thread_prefix is not None:
            script.write(WRK_SCRIPT % thread_prefix)
            script.flush()
            command += ["-s", script.name]
        done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    found: dict[str, float] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            number = parts[1].rstrip("usm")
            found["p" + parts[0][:2]] = float(number) * UNITS[parts[1][len(number) :]]
        elif line.startswith("Requests/sec:"):
            found["rps"] = float(parts[1])
        elif "Non-2xx" in line or "Socket errors" in line:
            raise RuntimeError(f"wrk saw failures: {line.strip()}")
    return found


async def one_client(url: str, path: str, calls: int) -> float:
    """Median latency of `calls` requests one after another."""
    async with httpx.AsyncClient(base_url=url) as http:
        await http.get(path)
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            (await http.get(path)).raise_for_status()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def get_state(thread: str) -> Callable[[httpx.AsyncClient, int], Awaitable[None]]:
    async def call(http: httpx.AsyncClient, n: int) -> None:
        (await http.get(f"/threads/{thread}/state")).raise_for_status()

    return call


async def run_wait(http: httpx.AsyncClient, n: int) -> None:
    body = {"assistant_id": "chat", "input": said(f"turn of client {n}"), "if_not_exists": "create"}
    tid = f"00000000-0000-4000-8000-{n:012d}"  # a UUID: langgraph dev takes no other id
    (await http.post(f"/threads/{tid}/runs/wait", json=body)).raise_for_status()


async def populate_direct(url: str, turns: int) -> float:
    """The 200-turn thread, written in-process; then aget_state's median latency on it."""
    from saver.server.storage import open_saver

    saver = await open_saver(url)
    try:
        graph = chat.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": THREAD}}
        for turn in range(turns):
            await graph.ainvoke(said(f"message {turn}"), config)
        await saver.aput_thread(THREAD, metadata={"graph_id": "chat"})
        times = []
        for _ in range(200):
            started = time.perf_counter()
            await graph.aget_state(config)
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    finally:
        await saver.aclose()


async def measure(url: str, quick: bool, thread: str = THREAD) -> dict[str, float]:
    if shutil.which("wrk"):
        seconds = 3 if quick else 10
        wrk(f"{url}/threads/{thread}/state", 1)  # warm: connections, the state's first read
        state = wrk(f"{url}/threads/{thread}/state", seconds)
        runs = wrk(url, seconds, thread_prefix=f"{uuid.uuid4().hex[:8]}-0000-4000-8000-")
    else:  # a Python load generator, which takes a core from the server
        state = await load(CLIENTS, 5 if quick else 30, get_state(thread), url)
        runs = await load(CLIENTS, 2 if quick else 5, run_wait, url)
    calls = 50 if quick else 200
    single = await one_client(url, f"/threads/{thread}/state", calls)
    async with httpx.AsyncClient(base_url=url) as http:
        head = (await http.get(f"/threads/{thread}/state")).json()["checkpoint_id"]
    uncached = await one_client(url, f"/threads/{thread}/state/{head}", calls)
    return {
        "state_rps": state["rps"],
        "state_p50": state["p50"],
        "state_p99": state["p99"],
        "wait_rps": runs["rps"],
        "wait_p50": runs["p50"],
        "wait_p99": runs["p99"],
        "state_one_client": single,
        "state_uncached": uncached,
    }


def as_url(conninfo: str) -> str:
    """A libpq `key=value` string as the postgresql:// URL saver serve takes."""
    from psycopg.conninfo import conninfo_to_dict

    if "://" in conninfo:
        return conninfo
    d = conninfo_to_dict(conninfo)
    user = f"{d['user']}@" if d.get("user") else ""
    return f"postgresql://{user}{d.get('host', 'localhost')}:{d.get('port', 5432)}/{d['dbname']}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def report(name: str, found: dict[str, float], direct: float | None) -> None:
    overhead = (
        f" (x{found['state_one_client'] / direct:.2f} in-process), uncached "
        f"{ms(found['state_uncached'])} (x{found['state_uncached'] / direct:.2f})"
        if direct
        else f", by checkpoint id {ms(found['state_uncached'])}"
    )
    print(
        f"{name:<24} GET state {found['state_rps']:6.0f}/s p50 {ms(found['state_p50'])} "
        f"p99 {ms(found['state_p99'])} | runs.wait {found['wait_rps']:5.0f}/s "
        f"p50 {ms(found['wait_p50'])} p99 {ms(found['wait_p99'])}\n{'':<24} one client's "
        f"GET state {ms(found['state_one_client'])}{overhead}",
        flush=True,
    )


def run_saver(url: str, backend: str, turns: int, quick: bool) -> dict[str, Any]:
    direct = asyncio.run(populate_direct(url, turns))
    print(f"{backend:<24} in-process aget_state of the {turns}-turn thread: {ms(direct)}")
    out: dict[str, Any] = {"in_process_get_state": direct}
    for workers in (1, 2):
        command = [sys.executable, "-m", "saver", "serve", url, f"--graph={GRAPH}",
                   "--port={port}", f"--workers={workers}"]  # fmt: skip
        with process(command, "/healthz", ROOT, {}) as served:
            found = asyncio.run(measure(served, quick))
        report(f"{backend}, {workers} worker{'s' if workers > 1 else ''}", found, direct)
        out[f"workers_{workers}"] = found
        found["overhead"] = found["state_one_client"] / direct
        found["overhead_uncached"] = found["state_uncached"] / direct
    return out


def run_langgraph_dev(turns: int, quick: bool) -> dict[str, float]:
    """The same calls against `langgraph dev` (LangGraph's in-memory Agent Server)."""
    where = Path(tempfile.mkdtemp(prefix="bench-langgraph-dev-"))
    graph_file = ROOT / "scripts/benchmarks/serve_graph.py"
    config = {"dependencies": ["."], "graphs": {"chat": f"{graph_file}:chat_graph"}}
    (where / "langgraph.json").write_text(json.dumps(config))
    command = [str(Path(sys.executable).parent / "langgraph"), "dev", "--no-browser",
               "--no-reload", "--port", "{port}"]  # fmt: skip
    env = {"LANGSMITH_TRACING": "false", "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    with process(command, "/ok", where, env) as served:

        async def populate() -> None:
            async with httpx.AsyncClient(base_url=served, timeout=60) as http:
                await http.post("/threads", json={"thread_id": THREAD_UUID})
                for turn in range(turns):
                    body = {"assistant_id": "chat", "input": said(f"message {turn}")}
                    r = await http.post(f"/threads/{THREAD_UUID}/runs/wait", json=body)
                    r.raise_for_status()

        asyncio.run(populate())
        found = asyncio.run(measure(served, quick, THREAD_UUID))
    report("langgraph dev (in-mem)", found, None)
    return found


THREAD_UUID = "00000000-0000-4000-8000-000000000200"


def run(quick: bool = False, turns: int = 200) -> dict[str, Any]:
    turns = 20 if quick else turns
    print(header("langgraph", "langgraph-api", "fastapi", "uvicorn"))
    print(f"{CLIENTS} concurrent clients; a {turns}-turn thread; goals: GET state p99 <= "
          f"{P99_GOAL * 1000:.0f} ms, one client's GET state <= x{OVERHEAD_GOAL} in-process")  # fmt: skip
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as where:
        out["sqlite"] = run_saver(f"sqlite:///{where}/serve.db", "sqlite", turns, quick)
    with fresh_databases(server_url(), ["serve"]) as urls:
        out["postgres"] = run_saver(as_url(urls["serve"]), "postgres", turns, quick)
    out["langgraph_dev"] = run_langgraph_dev(turns, quick)
    dev = out["langgraph_dev"]
    for backend in ("sqlite", "postgres"):
        for workers in (1, 2):
            found = out[backend][f"workers_{workers}"]
            verdict = "met" if found["state_p99"] <= P99_GOAL else "MISSED"
            print(
                f"{backend}, {workers} worker(s): GET state p99 {ms(found['state_p99'])} "
                f"({verdict}), uncached x{found['overhead_uncached']:.2f} in-process "
                f"({'met' if found['overhead_uncached'] <= OVERHEAD_GOAL else 'MISSED'}); against "
                f"langgraph dev: GET state x{found['state_rps'] / dev['state_rps']:.2f} "
                f"the rate, runs.wait x{found['wait_rps'] / dev['wait_rps']:.2f}"
            )
    return out
