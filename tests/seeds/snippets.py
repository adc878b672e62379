"""Running the seeds' code as written: the snippet's text, with its import line changed to
`saver` (and a placeholder server URL pointed at the tests' server), run in a namespace that
holds what the seed's prose assumes (`builder`, `graph`, `state`, ...)."""

from __future__ import annotations

import ast
import inspect
import operator
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypedDict

import psycopg
from langgraph.graph import END, START, StateGraph
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.pg import server_url


class State(TypedDict, total=False):
    input: str
    seen: Annotated[list[str], operator.add]


def remember(state: State) -> dict[str, Any]:
    return {"seen": [state["input"]] if state.get("input") else []}


def approve(state: State) -> dict[str, Any]:
    return {"seen": ["approved"]}


def builder() -> StateGraph[Any]:
    """A two-step graph: remember the input, then `approval_node` (the seeds interrupt
    before it)."""
    made = StateGraph(State)
    made.add_node("remember", remember)
    made.add_node("approval_node", approve)
    made.add_edge(START, "remember")
    made.add_edge("remember", "approval_node")
    made.add_edge("approval_node", END)
    return made


def config(thread_id: str | None = None) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id or f"seed-{uuid.uuid4().hex[:8]}"}}


async def run(text: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run a snippet (top-level `await` and `async with` allowed, as in the seeds)."""
    code = compile(text, "<seed snippet>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # noqa: S307 - the seeds' own code, held in the tests
    if inspect.iscoroutine(result):
        await result
    return namespace


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database: the seeds' code names no schema, so each test gets its own
    database rather than sharing the public schema with other tests."""
    name = f"seeds_{uuid.uuid4().hex[:12]}"
    url = server_url()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(url, dbname=name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))
