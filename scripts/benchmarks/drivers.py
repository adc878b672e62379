"""asyncpg against psycopg under our AsyncPostgresSaver: the client's CPU and the wall time per
chat turn (`ainvoke`), on the same graph and server, with LangGraph's AsyncPostgresSaver and
InMemorySaver (the graph's own cost, subtracted to give the saver's) in the same run.

Turns run one at a time, so wall time is a turn's latency; each side is measured in rounds,
interleaved with the others, and the lowest round is kept (this machine is noisy).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver as LangGraphAsyncPostgresSaver
from psycopg.conninfo import conninfo_to_dict

from saver import AsyncPostgresSaver
from scripts.benchmarks.common import header
from scripts.benchmarks.databases import fresh_databases, server_url
from scripts.benchmarks.graphs import async_chat_graph, user_input

SIDES = ("InMemorySaver", "ours, psycopg", "ours, asyncpg", "LangGraph, psycopg")
DATABASES = ("psycopg", "asyncpg", "langgraph")  # one each, for the sides but the first
Opener = Callable[[], AbstractAsyncContextManager[Any]]


def _url(conninfo: str) -> str:
    """asyncpg takes URLs only."""
    parts = conninfo_to_dict(conninfo)
    user, host = parts.get("user", "postgres"), parts.get("host", "127.0.0.1")
    return f"postgresql://{user}@{host}:{parts.get('port', 5432)}/{parts['dbname']}"


def openers(urls: dict[str, str]) -> dict[str, Opener]:
    @asynccontextmanager
    async def memory() -> AsyncIterator[Any]:
        yield InMemorySaver()

    @asynccontextmanager
    async def ours_psycopg() -> AsyncIterator[Any]:
        async with AsyncPostgresSaver.from_conn_string(urls["psycopg"]) as cp:
            yield cp

    @asynccontextmanager
    async def ours_asyncpg() -> AsyncIterator[Any]:
        conn = await asyncpg.connect(_url(urls["asyncpg"]))
        try:
            async with AsyncPostgresSaver(conn) as cp:
                yield cp
        finally:
            await conn.close()

    @asynccontextmanager
    async def langgraph() -> AsyncIterator[Any]:
        async with LangGraphAsyncPostgresSaver.from_conn_string(urls["langgraph"]) as cp:
            await cp.setup()
            yield cp

    return dict(zip(SIDES, (memory, ours_psycopg, ours_asyncpg, langgraph), strict=True))


async def one_round(open_saver: Opener, tag: str, threads: int, turns: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for `threads` chats of `turns` turns, one turn at a time."""
    async with open_saver() as cp:
        graph = async_chat_graph(cp)
        await graph.ainvoke(user_input(1), {"configurable": {"thread_id": f"warm-{tag}"}})
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(threads):
            config: RunnableConfig = {"configurable": {"thread_id": f"{tag}-{n}"}}
            for turn in range(1, turns + 1):
                await graph.ainvoke(user_input(turn), config)
        return time.process_time() - cpu, time.perf_counter() - wall


async def measure(urls: dict[str, str], threads: int, turns: int, rounds: int) -> dict[str, Any]:
    sides = openers(urls)
    best: dict[str, tuple[float, float]] = {}
    for r in range(rounds):
        for name, open_saver in sides.items():
            cpu, wall = await one_round(open_saver, f"r{r}", threads, turns)
            old = best.get(name)
            best[name] = (min(cpu, old[0]), min(wall, old[1])) if old else (cpu, wall)
    n = threads * turns
    return {
        name: {"cpu_ms": c / n * 1000, "wall_ms": w / n * 1000} for name, (c, w) in best.items()
    }


def run(quick: bool = False) -> dict[str, Any]:
    threads, turns, rounds = (2, 5, 2) if quick else (8, 25, 3)
    print(header("langgraph-checkpoint-postgres", "psycopg", "asyncpg"))
    print(f"{threads} chats x {turns} turns per round, lowest of {rounds} rounds\n")
    with fresh_databases(server_url(), list(DATABASES)) as urls:
        found = asyncio.run(measure(urls, threads, turns, rounds))
    graph_cpu = found["InMemorySaver"]["cpu_ms"]
    print(f"{'per turn':<22}{'CPU ms':>9}{'saver CPU ms':>14}{'wall ms':>10}")
    for name, row in found.items():
        saver_cpu = row["cpu_ms"] - graph_cpu
        row["saver_cpu_ms"] = saver_cpu
        print(f"{name:<22}{row['cpu_ms']:>9.2f}{saver_cpu:>14.2f}{row['wall_ms']:>10.2f}")
    psycopg, apg = found["ours, psycopg"], found["ours, asyncpg"]
    print(
        f"\nasyncpg / psycopg (ours): saver CPU "
        f"{apg['saver_cpu_ms'] / psycopg['saver_cpu_ms']:.2f}x, "
        f"wall {apg['wall_ms'] / psycopg['wall_ms']:.2f}x"
    )
    return {"threads": threads, "turns": turns, "rounds": rounds, "per_turn": found}
