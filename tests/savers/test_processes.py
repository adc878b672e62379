"""Several real processes on one real SQLite file: concurrent writers, a writer killed
mid-put, and a setup() race on a brand-new file.

Children run tests/savers/proc_worker.py. They start together through a barrier (each says
`ready` on stdout and waits for `go` on stdin) and report over stdout; nothing here sleeps
to synchronise, and every wait is bounded.
"""

from __future__ import annotations

import hashlib
import json
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from saver import SqliteSaver
from saver.dialects.sqlite import SQLITE
from tests.savers import proc_worker as pw

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("proc_worker.py")
WAIT = 40.0  # seconds: the most any single wait on a child may take before the test fails

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")


class Child:
    """One proc_worker process; a thread moves its stdout lines into a queue so every
    read can time out."""

    def __init__(self, tmp_path: Path, name: str, command: str, args: dict[str, Any]) -> None:
        self.name = name
        self.stderr_path = tmp_path / f"{name}.stderr"
        with self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), command, json.dumps(args)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                bufsize=1,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def describe(self) -> str:
        tail = "\n".join(self.seen[-20:])
        return (
            f"{self.name} (exit {self.proc.poll()}); last stdout lines:\n{tail}\n"
            f"stderr:\n{self.stderr_path.read_text()[-4000:]}"
        )

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no output for {WAIT}s from {self.describe()}")
        if line is None:
            self.lines.put(None)  # stays at end of file for later reads
            self.proc.wait(timeout=WAIT)
            pytest.fail(f"stdout closed early: {self.describe()}")
        self.seen.append(line)
        return line

    def expect(self, prefix: str) -> str:
        """The next line starting with `prefix`, skipping others."""
        while not (line := self.next_line()).startswith(prefix):
            pass
        return line

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self) -> dict[str, Any]:
        """Wait for the child's result line and its exit."""
        result = json.loads(self.expect("result ").removeprefix("result "))
        result["exit"] = self.proc.wait(timeout=WAIT)
        return result

    def sigkill(self) -> list[str]:
        """Kill the child; returns what it printed that was not read yet."""
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=WAIT) == -signal.SIGKILL
        rest = []
        while (line := self.lines.get(timeout=WAIT)) is not None:
            rest.append(line)
        self.lines.put(None)
        return rest


def finish_all(children: list[Child]) -> list[dict[str, Any]]:
    """Every child's result; fails, naming every exception caught in any of them, unless
    all exited 0 and caught none."""
    results = [child.finish() for child in children]
    caught = {
        child.name: Counter(result["errors"])
        for child, result in zip(children, results, strict=True)
        if result["errors"]
    }
    assert not caught, f"exceptions caught in children: {json.dumps(caught, indent=1)}"
    for child, result in zip(children, results, strict=True):
        assert result["exit"] == 0, child.describe()
    return results


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """`spawn(command, **args)` starts a child; any still running at teardown is killed."""
    started: list[Child] = []

    def start(command: str, **args: Any) -> Child:
        child = Child(tmp_path, f"{command}-{len(started)}", command, args)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait(timeout=WAIT)
        child.pump.join(timeout=WAIT)  # it reads stdout up to the end before we close it
        for stream in (child.proc.stdin, child.proc.stdout):
            if stream is not None:
                stream.close()


def release_together(children: list[Child]) -> None:
    """Wait until every child is ready, then let them all go at once."""
    for child in children:
        child.expect("ready")
    for child in children:
        child.send("go")


def kind(worker: int) -> str:
    """Alternate the sync and the async saver between processes."""
    return "sync" if worker % 2 == 0 else "async"


