"""`saver cleanup` end to end: the installed console script, run as a subprocess, on SQLite
files and PostgreSQL schemas that real LangGraph graphs wrote."""

from __future__ import annotations

import json
import operator
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from saver.cli.output import human_bytes
from tests.cli import stores
from tests.cli.commands import run_on_terminal, saver_cli
from tests.pg import server_url
from tests.support import raw_rows

CHATS = ("alpha", "beta", "gamma")  # fresh threads, 4 turns each
STALE, WAITING = "stale", "waiting"  # idle for 100 days; WAITING sits on an interrupt()
TABLES = ("history_checkpoints", "history_writes", "history_blobs")
DAY = 86400


class State(TypedDict, total=False):
    count: int
    log: Annotated[list[str], operator.add]


def step(state: State) -> State:
    count = state.get("count", 0) + 1
    return {"count": count, "log": [f"step {count}"]}


def ask(state: State) -> State:
    return {"log": [interrupt("approve?")]}


def graph(node: Any) -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder


class Store(stores.Store):
    def counts(self) -> dict[str, int]:
        return {t: raw_rows(self, f"SELECT COUNT(*) FROM {self.table(t)}")[0][0] for t in TABLES}

    def checkpoints(self, namespace: str = "") -> dict[str, list[str]]:
        """{thread_id: checkpoint ids, newest first}, as the saver lists them."""
        found: dict[str, list[str]] = defaultdict(list)
        with self.open(namespace) as saver:
            for item in saver.list(None):
                conf = item.config["configurable"]
                found[conf["thread_id"]].append(conf["checkpoint_id"])
        return dict(found)

    def age(self, thread_id: str, days: int) -> None:
        raw_rows(
            self,
            f"UPDATE {self.table('history_checkpoints')} SET created_at = created_at - ? "
            "WHERE thread_id = ?",
            (days * DAY, thread_id),
        )


def write_history(store: Store, namespace: str = "", threads: tuple[str, ...] = CHATS) -> None:
    with store.open(namespace) as saver:
        chat = graph(step).compile(checkpointer=saver)
        for thread_id in threads:
            for turn in range(4):
                chat.invoke({"log": [f"turn {turn}"]}, {"configurable": {"thread_id": thread_id}})
        if namespace:
            return
        chat.invoke({"log": ["hello"]}, {"configurable": {"thread_id": STALE}})
        chat.invoke({"log": ["again"]}, {"configurable": {"thread_id": STALE}})
        approval = graph(ask).compile(checkpointer=saver)
        approval.invoke({"log": ["please"]}, {"configurable": {"thread_id": WAITING}})
    store.age(STALE, 100)
    store.age(WAITING, 100)


