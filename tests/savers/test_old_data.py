"""SQLite files written by earlier releases open, read the same, and grow in today's format:
one from before deltas (schema 1: whole values, LangGraph-length versions, channel versions
inside the checkpoint) and one from the release before this (plain zlib, 10-digit versions)."""

from __future__ import annotations

import sqlite3
import zlib
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
        body["id"] = row[3]
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


Stored = list[tuple[Any, Any]]  # (checkpoint, pending writes) of each checkpoint, newest first


def reopen_and_grow(path: Path) -> tuple[Stored, Stored, list[Any]]:
    """Open the file with today's saver: what it reads, three more turns, what it reads then,
    and the final messages."""
    with SqliteSaver.from_conn_string(str(path)) as cp:
        before = [(t.checkpoint, t.pending_writes) for t in cp.list(THREAD)]
        for turn in range(3, 6):
            graph(cp).invoke({"messages": [HumanMessage(f"q{turn}", id=f"h{turn}")]}, THREAD)
        after = [(t.checkpoint, t.pending_writes) for t in cp.list(THREAD)]
        return before, after, graph(cp).get_state(THREAD).values["messages"]


def test_a_file_from_before_deltas_reads_the_same_and_then_grows_by_deltas(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    write_schema_1_file(path)
    before, after, final = reopen_and_grow(path)
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
    latest = max(version for version, _ in load_migrations("sqlite"))
    assert db.execute("SELECT MAX(version) FROM history_migrations").fetchone() == (latest,)
    assert db.execute("SELECT COUNT(*) FROM history_blobs WHERE (format & 15) = 2").fetchone()[0]
    packed = "SELECT COUNT(*) FROM history_writes WHERE SUBSTR(data, 1, 1) = X'C1'"
    assert db.execute(packed).fetchone()[0]


def previous_version(current: Any, channel: Any = None) -> str:
    """The versions the release before this one wrote: 10 digits and 48 random hex bits."""
    n = 0 if current is None else int(str(current).split(".")[0])
    return f"{n + 1:010}.{n * 7919 % 2**48:012x}"


def write_previous_release_file(path: Path) -> None:
    """Three turns stored as the release before wrote them: deltas on snapshots, blobs of 128
    bytes or more zlib-compressed without a dictionary (format 17, 18), checkpoints with their
    id in the body and nothing packed, and 10-digit versions."""
    with SqliteSaver.from_conn_string(str(path), compress=False) as cp:
        cp.get_next_version = lambda cur, ch=None: cp._deltas.issued(previous_version(cur))  # type: ignore[method-assign]
        for turn in range(3):
            text = f"q{turn} " + "and a long question " * 10
            graph(cp).invoke({"messages": [HumanMessage(text, id=f"h{turn}")]}, THREAD)
    db = sqlite3.connect(path)
    for row in db.execute("SELECT checkpoint_id, type, checkpoint FROM history_checkpoints"):
        body = SERDE.loads_typed((row[1], row[2]))
        body["id"] = row[0]
        db.execute(
            "UPDATE history_checkpoints SET checkpoint = ? WHERE checkpoint_id = ?",
            (SERDE.dumps_typed(body)[1], row[0]),
        )
    for channel, version, fmt, data in db.execute(
        "SELECT channel, version, format, data FROM history_blobs WHERE LENGTH(data) >= 128"
    ).fetchall():
        db.execute(
            "UPDATE history_blobs SET format = ?, data = ? WHERE channel = ? AND version = ?",
            (fmt | 16, zlib.compress(data, 6), channel, version),
        )
    assert db.execute("SELECT COUNT(*) FROM history_blobs WHERE format = 18").fetchone()[0]
    db.commit()
    db.close()


def test_a_file_from_the_previous_release_reads_the_same_and_then_grows(tmp_path: Path) -> None:
    path = tmp_path / "previous.sqlite"
    write_previous_release_file(path)
    before, after, final = reopen_and_grow(path)
    assert len(before) == 9 and after[-9:] == before
    assert len(final) == 12 and final[-1].content == "you said: q5"
    versions = after[0][0]["channel_versions"].values()
    assert all(str(v)[0].isalpha() and len(str(v)) <= 16 for v in versions)
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM history_blobs WHERE format = 34").fetchone()[0]
