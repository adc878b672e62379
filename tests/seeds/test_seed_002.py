"""Seed 002 (checkpoints and persistence): `from_conn_string(...)` passed straight to
`compile()`, no `with`, on the sync and async classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.seeds import snippets

PLACEHOLDER_URL = "postgresql://user:pass@localhost/dbname"

SQLITE = """
from saver import SqliteSaver

# File-based
checkpointer = SqliteSaver.from_conn_string("checkpoints.db")

# In-memory SQLite (testing)
checkpointer = SqliteSaver.from_conn_string(":memory:")

graph = builder.compile(checkpointer=checkpointer)
"""

POSTGRES = """
from saver import PostgresSaver

# Connection string
conn_string = "postgresql://user:pass@localhost/dbname"
checkpointer = PostgresSaver.from_conn_string(conn_string)

# Or async version
from saver import AsyncPostgresSaver
checkpointer = AsyncPostgresSaver.from_conn_string(conn_string)

graph = builder.compile(checkpointer=checkpointer)
"""

INTERRUPTS = """
graph = builder.compile(
    checkpointer=SqliteSaver.from_conn_string("checkpoints.db"),
    interrupt_before=["approval_node"]  # Pause before this node
)

# First invoke - will pause at approval_node
config = {"configurable": {"thread_id": "user-123"}}
result = graph.invoke({"input": "Request data"}, config=config)

# Inspect state at interrupt
state = graph.get_state(config)
print(f"Next node: {state.next}")  # ['approval_node']

# Resume after human approval
graph.invoke(None, config=config)  # Continues from pause point
"""

NAMESPACES = """
# Different graphs, same database
user_graph = builder_user.compile(
    checkpointer=PostgresSaver.from_conn_string(conn, namespace="user_graph")
)

admin_graph = builder_admin.compile(
    checkpointer=PostgresSaver.from_conn_string(conn, namespace="admin_graph")
)
"""


async def test_sqlite_savers_from_conn_string_go_straight_into_compile(in_tmp: Path) -> None:
    ns = await snippets.run(SQLITE, {"builder": snippets.builder()})
    config = snippets.config()
    ns["graph"].invoke({"input": "Hello"}, config=config)
    ns["graph"].invoke({"input": "How are you?"}, config=config)
    assert ns["graph"].get_state(config).values["seen"] == [
        "Hello",
        "approved",
        "How are you?",
        "approved",
    ]
    ns["checkpointer"].close()


async def test_postgres_savers_from_conn_string_go_straight_into_compile(database: str) -> None:
    text = POSTGRES.replace(PLACEHOLDER_URL, database)
    ns = await snippets.run(text, {"builder": snippets.builder()})
    config = snippets.config()
    await ns["graph"].ainvoke({"input": "Hello"}, config=config)
    await ns["graph"].ainvoke({"input": "How are you?"}, config=config)
    state = await ns["graph"].aget_state(config)
    assert state.values["seen"] == ["Hello", "approved", "How are you?", "approved"]
    await ns["checkpointer"].aclose()


async def test_an_interrupt_before_a_node_pauses_and_resumes_from_conn_string(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from saver import SqliteSaver

    ns = await snippets.run(INTERRUPTS, {"builder": snippets.builder(), "SqliteSaver": SqliteSaver})
    assert "Next node: ('approval_node',)" in capsys.readouterr().out
    assert ns["graph"].get_state(ns["config"]).values["seen"] == ["Request data", "approved"]
    assert (in_tmp / "checkpoints.db").exists()
    ns["graph"].checkpointer.close()


async def test_two_namespaces_on_one_database_keep_their_threads_apart(database: str) -> None:
    from saver import PostgresSaver

    names: dict[str, Any] = {
        "builder_user": snippets.builder(),
        "builder_admin": snippets.builder(),
        "conn": database,
        "PostgresSaver": PostgresSaver,
    }
    ns = await snippets.run(NAMESPACES, names)
    config = snippets.config("shared-id")
    ns["user_graph"].invoke({"input": "from a user"}, config=config)
    ns["admin_graph"].invoke({"input": "from an admin"}, config=config)
    assert ns["user_graph"].get_state(config).values["seen"] == ["from a user", "approved"]
    assert ns["admin_graph"].get_state(config).values["seen"] == ["from an admin", "approved"]
    ns["user_graph"].checkpointer.close()
    ns["admin_graph"].checkpointer.close()
