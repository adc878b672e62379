"""`saver migrate` end to end: real graphs write with LangGraph's own SqliteSaver and
PostgresSaver, the installed console script imports them, and the same graphs compiled with
our saver must show the same history, and resume the same way."""

from __future__ import annotations

import hashlib
import json
import operator
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from langgraph.checkpoint.postgres import PostgresSaver as TheirPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver as TheirSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from saver import InvalidConfigError, PostgresSaver, SqliteSaver, StorageError
from saver.cli.migrate import open_source
from saver.importer import migrate
from tests.cli.commands import run_on_terminal, saver_cli
from tests.cli.stores import with_schema
from tests.pg import server_url

# chat: several turns; forked: a fork made with update_state, then continued; waiting:
# left on an interrupt(); resumed: interrupted then resumed; nested: a subgraph waiting.
THREADS = ("chat", "forked", "nested", "resumed", "waiting")  # sorted, as migrate goes
WAITING = ("waiting", "nested")
REPORT_FIELDS = {"threads", "checkpoints", "writes", "skipped_threads"}


class State(TypedDict, total=False):
    count: int
    log: Annotated[list[str], operator.add]


def step(state: State) -> State:
    count = state.get("count", 0) + 1
    return {"count": count, "log": [f"step {count}"]}


def ask(state: State) -> State:
    return {"log": [f"answer {interrupt('approve?')}"]}


def chain(*nodes: tuple[str, Any]) -> StateGraph:
    builder = StateGraph(State)
    previous = START
    for name, node in nodes:
        builder.add_node(name, node)
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder


def graph_for(thread_id: str, checkpointer: Any) -> Any:
    """The graph that wrote `thread_id`, compiled with `checkpointer`."""
    if thread_id in ("chat", "forked"):
        return chain(("step", step)).compile(checkpointer=checkpointer)
    if thread_id in ("waiting", "resumed"):
        return chain(("step", step), ("ask", ask)).compile(checkpointer=checkpointer)
    inner = chain(("step", step), ("ask", ask)).compile()  # a subgraph: checkpoint_ns "inner:..."
    return chain(("inner", inner), ("after", step)).compile(checkpointer=checkpointer)


def config(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}


def write_history(checkpointer: Any) -> None:
    chat = graph_for("chat", checkpointer)
    for turn in range(3):
        chat.invoke({"log": [f"turn {turn}"]}, config("chat"))
    for turn in range(3):
        chat.invoke({"log": [f"turn {turn}"]}, config("forked"))
    older = list(chat.get_state_history(config("forked")))[3].config
    fork = chat.update_state(older, {"log": ["edited"]})
    chat.invoke({"log": ["after the fork"]}, fork)
    approval = graph_for("waiting", checkpointer)
    approval.invoke({"log": ["please"]}, config("waiting"))
    approval.invoke({"log": ["please"]}, config("resumed"))
    approval.invoke(Command(resume="yes"), config("resumed"))
    graph_for("nested", checkpointer).invoke({"log": ["in"]}, config("nested"))


@dataclass
class Store:
    url: str  # what the command line gets
    open: Callable[[], AbstractContextManager[Any]]  # the saver on it (theirs, or ours)


@dataclass
class Migration:
    source: Store  # written by LangGraph's own saver
    target: Store  # ours

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return saver_cli("migrate", "--from", self.source.url, "--to", self.target.url, *args)


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1, f"stdout must hold only the JSON: {result.stdout!r}"
    return json.loads(result.stdout)


def row(table: str, label: str) -> str:
    """The one line of a printed table that holds `label`."""
    found = [line for line in table.splitlines() if f" {label} " in line]
    assert len(found) == 1, f"no row {label!r} in:\n{table}"
    return found[0]


def fresh_database(request: pytest.FixtureRequest) -> str:
    """The URL of a new PostgreSQL database, dropped when the test ends."""
    name = f"migrate_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return urlunsplit(urlsplit(server_url())._replace(path=f"/{name}"))


