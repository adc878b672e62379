"""A SQLite file written before deltas (schema 1: whole values, LangGraph-length versions,
channel versions inside the checkpoint) opens, reads the same, and grows with deltas."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import START, MessagesState, StateGraph

from saver import SqliteSaver
from saver.dialects.base import load_migrations

SERDE = JsonPlusSerializer()
THREAD = {"configurable": {"thread_id": "old"}}


def reply(state: MessagesState) -> dict[str, Any]:
    said = state["messages"][-1].content
    return {"messages": [AIMessage(f"you said: {said}", id=f"ai-{len(state['messages'])}")]}


def graph(checkpointer: Any) -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    return builder.compile(checkpointer=checkpointer)


def long_version(current: Any, channel: Any = None) -> str:
    """What the saver wrote before: LangGraph's SQL savers' 32-digit versions."""
    n = 0 if current is None else int(str(current).split(".")[0])
    return f"{n + 1:032}.0.5"


def write_schema_1_file(path: Path) -> None:
    """Run three turns through today's saver, then copy its rows into a file laid out as
    schema 1 was, in the form that saver stored them."""
    scratch = path.with_name("scratch.sqlite")
    with SqliteSaver.from_conn_string(str(scratch), compress=False) as cp:
        cp.get_next_version = long_version  # type: ignore[method-assign]
        for turn in range(3):
            graph(cp).invoke({"messages": [HumanMessage(f"q{turn}", id=f"h{turn}")]}, THREAD)
    old = sqlite3.connect(path)
    old.executescript(";\n".join(load_migrations("sqlite")[0][1]))
    old.execute("CREATE TABLE history_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
    old.execute("INSERT INTO history_migrations VALUES (1, 0)")
    new = sqlite3.connect(scratch)
    for row in new.execute("SELECT * FROM history_checkpoints"):
        body = SERDE.loads_typed((row[5], row[6]))
        body["channel_versions"] = dict(SERDE.loads_typed(("json", row[7].encode())))
        type_, data = SERDE.dumps_typed(body)
        old.execute(
            "INSERT INTO history_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row[:5], type_, data, *row[7:]),
        )
    for table, columns in (
        (
            "history_blobs",
            "thread_id, namespace, checkpoint_ns, channel, version, format, type, data",
        ),
        ("history_writes", "*"),
    ):
        rows = new.execute(f"SELECT {columns} FROM {table}").fetchall()
        marks = ", ".join("?" * len(rows[0]))
        old.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    assert new.execute("SELECT COUNT(*) FROM history_blobs WHERE format != 1").fetchone() == (0,)
    old.commit()
    old.close()
    new.close()


def test_a_file_from_before_deltas_reads_the_same_and_then_grows_by_deltas(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    write_schema_1_file(path)
    with SqliteSaver.from_conn_string(str(path)) as cp:
        before = [s.values for s in graph(cp).get_state_history(THREAD)]
        for turn in range(3, 6):
            graph(cp).invoke({"messages": [HumanMessage(f"q{turn}", id=f"h{turn}")]}, THREAD)
        after = [s.values for s in graph(cp).get_state_history(THREAD)]
        final = graph(cp).get_state(THREAD).values["messages"]
    assert len(before) == 9 and after[-9:] == before
    assert [m.content for m in final][:6] == [
        "q0",
        "you said: q0",
        "q1",
        "you said: q1",
        "q2",
        "you said: q2",
    ]
    db = sqlite3.connect(path)
    assert db.execute("SELECT MAX(version) FROM history_migrations").fetchone() == (2,)
    assert (
        db.execute("SELECT COUNT(*) FROM history_blobs WHERE format IN (2, 18)").fetchone()[0] > 0
    )
