"""A saver from `from_conn_string` that nobody closes (the seeds' code never does) lets the
interpreter exit, without a ResourceWarning even in development mode."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.seeds import snippets
from tests.support import ALL_CLASSES, SQLITE_CLASSES

PROGRAM = """
import asyncio, operator, sys
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph

import saver


class State(TypedDict):
    seen: Annotated[list[str], operator.add]


builder = StateGraph(State)
builder.add_node("step", lambda state: {"seen": ["step"]})
builder.add_edge(START, "step")
builder.add_edge("step", END)
checkpointer = getattr(saver, sys.argv[1]).from_conn_string(sys.argv[2])
graph = builder.compile(checkpointer=checkpointer)
config = {"configurable": {"thread_id": "t"}}
if sys.argv[1].startswith("Async"):

    async def main():
        await graph.ainvoke({"seen": []}, config)
        print((await graph.aget_state(config)).values["seen"])

    asyncio.run(main())
else:
    graph.invoke({"seen": []}, config)
    print(graph.get_state(config).values["seen"])
"""


@pytest.fixture(params=ALL_CLASSES)
def class_and_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param in SQLITE_CLASSES:
        yield request.param, str(tmp_path / "checkpoints.db")
    else:
        with snippets.fresh_database() as url:
            yield request.param, url


def test_an_unclosed_saver_lets_the_interpreter_exit_quietly(
    class_and_target: tuple[str, str], tmp_path: Path
) -> None:
    class_name, target = class_and_target
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    done = subprocess.run(
        [sys.executable, "-X", "dev", str(program), class_name, target],
        capture_output=True,
        text=True,
        timeout=120,  # a hang at exit fails here
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['step']"
    assert "Warning" not in done.stderr, done.stderr
