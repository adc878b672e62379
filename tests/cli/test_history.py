"""`saver threads|history|show|diff|tree|search|export|import|copy` end to end: the installed
console script, run as a subprocess, on SQLite files and PostgreSQL schemas that real LangGraph
graphs wrote (chat turns, an interrupt left waiting, a subgraph, forks)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt

from tests.cli import stores
from tests.cli.commands import SCRIPT, saver_cli
from tests.support import raw_rows

ALICE, BOB, OTHER, REVIEW = "org-1:user-1:s1", "org-1:user-2:s1", "other", "review"
WRITE_ORDER = (ALICE, BOB, REVIEW, OTHER)  # OTHER is forked last: the newest update


class Chat(TypedDict):
    messages: Annotated[list, add_messages]


def chat(state: Chat) -> Chat:
    return {"messages": [AIMessage(f"echo: {state['messages'][-1].content}")]}


def research(state: Chat) -> Chat:
    return {"messages": [AIMessage("found some notes")]}


def approve(state: Chat) -> Chat:
    return {"messages": [HumanMessage(interrupt("approve?"))]}


def chat_graph() -> StateGraph:
    builder = StateGraph(Chat)
    builder.add_node("chat", chat)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", END)
    return builder


def review_graph() -> StateGraph:
    sub = StateGraph(Chat)
    sub.add_node("research", research)
    sub.add_edge(START, "research")
    sub.add_edge("research", END)
    builder = StateGraph(Chat)
    builder.add_node("sub", sub.compile())  # checkpoints under a non-empty checkpoint_ns
    builder.add_node("approve", approve)
    builder.add_edge(START, "sub")
    builder.add_edge("sub", "approve")
    builder.add_edge("approve", END)
    return builder


def conf(thread: str, checkpoint: str | None = None, **extra: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"configurable": {"thread_id": thread}, **extra}
    if checkpoint:
        c["configurable"]["checkpoint_id"] = checkpoint
    return c


@dataclass
class Store(stores.Store):
    fork_parent: str = ""  # the checkpoint update_state forked OTHER from
    copy_parent: str = ""  # the parent of the "fork" (as_node="__copy__") checkpoint
    extra: dict[str, Any] = field(default_factory=dict)

    def history(self, thread: str) -> list[Any]:
        """The root namespace's StateSnapshots, newest first, as LangGraph reads them."""
        builder = review_graph() if thread.startswith(REVIEW) else chat_graph()
        with self.open() as saver:
            return list(builder.compile(checkpointer=saver).get_state_history(conf(thread)))

    def state(self, thread: str, checkpoint: str | None = None) -> Any:
        with self.open() as saver:
            return chat_graph().compile(checkpointer=saver).get_state(conf(thread, checkpoint))

    def namespaces(self, thread: str) -> list[str]:
        sql = "SELECT DISTINCT checkpoint_ns FROM history_checkpoints WHERE thread_id = ?"
        return sorted(r[0] for r in raw_rows(self, sql, (thread,)))

    def tuples(self, thread: str) -> list[Any]:
        """Every stored checkpoint of the thread, every namespace, scrubbed of its id."""
        out = []
        with self.open() as saver:
            for ns in self.namespaces(thread):
                for t in saver.list({"configurable": {"thread_id": thread, "checkpoint_ns": ns}}):
                    row = (t.config, t.parent_config, t.checkpoint, t.metadata, t.pending_writes)
                    out.append(scrub(row, thread))
        return out