@pytest.fixture(params=stores.KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made = stores.make_store(request.param, tmp_path, request.addfinalizer, Store)
    write_history(made)
    return made


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made = stores.make_store("sqlite", tmp_path, request.addfinalizer, Store)
    write_history(made)
    return made


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1, f"stdout must hold only the JSON: {result.stdout!r}"
    return json.loads(result.stdout)


def test_json_report_counts_the_rows_that_went(store: Store) -> None:
    before, rows_before = store.checkpoints(), store.counts()
    report = report_of(
        saver_cli("cleanup", store.url, "--keep-last", "2", "--thread-ttl", "90d", "--json")
    )
    after, rows_after = store.checkpoints(), store.counts()

    assert after == {
        **{t: before[t][:2] for t in CHATS},  # the two newest of each chat
        WAITING: before[WAITING],  # idle, but waiting on an interrupt: spared
    }
    assert report["dry_run"] is False
    assert report["threads_examined"] == 5
    assert report["threads_deleted"] == 1  # STALE
    assert (
        report["checkpoints_deleted"]
        == rows_before["history_checkpoints"] - rows_after["history_checkpoints"]
        == sum(map(len, before.values())) - sum(map(len, after.values()))
    )
    assert report["writes_deleted"] == rows_before["history_writes"] - rows_after["history_writes"]
    assert report["blobs_deleted"] == rows_before["history_blobs"] - rows_after["history_blobs"]
    assert report["writes_deleted"] > 0 and report["blobs_deleted"] > 0
    assert report["bytes_freed"] > 0
    assert report["batches"] >= 1 and report["seconds"] >= 0
    assert set(report) == {
        "dry_run", "threads_examined", "threads_deleted", "checkpoints_deleted", "skipped",
        "writes_deleted", "blobs_deleted", "bytes_freed", "batches", "seconds",
    }  # fmt: skip


def test_dry_run_changes_nothing_and_predicts_the_real_run(store: Store) -> None:
    args = ("cleanup", store.url, "--keep-last", "1", "--max-age", "30d", "--json")
    before = store.checkpoints(), store.counts()
    dry = report_of(saver_cli(*args, "--dry-run"))
    assert dry["dry_run"] is True and dry["checkpoints_deleted"] > 0
    assert (store.checkpoints(), store.counts()) == before

    real = report_of(saver_cli(*args))
    assert real["dry_run"] is False
    for key in ("threads_examined", "threads_deleted", "checkpoints_deleted", "writes_deleted",
                "blobs_deleted", "bytes_freed", "batches"):  # fmt: skip
        assert real[key] == dry[key], key


def test_max_age_keeps_each_threads_latest(store: Store) -> None:
    before = store.checkpoints()
    report = report_of(saver_cli("cleanup", store.url, "--max-age", "30d", "--json"))
    after = store.checkpoints()
    assert after == {**before, STALE: before[STALE][:1], WAITING: before[WAITING][:1]}
    assert report["threads_deleted"] == 0
    assert report["threads_examined"] == 2  # only the old threads are candidates


def test_keep_interrupted_is_the_default_and_can_be_turned_off(store: Store) -> None:
    spared = report_of(saver_cli("cleanup", store.url, "--thread-ttl", "90d", "--json"))
    assert spared["threads_deleted"] == 1
    assert set(store.checkpoints()) == {*CHATS, WAITING}

    gone = report_of(
        saver_cli("cleanup", store.url, "--thread-ttl", "90d", "--no-keep-interrupted", "--json")
    )
    assert gone["threads_deleted"] == 1
    assert set(store.checkpoints()) == set(CHATS)


def test_thread_limits_cleanup_to_one_thread(store: Store) -> None:
    before = store.checkpoints()
    report = report_of(
        saver_cli("cleanup", store.url, "--keep-last", "1", "--thread", "alpha", "--json")
    )
    assert report["threads_examined"] == 1
    assert report["checkpoints_deleted"] == len(before["alpha"]) - 1
    assert store.checkpoints() == {**before, "alpha": before["alpha"][:1]}


def test_human_summary_without_a_terminal(store: Store) -> None:
    args = ("cleanup", store.url, "--keep-last", "2", "--thread-ttl", "90d")
    expected = report_of(saver_cli(*args, "--dry-run", "--json"))
    result = saver_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no terminal: no progress bar
    lines = result.stdout.splitlines()

    def row(label: str) -> str:
        found = [line for line in lines if f" {label} " in line]
        assert len(found) == 1, f"no row {label!r} in:\n{result.stdout}"
        return found[0]

    for label, key in (
        ("threads examined", "threads_examined"),
        ("threads deleted", "threads_deleted"),
        ("checkpoints deleted", "checkpoints_deleted"),
        ("writes deleted", "writes_deleted"),
        ("blobs deleted", "blobs_deleted"),
        ("batches", "batches"),
    ):
        assert f" {expected[key]:,} " in row(label), label
    assert human_bytes(expected["bytes_freed"]) in row("bytes freed")
    assert " no " in row("dry run")
    assert "seconds" in result.stdout


def test_dry_run_summary_says_so(sqlite_store: Store) -> None:
    result = saver_cli("cleanup", sqlite_store.url, "--keep-last", "1", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run, nothing deleted" in result.stdout
    assert "checkpoints to delete" in result.stdout


def test_progress_bar_on_a_terminal(sqlite_store: Store) -> None:
    """stderr on a pseudo-terminal: a live bar there, the summary still on stdout."""
    code, drawn, stdout = run_on_terminal(
        "cleanup", sqlite_store.url, "--keep-last", "1", "--batch-size", "1"
    )
    assert code == 0, drawn.decode(errors="replace")
    assert b"threads examined" in drawn and b"checkpoints deleted" in drawn
    assert b"Traceback" not in drawn
    assert "checkpoints deleted" in stdout


def test_batch_size_reaches_the_saver(sqlite_store: Store) -> None:
    report = report_of(
        saver_cli("cleanup", sqlite_store.url, "--keep-last", "2", "--batch-size", "1", "--json")
    )
    over_two = len(CHATS) + 1  # and STALE; WAITING has 2 checkpoints
    assert report["threads_examined"] == over_two
    assert report["batches"] == over_two  # each holds more than one checkpoint: a batch each


def test_python_dash_m_saver(sqlite_store: Store) -> None:
    before = sqlite_store.checkpoints()
    report = report_of(
        saver_cli("cleanup", sqlite_store.url, "--keep-last", "1", "--json", module=True)
    )
    assert report["checkpoints_deleted"] == sum(len(ids) - 1 for ids in before.values())


def test_url_from_saver_url_env(sqlite_store: Store) -> None:
    result = saver_cli("cleanup", "--keep-last", "1", "--json", env={"SAVER_URL": sqlite_store.url})
    assert report_of(result)["checkpoints_deleted"] > 0


def test_namespace_option(sqlite_store: Store) -> None:
    write_history(sqlite_store, namespace="other", threads=("delta",))
    before = sqlite_store.checkpoints("other")
    report = report_of(
        saver_cli("cleanup", sqlite_store.url, "--keep-last", "1", "--dry-run", "--json")
    )
    assert report["threads_examined"] == len(CHATS) + 2  # the empty namespace's only
    report = report_of(
        saver_cli("cleanup", sqlite_store.url, "--namespace", "other", "--keep-last", "1", "--json")
    )
    assert report["threads_examined"] == 1
    assert sqlite_store.checkpoints("other") == {"delta": before["delta"][:1]}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--keep-last", "2", "--max-age", "3y"], ["--max-age", "'3y'", "s, m, h, d or w"]),
        (["--keep-last", "2", "--thread-ttl", "ninety"], ["--thread-ttl", "'ninety'"]),
        (["--keep-last", "0"], ["--keep-last", "at least 1"]),
        (["--keep-last", "two"], ["--keep-last", "'two'"]),
        (["--max-age=-5d"], ["--max-age", "positive"]),
        (["--thread-ttl", "0d"], ["--thread-ttl", "positive"]),
        (["--keep-last", "2", "--batch-size", "0"], ["--batch-size", "at least 1"]),
        ([], ["at least one rule", "--keep-last", "--max-age", "--thread-ttl"]),
    ],
)
def test_bad_values_exit_2_before_anything_is_deleted(
    sqlite_store: Store, args: list[str], says: list[str]
) -> None:
    before = sqlite_store.checkpoints(), sqlite_store.counts()
    result = saver_cli("cleanup", sqlite_store.url, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    for text in says:
        assert text in result.stderr
    assert "Traceback" not in result.stderr
    assert (sqlite_store.checkpoints(), sqlite_store.counts()) == before


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        ("mysql://x", 2, ["'mysql://x'", "sqlite:///", "postgresql://", "postgres://"]),
        ("history.db", 2, ["'history.db'", "sqlite:///"]),
        ("sqlite://history.db", 2, ["'sqlite://history.db'", "sqlite:///"]),
        ("sqlite:///", 2, ["sqlite:///"]),
        ("postgresql://postgres@127.0.0.1:1/postgres", 1, ["cannot connect", "127.0.0.1"]),
        ("postgres://postgres:hunter2@127.0.0.1:1/postgres", 1, ["cannot connect", "***"]),
        ("postgresql://postgres@127.0.0.1:notaport/postgres", 2, ["malformed"]),
    ],
)
def test_bad_urls(url: str, code: int, says: list[str]) -> None:
    result = saver_cli("cleanup", url, "--keep-last", "2")
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    for text in says:
        assert text in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_sqlite_file_exits_1_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = saver_cli("cleanup", f"sqlite:///{missing}", "--keep-last", "2")
    assert result.returncode == 1
    assert "no SQLite database" in result.stderr and str(missing) in result.stderr
    assert not missing.exists()


def test_bad_schema_name_exits_2() -> None:
    result = saver_cli("cleanup", stores.with_schema(server_url(), "no-dash"), "--keep-last", "2")
    assert result.returncode == 2
    assert "schema" in result.stderr and "'no-dash'" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_url_and_no_saver_url() -> None:
    result = saver_cli("cleanup", "--keep-last", "2")
    assert result.returncode == 2
    assert "SAVER_URL" in result.stderr


def test_help_and_no_command() -> None:
    assert saver_cli("cleanup", "--help").returncode == 0
    result = saver_cli()
    assert result.returncode == 2 and "COMMAND" in result.stderr