def official_sqlite(tmp_path: Path) -> Store:
    path = str(tmp_path / "official.sqlite")
    return Store(f"sqlite:///{path}", lambda: TheirSqliteSaver.from_conn_string(path))


def official_postgres(request: pytest.FixtureRequest) -> Store:
    url = fresh_database(request)
    with TheirPostgresSaver.from_conn_string(url) as theirs:
        theirs.setup()
    return Store(url, lambda: TheirPostgresSaver.from_conn_string(url))


def our_sqlite(tmp_path: Path) -> Store:
    path = str(tmp_path / "history.db")
    return Store(f"sqlite:///{path}", lambda: SqliteSaver.from_conn_string(path))


def our_postgres(url: str) -> Store:
    """Our tables in schema `ours`, beside LangGraph's in `public` when `url` is the source's."""
    return Store(
        with_schema(url, "ours"), lambda: PostgresSaver.from_conn_string(url, schema="ours")
    )


def make_migration(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Migration:
    source_kind, target_kind = kind.split("-to-")
    source = official_sqlite(tmp_path) if source_kind == "sqlite" else official_postgres(request)
    if target_kind == "sqlite":
        target = our_sqlite(tmp_path)
    else:  # into the source's own database where that is PostgreSQL, as users will
        target = our_postgres(source.url if source_kind == "postgres" else fresh_database(request))
    with source.open() as theirs:
        write_history(theirs)
    return Migration(source, target)


@pytest.fixture(params=["sqlite-to-sqlite", "postgres-to-postgres", "sqlite-to-postgres"])
def migration(request: pytest.FixtureRequest, tmp_path: Path) -> Migration:
    return make_migration(request.param, tmp_path, request)


@pytest.fixture
def sqlite_migration(request: pytest.FixtureRequest, tmp_path: Path) -> Migration:
    return make_migration("sqlite-to-sqlite", tmp_path, request)


def tuples(saver: Any, thread_id: str) -> list[Any]:
    """Every checkpoint of a thread, in every namespace, in one order for both savers."""

    def key(t: Any) -> tuple[str, str]:
        conf = t.config["configurable"]
        return conf["checkpoint_ns"], conf["checkpoint_id"]

    return sorted(saver.list(config(thread_id)), key=key)


def counts(store: Store) -> tuple[int, int]:
    """(checkpoints, pending writes) over every thread."""
    with store.open() as saver:
        found = [t for thread_id in THREADS for t in tuples(saver, thread_id)]
    return len(found), sum(len(t.pending_writes) for t in found)


def test_every_thread_has_the_same_history(migration: Migration) -> None:
    report_of(migration.run("--json"))
    with migration.source.open() as theirs, migration.target.open() as ours:
        for thread_id in THREADS:
            expected = list(graph_for(thread_id, theirs).get_state_history(config(thread_id)))
            got = list(graph_for(thread_id, ours).get_state_history(config(thread_id)))
            assert len(expected) > 1, thread_id
            # values, next, config, metadata, created_at, parent_config, tasks, interrupts
            assert got == expected, thread_id


def test_every_checkpoint_and_pending_write_is_copied(migration: Migration) -> None:
    report_of(migration.run("--json"))
    with migration.source.open() as theirs, migration.target.open() as ours:
        for thread_id in THREADS:
            expected = tuples(theirs, thread_id)
            assert tuples(ours, thread_id) == expected, thread_id
        spaces = {t.config["configurable"]["checkpoint_ns"] for t in tuples(ours, "nested")}
        assert len(spaces) == 2 and "" in spaces  # the subgraph's namespace came too


def test_subgraph_state_is_the_same(migration: Migration) -> None:
    report_of(migration.run("--json"))
    with migration.source.open() as theirs, migration.target.open() as ours:
        expected = graph_for("nested", theirs).get_state(config("nested"), subgraphs=True)
        got = graph_for("nested", ours).get_state(config("nested"), subgraphs=True)
    assert got.tasks[0].state.interrupts  # the subgraph's own state, waiting on its interrupt
    assert got == expected


def test_fork_keeps_both_branches(migration: Migration) -> None:
    report_of(migration.run("--json"))
    with migration.target.open() as ours:
        history = list(graph_for("forked", ours).get_state_history(config("forked")))
    parents = [s.parent_config["configurable"]["checkpoint_id"] for s in history if s.parent_config]
    branch_points = {p for p in parents if parents.count(p) == 2}
    assert len(branch_points) == 1
    assert "edited" in history[0].values["log"]


@pytest.mark.parametrize("thread_id", WAITING)
def test_a_waiting_interrupt_resumes_the_same(migration: Migration, thread_id: str) -> None:
    report_of(migration.run("--json"))
    with migration.target.open() as ours:
        graph = graph_for(thread_id, ours)
        assert graph.get_state(config(thread_id)).interrupts
        got = graph.invoke(Command(resume="ok"), config(thread_id))
        got_state = graph.get_state(config(thread_id))
    with migration.source.open() as theirs:
        graph = graph_for(thread_id, theirs)
        expected = graph.invoke(Command(resume="ok"), config(thread_id))
        expected_state = graph.get_state(config(thread_id))
    assert got == expected
    assert "answer ok" in got["log"]
    assert (got_state.values, got_state.next) == (expected_state.values, ())


def test_json_report(migration: Migration) -> None:
    report = report_of(migration.run("--json"))
    checkpoints, writes = counts(migration.source)
    assert report == {
        "threads": len(THREADS),
        "checkpoints": checkpoints,
        "writes": writes,
        "skipped_threads": [],
    }
    assert set(report) == REPORT_FIELDS
    assert counts(migration.target) == (checkpoints, writes)


def test_table_without_a_terminal(sqlite_migration: Migration) -> None:
    result = sqlite_migration.run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no terminal: no progress bar
    checkpoints, writes = counts(sqlite_migration.source)
    assert f" {len(THREADS)} " in row(result.stdout, "threads imported")
    assert f" {checkpoints} " in row(result.stdout, "checkpoints")
    assert f" {writes} " in row(result.stdout, "pending writes")
    assert " 0 " in row(result.stdout, "threads skipped")
    assert "skipped, already" not in result.stdout


def test_running_again_skips_every_thread(migration: Migration) -> None:
    first = report_of(migration.run("--json"))
    before = counts(migration.target)
    again = report_of(migration.run("--json"))
    assert again == {
        "threads": 0,
        "checkpoints": 0,
        "writes": 0,
        "skipped_threads": list(THREADS),
    }
    assert counts(migration.target) == before == (first["checkpoints"], first["writes"])


def test_table_names_the_skipped_threads(sqlite_migration: Migration) -> None:
    report_of(sqlite_migration.run("--thread", "chat", "--json"))
    result = sqlite_migration.run()
    assert result.returncode == 0, result.stderr
    assert f" {len(THREADS) - 1} " in row(result.stdout, "threads imported")
    assert "skipped, already in the target: chat" in result.stdout


def test_a_thread_already_in_the_target_is_not_overwritten(sqlite_migration: Migration) -> None:
    with sqlite_migration.target.open() as ours:
        graph_for("chat", ours).invoke({"log": ["ours"]}, config("chat"))
        mine = tuples(ours, "chat")
    report = report_of(sqlite_migration.run("--json"))
    assert report["skipped_threads"] == ["chat"]
    assert report["threads"] == len(THREADS) - 1
    with sqlite_migration.target.open() as ours:
        assert tuples(ours, "chat") == mine  # neither replaced nor merged


def test_thread_option_imports_only_those(sqlite_migration: Migration) -> None:
    report = report_of(sqlite_migration.run("--thread", "waiting", "--thread", "chat", "--json"))
    assert report["threads"] == 2 and report["skipped_threads"] == []
    with sqlite_migration.source.open() as theirs, sqlite_migration.target.open() as ours:
        assert {t.config["configurable"]["thread_id"] for t in ours.list(None)} == {
            "chat",
            "waiting",
        }
        assert tuples(ours, "waiting") == tuples(theirs, "waiting")


def test_unknown_thread_exits_2_and_imports_nothing(sqlite_migration: Migration) -> None:
    result = sqlite_migration.run("--thread", "chat", "--thread", "nobody")
    assert result.returncode == 2
    assert "no such thread in the source: nobody" in result.stderr
    assert result.stdout == ""
    with sqlite_migration.target.open() as ours:
        assert list(ours.list(None)) == []


def test_namespace_option(sqlite_migration: Migration) -> None:
    report_of(sqlite_migration.run("--namespace", "imported", "--json"))
    path = sqlite_migration.target.url.removeprefix("sqlite:///")
    with SqliteSaver.from_conn_string(path) as default:
        assert list(default.list(None)) == []
    with SqliteSaver.from_conn_string(path, namespace="imported") as imported:
        assert {t.config["configurable"]["thread_id"] for t in imported.list(None)} == set(THREADS)


def test_saver_url_is_the_default_target(sqlite_migration: Migration) -> None:
    result = saver_cli(
        "migrate",
        "--from",
        sqlite_migration.source.url,
        "--json",
        env={"SAVER_URL": sqlite_migration.target.url},
    )
    assert report_of(result)["threads"] == len(THREADS)


def test_the_sqlite_source_is_never_written(sqlite_migration: Migration) -> None:
    """Not even the switch to WAL that LangGraph's SqliteSaver.setup() makes on open."""
    path = Path(sqlite_migration.source.url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert report_of(sqlite_migration.run("--json"))["threads"] == len(THREADS)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [
        path.name
    ]


def test_postgres_source_schema(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """?schema= on --from reads an official saver's tables kept outside `public`."""
    url = fresh_database(request)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA legacy")
    in_legacy = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3Dlegacy"
    with TheirPostgresSaver.from_conn_string(in_legacy) as theirs:
        theirs.setup()
        graph_for("chat", theirs).invoke({"log": ["hi"]}, config("chat"))
        expected = tuples(theirs, "chat")
    target = our_sqlite(tmp_path)
    result = saver_cli(
        "migrate", "--from", with_schema(url, "legacy"), "--to", target.url, "--json"
    )
    assert report_of(result)["threads"] == 1
    with target.open() as ours:
        assert tuples(ours, "chat") == expected


def test_progress_bar_on_a_terminal(sqlite_migration: Migration) -> None:
    """stderr on a pseudo-terminal: a live bar there, the summary still on stdout."""
    source, target = sqlite_migration.source.url, sqlite_migration.target.url
    code, drawn, stdout = run_on_terminal("migrate", "--from", source, "--to", target)
    assert code == 0, drawn.decode(errors="replace")
    assert b"migrate" in drawn and f"{len(THREADS)}/{len(THREADS)}".encode() in drawn
    assert b"Traceback" not in drawn
    assert "threads imported" in stdout


def test_migrate_reports_progress_per_thread(sqlite_migration: Migration) -> None:
    calls: list[tuple[int, int]] = []
    path = sqlite_migration.target.url.removeprefix("sqlite:///")
    with (
        open_source(sqlite_migration.source.url) as source,
        SqliteSaver.from_conn_string(path) as target,
    ):
        report = migrate(source, target, progress=lambda done, total: calls.append((done, total)))
    assert report.threads == len(THREADS)
    assert calls == [(n, len(THREADS)) for n in range(1, len(THREADS) + 1)]


def test_a_thread_that_fails_halfway_is_removed(
    sqlite_migration: Migration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else the next run would skip it as already there, with half its history."""
    path = sqlite_migration.target.url.removeprefix("sqlite:///")
    with (
        open_source(sqlite_migration.source.url) as source,
        SqliteSaver.from_conn_string(path) as target,
    ):
        put, calls = target.put, []

        def put_then_fail(*args: Any) -> Any:
            calls.append(args)
            if len(calls) == 3:
                raise StorageError("disk full")
            return put(*args)

        monkeypatch.setattr(target, "put", put_then_fail)
        with pytest.raises(StorageError, match="disk full"):
            migrate(source, target, ["chat"])
        assert list(target.list(None)) == []
    assert report_of(sqlite_migration.run("--thread", "chat", "--json"))["threads"] == 1


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["mysql://x", "official.sqlite"])
def test_unknown_source_scheme_exits_2(tmp_path: Path, url: str) -> None:
    target = tmp_path / "history.db"
    result = saver_cli("migrate", "--from", url, "--to", f"sqlite:///{target}")
    assert result.returncode == 2
    assert f"cannot read {url!r}" in result.stderr and "sqlite:///" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not target.exists()


def test_missing_sqlite_source_exits_1_and_creates_nothing(tmp_path: Path) -> None:
    missing, target = tmp_path / "nope.sqlite", tmp_path / "history.db"
    result = saver_cli("migrate", "--from", f"sqlite:///{missing}", "--to", f"sqlite:///{target}")
    assert result.returncode == 1
    assert "no SQLite database" in result.stderr and str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.exists() and not target.exists()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_source_without_checkpoints_table_exits_1(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":  # a file our saver wrote: tables, but not LangGraph's
        path = tmp_path / "ours.db"
        with SqliteSaver.from_conn_string(str(path)) as ours:
            graph_for("chat", ours).invoke({"log": ["hi"]}, config("chat"))
        source = f"sqlite:///{path}"
    else:
        source = fresh_database(request)
    result = saver_cli("migrate", "--from", source, "--to", f"sqlite:///{tmp_path / 'new.db'}")
    assert result.returncode == 1
    assert "no LangGraph checkpoints table at" in result.stderr
    assert "Traceback" not in result.stderr


def test_sqlite_source_that_is_not_a_database_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    result = saver_cli(
        "migrate", "--from", f"sqlite:///{path}", "--to", f"sqlite:///{tmp_path}/h.db"
    )
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "not a database" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_postgres_source_exits_1_without_the_password(tmp_path: Path) -> None:
    source = "postgresql://postgres:hunter2@127.0.0.1:1/postgres"
    result = saver_cli("migrate", "--from", source, "--to", f"sqlite:///{tmp_path / 'h.db'}")
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "***" in result.stderr
    assert "hunter2" not in result.stderr


def test_from_is_required() -> None:
    result = saver_cli("migrate", "--to", "sqlite:///x.db")
    assert result.returncode == 2
    assert "--from" in result.stderr


def test_no_target_and_no_saver_url(tmp_path: Path) -> None:
    result = saver_cli("migrate", "--from", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert result.returncode == 2
    assert "SAVER_URL" in result.stderr


@pytest.mark.parametrize(
    ("module", "url", "package"),
    [
        ("langgraph.checkpoint.sqlite", "sqlite:///{tmp}/official.sqlite", "langgraph-checkpoint-sqlite"),
        ("langgraph.checkpoint.postgres", "postgresql://postgres@127.0.0.1:1/x", "langgraph-checkpoint-postgres"),
    ],
)  # fmt: skip
def test_without_the_official_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str, url: str, package: str
) -> None:
    sqlite3.connect(tmp_path / "official.sqlite").close()
    monkeypatch.setitem(sys.modules, module, None)  # the import now fails, as if not installed
    with pytest.raises(InvalidConfigError, match=f"pip install {package}"):
        with open_source(url.format(tmp=tmp_path)):
            pass