def scrub(value: Any, thread: str) -> Any:
    """`value` with the thread id replaced, tuples as lists: what must match across ids."""
    if isinstance(value, dict):
        return {k: scrub(v, thread) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return [scrub(v, thread) for v in value]
    if hasattr(value, "_asdict"):
        return scrub(value._asdict(), thread)
    return "<thread>" if value == thread else value


def snapshots(store: Store, thread: str) -> list[Any]:
    return [
        scrub(
            {
                "values": s.values,
                "next": s.next,
                "config": s.config,
                "parent": s.parent_config,
                "metadata": s.metadata,
                "created_at": s.created_at,
                "tasks": s.tasks,
                "interrupts": s.interrupts,
            },
            thread,
        )
        for s in store.history(thread)
    ]


def write_history(store: Store) -> None:
    with store.open() as saver:
        saver.setup()
        talk = chat_graph().compile(checkpointer=saver)
        for thread, user, turns in (
            (ALICE, "alice", ("hello", "I like bananas", "bye")),
            (BOB, "bob", ("hi there", "what time is it")),
        ):
            for text in turns:
                talk.invoke(
                    {"messages": [HumanMessage(text)]},
                    conf(thread, metadata={"user_id": user}),
                )
        review_graph().compile(checkpointer=saver).invoke(
            {"messages": [HumanMessage("check the report")]}, conf(REVIEW)
        )
        for text in ("first", "Banana split", "last"):
            talk.invoke({"messages": [HumanMessage(text)]}, conf(OTHER))
        history = list(talk.get_state_history(conf(OTHER)))
        older = next(s for s in history if s.next == ("chat",) and s.metadata["step"] == 3)
        forked = talk.update_state(older.config, {"messages": [HumanMessage("forked question")]})
        talk.invoke(None, forked)
        copied = talk.update_state(history[1].config, None, as_node="__copy__")
        store.fork_parent = older.config["configurable"]["checkpoint_id"]
        copy = talk.get_state(copied)
        store.copy_parent = copy.parent_config["configurable"]["checkpoint_id"]


@pytest.fixture(scope="module", params=stores.KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Read-only: tests that write use `fresh`."""
    made = stores.make_store(
        request.param, tmp_path_factory.mktemp("store"), request.addfinalizer, Store
    )
    write_history(made)
    return made


@pytest.fixture(params=stores.KINDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made = stores.make_store(request.param, tmp_path, request.addfinalizer, Store)
    write_history(made)
    return made


@pytest.fixture
def elsewhere(fresh: Store, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """An empty store of the other backend (no setup: import and copy create it)."""
    kind = "postgres" if fresh.schema is None else "sqlite"
    return stores.make_store(kind, tmp_path, request.addfinalizer, Store)


def ok(*args: str, **kwargs: Any) -> str:
    result = saver_cli(*args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_json(*args: str, **kwargs: Any) -> Any:
    return json.loads(ok(*args, "--json", **kwargs))


def failed(code: int, *args: str, **kwargs: Any) -> str:
    result = saver_cli(*args, **kwargs)
    assert result.returncode == code, (result.stdout, result.stderr)
    return result.stderr


def ids(snaps: list[Any]) -> list[str]:
    return [s.config["configurable"]["checkpoint_id"] for s in snaps]


def messages(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": m.type, "id": m.id, "content": m.content} for m in values["messages"]]


# --- threads -------------------------------------------------------------------------------


def test_threads_json_newest_first_with_counts_and_waiting(store: Store) -> None:
    found = as_json("threads", store.url)
    assert [t["thread_id"] for t in found] == list(reversed(WRITE_ORDER))
    for t in found:
        history = store.history(t["thread_id"])
        assert t["checkpoints"] == len(history), t["thread_id"]
        assert t["head_id"] == ids(history)[0]
        assert t["waiting"] is (t["thread_id"] == REVIEW)


def test_threads_by_status_finds_the_threads_with_a_step_left_to_run(store: Store) -> None:
    # REVIEW waits on an interrupt(); OTHER's head, a copy made by update_state of a checkpoint
    # before its last step, has that step left to run (LangGraph's `next`), as after a breakpoint.
    found = as_json("threads", store.url, "--status", "interrupted")
    assert [t["thread_id"] for t in found] == [OTHER, REVIEW]
    assert [t["waiting"] for t in found] == [False, True]
    assert {t["thread_id"] for t in as_json("threads", store.url, "--status", "idle")} == {
        ALICE,
        BOB,
    }


def test_threads_refuses_an_unknown_status_naming_the_choices(store: Store) -> None:
    result = saver_cli("threads", store.url, "--status", "stuck")
    assert result.returncode == 2 and "idle" in result.stderr


def test_threads_prefix_and_limit(store: Store) -> None:
    assert {t["thread_id"] for t in as_json("threads", store.url, "--prefix", "org-1:")} == {
        ALICE,
        BOB,
    }
    limited = as_json("threads", store.url, "--limit", "2")
    assert [t["thread_id"] for t in limited] == [OTHER, REVIEW]


def test_threads_filter_matches_the_heads_metadata(store: Store) -> None:
    found = as_json("threads", store.url, "--filter", "user_id=alice")
    assert [t["thread_id"] for t in found] == [ALICE]
    assert found[0]["metadata"]["user_id"] == "alice"
    assert as_json("threads", store.url, "--filter", "user_id=carol") == []


def test_threads_table_names_every_thread(store: Store) -> None:
    printed = ok("threads", store.url)
    for thread in WRITE_ORDER:
        assert thread in printed
    assert "interrupt" in printed


# --- history -------------------------------------------------------------------------------


def test_history_json_matches_get_state_history(store: Store) -> None:
    for thread in WRITE_ORDER:
        rows = as_json("history", store.url, thread)
        snaps = store.history(thread)
        assert [r["checkpoint_id"] for r in rows] == ids(snaps), thread
        assert [r["parent_id"] for r in rows] == [
            s.parent_config and s.parent_config["configurable"]["checkpoint_id"] for s in snaps
        ]
        assert [r["source"] for r in rows] == [s.metadata["source"] for s in snaps]
        assert [r["step"] for r in rows] == [s.metadata["step"] for s in snaps]
        assert [tuple(r["next"]) for r in rows] == [s.next for s in snaps]
        assert {r["checkpoint_ns"] for r in rows} == {""}


def test_history_sources_and_writes(store: Store) -> None:
    rows = as_json("history", store.url, OTHER)
    assert {r["source"] for r in rows} == {"input", "loop", "update", "fork"}
    for r in as_json("history", store.url, ALICE):
        if r["next"] == ["chat"]:
            assert r["writes"] == {"chat": ["messages"]}
        elif r["source"] == "input":
            assert r["writes"] == {"__start__": ["messages"]}
        else:
            assert r["writes"] == {}  # the end of a turn: nothing ran from it


def test_history_waiting_checkpoint_has_the_interrupt(store: Store) -> None:
    rows = as_json("history", store.url, REVIEW)
    head, *older = rows
    assert head["next"] == ["approve"]
    assert head["interrupts"] == ["approve?"] and head["waiting"] is True
    assert all(not r["interrupts"] and r["waiting"] is False for r in older)
    assert any(r["writes"].get("sub") == ["messages"] for r in rows)


def test_history_table_shows_steps_and_nodes(store: Store) -> None:
    printed = ok("history", store.url, ALICE)
    for step in ("-1", "0", "1", "6", "7"):
        assert f" {step} " in printed
    assert "chat: messages" in printed
    assert "(waiting)" in ok("history", store.url, REVIEW)


def test_history_of_a_subgraph_namespace(store: Store) -> None:
    (ns,) = [n for n in store.namespaces(REVIEW) if n]
    rows = as_json("history", store.url, REVIEW, "--ns", ns)
    assert rows and {r["checkpoint_ns"] for r in rows} == {ns}
    assert any(r["writes"] == {"research": ["messages"]} for r in rows)


# --- show ----------------------------------------------------------------------------------


def test_show_head_and_older_checkpoint(store: Store) -> None:
    head = as_json("show", store.url, ALICE)
    state = store.state(ALICE)
    assert head["checkpoint_id"] == state.config["configurable"]["checkpoint_id"]
    assert head["values"]["messages"] == messages(state.values)
    assert len(head["values"]["messages"]) == 6

    older_id = ids(store.history(ALICE))[3]
    older = as_json("show", store.url, ALICE, older_id)
    assert older["checkpoint_id"] == older_id
    assert older["values"]["messages"] == messages(store.state(ALICE, older_id).values)
    assert len(older["values"]["messages"]) < 6


def test_show_prints_the_values(store: Store) -> None:
    printed = ok("show", store.url, REVIEW)
    assert "check the report" in printed and "approve?" in printed


def test_show_unknown_checkpoint_is_exit_3(store: Store) -> None:
    missing = "1f000000-0000-6000-8000-000000000000"
    assert missing in failed(3, "show", store.url, ALICE, missing)


def test_show_of_an_unknown_thread_says_there_is_no_such_thread(store: Store) -> None:
    said = failed(3, "show", store.url, "no-such-thread")
    assert said == "saver show: error: no thread 'no-such-thread' (namespace '') in this store\n"


def test_show_takes_thread_and_checkpoint_with_the_url_from_the_environment(
    store: Store,
) -> None:
    older_id = ids(store.history(ALICE))[3]
    shown = as_json("show", ALICE, older_id, env={"SAVER_URL": store.url})
    assert shown["thread_id"] == ALICE and shown["checkpoint_id"] == older_id


# --- diff ----------------------------------------------------------------------------------


def test_diff_lists_added_message_ids(store: Store) -> None:
    snaps = store.history(ALICE)[::-1]  # oldest first
    ends = [
        s for s in snaps if s.metadata["source"] == "loop" and not s.next
    ]  # the end of each turn
    a, b = ends[0], ends[2]
    changes = as_json("diff", store.url, ALICE, *ids([a, b]))
    (change,) = [c for c in changes if c["channel"] == "messages"]
    before = {m.id for m in a.values["messages"]}
    assert [m["id"] for m in change["added"]] == [
        m.id for m in b.values["messages"] if m.id not in before
    ]
    assert len(change["added"]) == 4 and change["removed"] == []
    assert "messages" in ok("diff", store.url, ALICE, *ids([a, b]))


def test_diff_of_a_checkpoint_with_itself_is_empty(store: Store) -> None:
    head = ids(store.history(ALICE))[0]
    assert as_json("diff", store.url, ALICE, head, head) == []
    assert "none" in ok("diff", store.url, ALICE, head, head)


# --- tree ----------------------------------------------------------------------------------


def test_tree_shows_the_forks(store: Store) -> None:
    (line,) = as_json("tree", store.url, OTHER)
    assert line["parent"] is None
    forks = {f["parent"]: f for f in line["forks"]}
    assert set(forks) == {store.fork_parent, store.copy_parent}
    assert store.fork_parent in line["checkpoints"] and store.copy_parent in line["checkpoints"]
    update = forks[store.fork_parent]["checkpoints"]
    assert len(update) == 2  # the update_state checkpoint, then the run from it
    everything = line["checkpoints"] + [c for f in line["forks"] for c in f["checkpoints"]]
    assert sorted(everything) == sorted(ids(store.history(OTHER)))
    assert f"fork from {store.fork_parent}" in ok("tree", store.url, OTHER)


def test_tree_of_an_unforked_thread_is_one_line(store: Store) -> None:
    (line,) = as_json("tree", store.url, BOB)
    assert line == {"parent": None, "checkpoints": ids(store.history(BOB))[::-1], "forks": []}
    assert "fork from" not in ok("tree", store.url, BOB)


# --- search --------------------------------------------------------------------------------


def first_mentions(store: Store, thread: str, word: str) -> list[tuple[str, str, str]]:
    seen, out = set(), []
    for s in store.history(thread)[::-1]:
        for m in s.values.get("messages", []):
            if m.id not in seen:
                seen.add(m.id)
                if word.casefold() in m.content.casefold():
                    out.append((thread, s.config["configurable"]["checkpoint_id"], m.id))
    return out


def hits_of(found: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(h["thread_id"], h["checkpoint_id"], h["message"]["id"]) for h in found]


def test_search_finds_where_a_word_first_appeared(store: Store) -> None:
    expected = first_mentions(store, ALICE, "banana") + first_mentions(store, OTHER, "banana")
    assert len(expected) == 4  # the human message and its echo, in two threads
    found = as_json("search", store.url, "BaNaNa")
    assert sorted(hits_of(found)) == sorted(expected)
    assert all("banana" in h["message"]["content"].lower() for h in found)
    assert "I like bananas" in ok("search", store.url, "BANANA")


def test_search_thread_and_limit(store: Store) -> None:
    only = as_json("search", store.url, "banana", "--thread", OTHER)
    assert hits_of(only) == first_mentions(store, OTHER, "banana")
    capped = as_json("search", store.url, "banana", "--limit", "1")
    assert len(capped) == 1
    assert hits_of(capped)[0] in first_mentions(store, ALICE, "banana") + first_mentions(
        store, OTHER, "banana"
    )
    assert as_json("search", store.url, "no such words anywhere") == []


# --- export / import / copy ----------------------------------------------------------------


def test_export_import_round_trip_same_and_other_store(fresh: Store, elsewhere: Store) -> None:
    exported = ok("export", fresh.url, REVIEW)
    assert [n for n in fresh.namespaces(REVIEW) if n]  # the subgraph's rows are in it
    lines = exported.splitlines()
    assert json.loads(lines[0])["thread_id"] == REVIEW

    report = as_json("import", fresh.url, "--thread", "review-2", stdin=exported)
    assert report == {
        "imported": REVIEW,
        "to": "review-2",
        "checkpoints": len(fresh.tuples(REVIEW)),
    }
    ok("import", elsewhere.url, "--thread", "review-3", stdin=exported)

    original = snapshots(fresh, REVIEW)
    assert original[0]["interrupts"] and original[0]["tasks"]
    assert snapshots(fresh, "review-2") == original
    assert snapshots(elsewhere, "review-3") == original
    assert fresh.tuples("review-2") == fresh.tuples(REVIEW)
    assert elsewhere.tuples("review-3") == fresh.tuples(REVIEW)


def test_export_to_a_file_and_import_from_it(fresh: Store, tmp_path: Path) -> None:
    out = tmp_path / "other.jsonl"
    assert ok("export", fresh.url, OTHER, "-o", str(out)) == ""
    ok("import", fresh.url, "--thread", "other-2", "-i", str(out))
    assert snapshots(fresh, "other-2") == snapshots(fresh, OTHER)


def test_export_into_a_pipe_closed_early_ends_without_a_traceback(store: Store) -> None:
    # `saver export URL T | head -1`: the reader has gone before the command writes
    command = [str(SCRIPT), "export", store.url, OTHER]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    errors = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in errors and "Exception ignored" not in errors


def test_export_json_prints_the_same_json_lines(store: Store) -> None:
    assert ok("export", store.url, REVIEW, "--json") == ok("export", store.url, REVIEW)


def test_export_to_a_file_with_json_prints_a_report(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "review.jsonl"
    report = as_json("export", store.url, REVIEW, "-o", str(out))
    assert report == {"exported": REVIEW, "to": str(out), "checkpoints": len(store.tuples(REVIEW))}
    assert out.read_text() == ok("export", store.url, REVIEW)


def test_export_to_a_file_it_cannot_write_is_exit_2(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "t.jsonl"
    said = failed(2, "export", store.url, BOB, "-o", str(out))
    assert said.startswith(f"saver export: error: cannot write {out}") and "Traceback" not in said


def test_import_twice_is_refused(fresh: Store) -> None:
    exported = ok("export", fresh.url, BOB)
    ok("import", fresh.url, "--thread", "bob-2", stdin=exported)
    before = snapshots(fresh, "bob-2")
    assert "bob-2" in failed(2, "import", fresh.url, "--thread", "bob-2", stdin=exported)
    assert failed(2, "import", fresh.url, stdin=exported)  # under its own id: BOB exists
    assert snapshots(fresh, "bob-2") == before
    assert snapshots(fresh, BOB) == snapshots(fresh, "bob-2")


def test_import_of_garbage_is_exit_2_naming_the_line(fresh: Store) -> None:
    assert "stdin:1" in failed(2, "import", fresh.url, stdin="this is not json\n")
    lines = ok("export", fresh.url, BOB).splitlines()
    lines[2] = "{garbage"
    assert "stdin:3" in failed(2, "import", fresh.url, "--thread", "x", stdin="\n".join(lines))
    assert not fresh.namespaces("x")


def test_import_of_a_file_that_is_not_an_export_is_exit_2_naming_file_and_line(
    store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("\nhello\n")
    said = failed(2, "import", store.url, "--thread", "x", "-i", str(bad))
    assert said.startswith(f"saver import: error: {bad}:2: ") and "Traceback" not in said
    header = ok("export", store.url, BOB).splitlines()[0]
    bad.write_bytes(header.encode() + b"\n\xff\xfe\n")
    said = failed(2, "import", store.url, "--thread", "x", "-i", str(bad))
    assert said.startswith(f"saver import: error: {bad}:2: not UTF-8")
    assert not store.namespaces("x")


def test_import_of_a_missing_file_is_exit_2(store: Store, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    said = failed(2, "import", store.url, "-i", str(missing))
    assert (
        said.startswith(f"saver import: error: cannot read {missing}") and "Traceback" not in said
    )


def test_copy_within_a_store(fresh: Store) -> None:
    report = as_json("copy", fresh.url, OTHER, "other-copy")
    assert report["copied"] == OTHER and report["to"] == "other-copy"
    assert report["checkpoints"] == len(fresh.tuples(OTHER))
    assert snapshots(fresh, "other-copy") == snapshots(fresh, OTHER)
    assert "review-copy" in ok("copy", fresh.url, REVIEW, "review-copy")
    assert fresh.tuples("review-copy") == fresh.tuples(REVIEW)


def test_copy_to_another_store(fresh: Store, elsewhere: Store) -> None:
    report = as_json("copy", fresh.url, REVIEW, "review-moved", "--to", elsewhere.url)
    assert report == {
        "copied": REVIEW,
        "to": "review-moved",
        "checkpoints": len(fresh.tuples(REVIEW)),
    }
    assert snapshots(elsewhere, "review-moved") == snapshots(fresh, REVIEW)
    assert elsewhere.tuples("review-moved") == fresh.tuples(REVIEW)


def test_copy_unknown_thread_is_exit_3(fresh: Store, elsewhere: Store) -> None:
    assert "nobody" in failed(3, "copy", fresh.url, "nobody", "n2")
    assert "nobody" in failed(3, "copy", fresh.url, "nobody", "n2", "--to", elsewhere.url)
    assert not fresh.namespaces("n2")


# --- tables on a narrow terminal -----------------------------------------------------------


def printed_ids(store: Store, command: str) -> tuple[list[str], list[str]]:
    """A command's arguments, and the ids its table or tree must print."""
    if command == "threads":
        return [store.url], [t["thread_id"] for t in as_json("threads", store.url)]
    if command in ("history", "tree"):
        return [store.url, OTHER], ids(store.history(OTHER))
    if command == "show":
        return [store.url, REVIEW], ids(store.history(REVIEW))[:1]
    found = as_json("search", store.url, "banana")
    return [store.url, "banana"], [h["thread_id"] for h in found] + [
        h["checkpoint_id"] for h in found
    ]


@pytest.mark.parametrize("columns", ["40", "80"])
@pytest.mark.parametrize("command", ["threads", "history", "tree", "show", "search"])
def test_ids_are_printed_whole_however_narrow_the_terminal(
    store: Store, command: str, columns: str
) -> None:
    args, expected = printed_ids(store, command)
    printed = ok(command, *args, env={"COLUMNS": columns})
    for id_ in expected:
        assert id_ in printed, (id_, printed)


@pytest.mark.parametrize("command", ["threads", "history", "search"])
def test_an_80_column_table_leaves_columns_out_rather_than_overflow(
    store: Store, command: str
) -> None:
    args, expected = printed_ids(store, command)
    printed = ok(command, *args, env={"COLUMNS": "80"})
    assert max(len(line) for line in printed.splitlines()) <= 80
    assert all(id_ in printed for id_ in expected)


def test_an_80_column_history_still_shows_a_thread_waiting(store: Store) -> None:
    printed = ok("history", store.url, REVIEW, env={"COLUMNS": "80"})
    assert "(waiting)" in printed and ids(store.history(REVIEW))[0] in printed


def test_ids_are_printed_as_they_are_not_read_as_markup(fresh: Store) -> None:
    odd = "[bold]team[/bold]:[red]1"
    assert odd in ok("copy", fresh.url, BOB, odd, env={"COLUMNS": "40"})
    assert odd in ok("threads", fresh.url, "--prefix", "[", env={"COLUMNS": "40"})
    assert f"thread {odd}" in ok("tree", fresh.url, odd)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["history", "tree", "export"])
def test_unknown_thread_is_exit_3(store: Store, command: str) -> None:
    assert "no-such-thread" in failed(3, command, store.url, "no-such-thread")


def test_malformed_url_is_exit_2(store: Store) -> None:
    if store.schema is None:
        bad = ["sqlite:/" + store.path, "sqlite:///", "mysql://h/db"]
    else:
        bad = [f"{store.url}&schema=again", store.url.replace("postgresql", "postgrez", 1)]
    for url in bad:
        failed(2, "threads", url)


def test_url_from_the_environment_or_exit_2(store: Store) -> None:
    assert "SAVER_URL" in failed(2, "threads")
    found = json.loads(ok("threads", "--json", env={"SAVER_URL": store.url}))
    assert {t["thread_id"] for t in found} == set(WRITE_ORDER)
    assert "SAVER_URL" in failed(2, "history", "--", "", ALICE)


def test_diff_unknown_checkpoint_is_exit_3(store: Store) -> None:
    missing = "1f000000-0000-6000-8000-000000000000"
    head = ids(store.history(ALICE))[0]
    assert missing in failed(3, "diff", store.url, ALICE, head, missing)