def prepared_file(tmp_path: Path) -> str:
    path = str(tmp_path / "history.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
    return path


def test_concurrent_graph_processes_never_see_locked_and_lose_nothing(
    tmp_path: Path, spawn: Callable[..., Child]
) -> None:
    workers, threads, invokes = 4, 3, 8
    path = prepared_file(tmp_path)
    children = [
        spawn("graph", path=path, worker=w, threads=threads, invokes=invokes, kind=kind(w))
        for w in range(workers)
    ]
    release_together(children)
    for result in finish_all(children):
        assert result["invokes"] == threads * invokes

    # What the same invokes leave behind in LangGraph's own in-memory saver.
    reference = pw.build_graph(InMemorySaver())
    ref_config = pw.config_of("reference")
    for i in range(invokes):
        reference.invoke({"items": [pw.graph_input(0, 0, i)]}, ref_config)
    ref_steps = [c.metadata["step"] for c in reference.checkpointer.list(ref_config)]
    assert len(ref_steps) == 3 * invokes  # input, START, echo: three checkpoints per invoke

    with SqliteSaver.from_conn_string(path) as saver:
        graph = pw.build_graph(saver)
        for w in range(workers):
            for t in range(threads):
                config = pw.config_of(pw.graph_thread_id(w, t))
                expected = pw.expected_items(w, t, invokes)
                listed = list(saver.list(config))
                assert [c.metadata["step"] for c in listed] == ref_steps, (w, t)
                assert listed[0].checkpoint["channel_values"]["items"] == expected
                assert graph.get_state(config).values == {"items": expected}
        total = sum(1 for _ in saver.list(None))
    assert total == workers * threads * len(ref_steps)

    # The barrier worked: every process was still writing when the last one began.
    with sqlite3.connect(path) as db:
        spans = db.execute(
            "SELECT substr(thread_id, 1, instr(thread_id, '-')), min(created_at), "
            "max(created_at) FROM history_checkpoints GROUP BY 1"
        ).fetchall()
    db.close()
    assert len(spans) == workers
    assert max(first for _, first, _ in spans) < min(last for _, _, last in spans)


def test_processes_writing_one_thread_in_turn_lose_nothing(
    tmp_path: Path, spawn: Callable[..., Child]
) -> None:
    workers, puts, thread = 4, 15, "shared"
    path = prepared_file(tmp_path)
    children = [
        spawn("same_thread", path=path, worker=w, thread=thread, puts=puts, kind=kind(w))
        for w in range(workers)
    ]
    release_together(children)
    written = {w: result["written"] for w, result in enumerate(finish_all(children))}
    assert all(len(ids) == puts for ids in written.values())
    every_id = {cid for ids in written.values() for cid in ids}
    assert len(every_id) == workers * puts

    config = pw.config_of(thread)
    with SqliteSaver.from_conn_string(path) as saver:
        listed = list(saver.list(config))
        assert len(listed) == sum(len(ids) for ids in written.values())
        assert {c.config["configurable"]["checkpoint_id"] for c in listed} == every_id
        # Writers that read the same latest fork the thread; every parent is still there.
        parents = [c.parent_config for c in listed]
        assert None in parents
        for parent in filter(None, parents):
            assert parent["configurable"]["checkpoint_id"] in every_id
        entries = set()
        for w, ids in written.items():
            for i, cid in enumerate(ids):
                loaded = saver.get_tuple(
                    {"configurable": {**config["configurable"], "checkpoint_id": cid}}
                )
                assert loaded is not None, cid
                assert loaded.checkpoint["id"] == cid
                assert loaded.metadata["writer"] == w and loaded.metadata["step"] == i
                assert loaded.checkpoint["channel_values"] == {"entry": f"w{w}-{i}"}
                entries.add(loaded.checkpoint["channel_values"]["entry"])
    assert len(entries) == workers * puts


MISSING_BLOBS = """
    SELECT c.checkpoint_id, j.key, j.value
    FROM history_checkpoints c, json_each(c.blob_versions) j
    WHERE NOT EXISTS (
        SELECT 1 FROM history_blobs b
        WHERE b.thread_id = c.thread_id AND b.namespace = c.namespace
          AND b.checkpoint_ns = c.checkpoint_ns AND b.channel = j.key AND b.version = j.value
    )
"""


def check_after_crash(path: str, thread: str, at_least: int, at_most: int) -> int:
    """Everything a killed big-put writer left must be whole; returns the checkpoint count."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute(MISSING_BLOBS).fetchall() == []
    db.close()
    config = pw.config_of(thread)
    with SqliteSaver.from_conn_string(path) as saver:
        listed = list(saver.list(config))
        count = len(listed)
        assert at_least <= count <= at_most
        assert [c.metadata["step"] for c in listed] == list(range(count))[::-1]
        for listed_tuple in listed:
            step = listed_tuple.metadata["step"]
            assert listed_tuple.checkpoint["channel_values"] == pw.big_expected(step), step
            loaded = saver.get_tuple(listed_tuple.config)
            assert loaded is not None, step
            assert set(loaded.checkpoint["channel_versions"]) == set(pw.big_expected(step))
            assert loaded.checkpoint["channel_values"] == pw.big_expected(step), step
        if count:
            latest = saver.get_tuple(config)
            assert latest is not None and latest.metadata["step"] == count - 1
    return count


def wal_digest(path: str) -> str:
    return hashlib.sha256(Path(path + "-wal").read_bytes()).hexdigest()


# (puts the round lets finish, where its next put is when SIGKILL arrives). A `pause`
# stops the child as that statement of the put starts, inside its transaction, so the
# kill lands there exactly; a `race` kills a running child as soon as the named event is
# announced, wherever the put has got to by then.
KILL_MOMENTS = [
    (2, ("pause", "blob", 1)),  # one 2 MB value inserted, the second not yet
    (1, ("pause", "checkpoint", 0)),  # every value inserted, the checkpoint row not
    (1, ("pause", "commit", 0)),  # the whole put done but for COMMIT
    (2, ("race", "blob", 0)),  # while the first value is being inserted, or later
    (2, ("race", "wrote", 0)),  # as soon as a put returned: the next is starting
]


def test_sigkill_mid_put_leaves_only_whole_checkpoints(
    tmp_path: Path, spawn: Callable[..., Child]
) -> None:
    path, thread = prepared_file(tmp_path), "big"
    reported = 0
    for finished, (how, name, k) in KILL_MOMENTS:
        start = reported  # every earlier checkpoint survived, so the child resumes here
        target = start + finished  # the step whose put is cut short
        # A paused put also stops before its BEGIN, so we can see it write to the WAL.
        pauses = [[target, "begin", 0], [target, name, k]] if how == "pause" else []
        child = spawn("big_puts", path=path, thread=thread, steps=finished + 3, pauses=pauses)
        assert child.expect("start ") == f"start {start}"
        wrote, before_put = 0, None
        while True:
            line = child.next_line()
            if line.startswith("wrote "):
                assert line == f"wrote {start + wrote}"
                wrote += 1
            if line == "paused" and before_put is None:
                assert child.seen[-2] == f"event {target} begin 0"
                before_put = wal_digest(path)
                child.send("continue")
            elif line == "paused":
                assert child.seen[-2] == f"event {target} {name} {k}"
                # The cut-short put has already written uncommitted pages to the WAL.
                assert wal_digest(path) != before_put
                break
            if how == "race" and (
                line == f"event {target} {name} {k}" or (name == "wrote" and wrote == finished)
            ):
                break
        # A raced child may have finished more puts before the signal landed.
        wrote += sum(line.startswith("wrote ") for line in child.sigkill())
        assert wrote == finished if how == "pause" else wrote >= finished
        reported += wrote
        # Whatever was reported is there. A put stopped before COMMIT is not; the put a
        # raced child was in when killed may have committed.
        at_most = reported if how == "pause" else reported + 1
        reported = check_after_crash(path, thread, reported, at_most)


def test_setup_from_many_processes_at_once_on_a_new_file(
    tmp_path: Path, spawn: Callable[..., Child]
) -> None:
    # The same six processes race on a new file `rounds` times: a race lost in about one
    # round in 25 (on 2 cores) still shows up in nearly every run.
    workers, rounds = 6, 80
    paths = [str(tmp_path / f"fresh-{n}.sqlite") for n in range(rounds)]
    children = [spawn("setup", paths=paths, kind=kind(w)) for w in range(workers)]
    for path in paths:
        assert not Path(path).exists()
        release_together(children)
    finish_all(children)

    versions = [(v,) for v, _ in SQLITE.MIGRATIONS]
    for path in paths:
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert db.execute("SELECT version FROM history_migrations").fetchall() == versions
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            assert {"history_checkpoints", "history_blobs", "history_writes"} <= tables
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.close()
        with SqliteSaver.from_conn_string(path) as saver:
            graph = pw.build_graph(saver)
            graph.invoke({"items": ["x"]}, pw.config_of("after-setup"))
            assert len(list(saver.list(None))) == 3
