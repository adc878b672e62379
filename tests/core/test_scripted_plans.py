"""Plans driven by hand, no database: each statement a plan yields is checked against the
dialect's own statement, and the rows a database would return are scripted back into it.

The scripted rows are built from what the write plans themselves yield: a put's checkpoint
and blob rows (the columns of rows.CheckpointRow / BlobRow, the order every INSERT lists
them in) and put_writes' rows (rows.WriteRow), turned into the union rows a page select
returns (the shapes documented at rows.UnionRow). The SQL text is never compared, only
which of the dialect's statements was asked for, so these tests hold while it is rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from langgraph.checkpoint.base import Checkpoint, CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from saver.core import plans
from saver.core.rows import BlobRow, CheckpointRow, UnionRow, WriteRow
from saver.dialects.base import Stmt
from saver.dialects.sqlite import SQLITE
from saver.retention import job
from saver.retention.policy import Cutoffs

D = SQLITE
CTX = plans.Context(D, JsonPlusSerializer(), "")
THREAD = "t"
NOW = 1_700_000_000.0
DAY = 86400.0


def cid(n: int) -> str:
    """A uuid6-shaped checkpoint id that sorts by `n`."""
    return f"1f000000-0000-6000-8000-{n:012d}"


def conf(thread_id: str = THREAD, checkpoint_id: str | None = None, ns: str = "") -> Any:
    c: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        c["checkpoint_id"] = checkpoint_id
    return {"configurable": c}


def checkpoint(n: int, values: dict[str, Any], versions: dict[str, str]) -> Checkpoint:
    cp = empty_checkpoint()
    cp["id"] = cid(n)
    cp["channel_values"] = values
    cp["channel_versions"] = versions
    return cp


# --- driving a plan ---------------------------------------------------------------------------


class Run:
    """A plan driven to its end: what it yielded, and its answer."""

    def __init__(self, plan: plans.Plan[Any], replies: Sequence[plans.Rows] = ()) -> None:
        """`replies`: the rows for each statement that fetches, in order; a statement that
        fetches nothing, or runs `many` (executemany), gets [] as an executor sends it."""
        self.statements: list[Stmt] = []
        queue = list(replies)
        try:
            stmt = next(plan)
            while True:
                self.statements.append(stmt)
                rows = queue.pop(0) if stmt.fetch and not stmt.many else []
                stmt = plan.send(rows)
        except StopIteration as done:
            self.answer = done.value
        assert not queue, f"{len(queue)} scripted replies left unread"

    @property
    def sql(self) -> list[str]:
        return [s.sql for s in self.statements]


def put(
    n: int,
    values: dict[str, Any],
    versions: dict[str, str],
    new: dict[str, str] | None = None,
    *,
    parent: int | None = None,
    ns: str = "",
    metadata: dict[str, Any] | None = None,
    thread_id: str = THREAD,
) -> Run:
    config = conf(thread_id, cid(parent) if parent else None, ns)
    meta = metadata if metadata is not None else {"source": "loop", "step": n}
    changed = dict(versions if new is None else new)
    return Run(plans.put(CTX, config, checkpoint(n, values, versions), meta, changed))


def stored(run: Run) -> tuple[CheckpointRow, list[BlobRow]]:
    """The checkpoint row and blob rows a put plan wrote."""
    (row,) = [s.params for s in run.statements if s.sql == D.UPSERT_CHECKPOINT]
    blobs = [r for s in run.statements if s.sql == D.INSERT_BLOB for r in s.params]
    return row, blobs


def written(run: Run) -> list[WriteRow]:
    return [
        r for s in run.statements if s.sql in (D.UPSERT_WRITE, D.INSERT_WRITE) for r in s.params
    ]


# --- what a page select returns: the union row shapes of rows.UnionRow ------------------------


def c_union(row: CheckpointRow) -> tuple[Any, ...]:
    tid, _, ns, checkpoint_id, parent, type_, data, blob_versions, metadata, _, created = row
    return ("c", tid, ns, checkpoint_id, parent, "1", created, type_, data, metadata, blob_versions)


def b_union(row: BlobRow) -> tuple[Any, ...]:
    tid, _, ns, channel, version, fmt, type_, data, base = row
    return ("b", tid, ns, channel, version, base, fmt, type_, data, None, None)


def w_union(row: WriteRow) -> tuple[Any, ...]:
    tid, _, ns, checkpoint_id, task_id, idx, task_path, channel, type_, data = row
    return ("w", tid, ns, checkpoint_id, task_id, task_path, idx, type_, data, channel, None)


class Tables:
    """What the write plans of `runs` stored, keyed as the tables key them (a blob's first
    row kept, as INSERT ... ON CONFLICT DO NOTHING keeps it)."""

    def __init__(self, *runs: Run) -> None:
        self.checkpoints: dict[tuple[str, str, str], CheckpointRow] = {}
        self.blobs: dict[tuple[str, str, str, str], BlobRow] = {}
        self.writes: list[WriteRow] = []
        for run in runs:
            for s in run.statements:
                if s.sql == D.UPSERT_CHECKPOINT:
                    self.checkpoints[(s.params[0], s.params[2], s.params[3])] = s.params
                elif s.sql == D.INSERT_BLOB:
                    for b in s.params:
                        self.blobs.setdefault((b[0], b[2], b[3], b[4]), b)
                elif s.sql in (D.UPSERT_WRITE, D.INSERT_WRITE):
                    self.writes.extend(s.params)

    def page(self, *numbers: int, thread_id: str = THREAD, ns: str = "") -> list[UnionRow]:
        """The rows a page select returns for these checkpoints: each one's row, each blob
        one of them names (once, however many name it), and their writes."""
        heads = [self.checkpoints[(thread_id, ns, cid(n))] for n in numbers]
        named = {(r[0], r[2], ch, v) for r in heads for ch, v in json.loads(r[7]).items()}
        keys = {(r[0], r[2], r[3]) for r in heads}
        return (
            [c_union(r) for r in heads]
            + [b_union(b) for key, b in self.blobs.items() if key in named]
            + [w_union(w) for w in self.writes if (w[0], w[2], w[3]) in keys]
        )


def chain(count: int) -> Tables:
    """The tables after puts of checkpoints 1..count, each the parent of the next: `step`
    changes every time, `topic` only at 1 (so later checkpoints read 1's blob of it)."""
    runs = []
    for n in range(1, count + 1):
        new = {"step": str(n), **({"topic": "1"} if n == 1 else {})}
        versions = {"topic": "1", "step": str(n)}
        runs.append(put(n, {"topic": "weather", "step": n}, versions, new, parent=n - 1 or None))
    return Tables(*runs)


# --- put -----------------------------------------------------------------------------------


def test_a_root_put_writes_blobs_then_the_thread_row_then_the_checkpoint() -> None:
    run = put(1, {"a": 1, "b": "x"}, {"a": "1", "b": "1"})
    assert run.sql == [D.INSERT_BLOB, D.UPSERT_THREAD, D.UPSERT_CHECKPOINT]
    assert [s.many for s in run.statements] == [True, False, False]
    assert [s.last for s in run.statements] == [False, False, True]
    assert not any(s.fetch for s in run.statements[1:])


def test_put_answers_the_config_of_the_checkpoint_it_stored() -> None:
    assert put(2, {"a": 1}, {"a": "2"}, parent=1).answer == conf(THREAD, cid(2))


def test_put_of_a_subgraph_checkpoint_leaves_the_thread_row_to_the_root() -> None:
    run = put(1, {"a": 1}, {"a": "1"}, ns="child:1")
    assert run.sql == [D.INSERT_BLOB, D.UPSERT_CHECKPOINT]
    assert run.answer == conf(THREAD, cid(1), "child:1")


def test_put_without_new_versions_writes_no_blob() -> None:
    run = put(2, {"a": 1}, {"a": "1"}, {}, parent=1)
    assert run.sql == [D.UPSERT_THREAD, D.UPSERT_CHECKPOINT]


def test_put_writes_a_blob_for_each_changed_channel_only() -> None:
    run = put(2, {"a": 1, "b": 2}, {"a": "1", "b": "2"}, {"b": "2"}, parent=1)
    _, blobs = stored(run)
    assert [(b[3], b[4]) for b in blobs] == [("b", "2")]


def test_put_stores_the_parent_from_the_config_and_the_metadata_as_json() -> None:
    row, _ = stored(put(2, {"a": 1}, {"a": "2"}, parent=1, metadata={"source": "loop"}))
    assert (row[0], row[2], row[3], row[4]) == (THREAD, "", cid(2), cid(1))
    assert json.loads(row[8]) == {"source": "loop"}
    assert json.loads(row[7]) == {"a": "2"}


def test_the_thread_row_of_a_put_follows_the_checkpoint_it_writes() -> None:
    run = put(2, {"a": 1}, {"a": "2"}, parent=1, metadata={"step": 2})
    row, _ = stored(run)
    (thread,) = [s.params for s in run.statements if s.sql == D.UPSERT_THREAD]
    assert thread == (row[10], row[10], row[8], "idle", THREAD, "", cid(2))


# --- get_tuple ---------------------------------------------------------------------------------


def test_get_tuple_of_the_latest_reads_one_page_of_one() -> None:
    run = Run(plans.get_tuple(CTX, conf()), [[]])
    where, params = D.list_where("", THREAD, "", None, None, [], None)
    assert run.sql == [D.select_page(where, one=True)]
    assert run.statements[0].params == tuple(params)


def test_get_tuple_of_a_checkpoint_id_asks_for_that_checkpoint() -> None:
    run = Run(plans.get_tuple(CTX, conf(THREAD, cid(3))), [[]])
    where, params = D.list_where("", THREAD, "", cid(3), None, [], None)
    assert run.sql == [D.select_page(where, one=True)]
    assert run.statements[0].params == tuple(params)


def test_get_tuple_of_a_checkpoint_not_found_answers_none() -> None:
    assert Run(plans.get_tuple(CTX, conf()), [[]]).answer is None


def test_get_tuple_answers_the_checkpoint_its_rows_hold() -> None:
    found = Run(plans.get_tuple(CTX, conf()), [chain(2).page(2)]).answer
    assert isinstance(found, CheckpointTuple)
    assert found.config == conf(THREAD, cid(2))
    assert found.checkpoint["id"] == cid(2)
    assert found.checkpoint["channel_values"] == {"topic": "weather", "step": 2}
    assert found.checkpoint["channel_versions"] == {"topic": "1", "step": "2"}
    assert found.metadata == {"source": "loop", "step": 2}
    assert found.parent_config == conf(THREAD, cid(1))
    assert found.pending_writes == []


def test_get_tuple_of_a_first_checkpoint_has_no_parent_config() -> None:
    found = Run(plans.get_tuple(CTX, conf()), [chain(1).page(1)]).answer
    assert found is not None and found.parent_config is None


def test_get_tuple_answers_the_pending_writes_put_writes_stored_in_write_order() -> None:
    pending = [("step", 5), ("topic", "x")]
    tables = Tables(put(1, {"step": 1}, {"step": "1"}))
    tables.writes += written(Run(plans.put_writes(CTX, conf(THREAD, cid(1)), pending, "k", "")))
    found = Run(plans.get_tuple(CTX, conf()), [tables.page(1)]).answer
    assert found is not None
    assert found.pending_writes == [("k", "step", 5), ("k", "topic", "x")]


# --- list ---------------------------------------------------------------------------------


def test_a_list_page_asks_for_the_page_statement_with_its_size_last() -> None:
    query = plans.ListQuery.of(CTX, conf(), None, None, 3)
    run = Run(query.next_page(), [[]])
    where, params = D.list_where("", THREAD, "", None, None, [], None)
    assert run.sql == [D.select_page(where)]
    assert run.statements[0].params == (*params, 3)


def test_a_list_page_answers_its_checkpoints_newest_first() -> None:
    query = plans.ListQuery.of(CTX, conf(), None, None, None)
    page = Run(query.next_page(), [chain(3).page(1, 3, 2)]).answer
    assert [t.config["configurable"]["checkpoint_id"] for t in page] == [cid(3), cid(2), cid(1)]
    assert [t.checkpoint["channel_values"]["step"] for t in page] == [3, 2, 1]
    assert all(t.checkpoint["channel_values"]["topic"] == "weather" for t in page)


def test_a_list_page_shorter_than_asked_ends_the_list() -> None:
    query = plans.ListQuery.of(CTX, conf(), None, None, None)
    Run(query.next_page(), [chain(2).page(2, 1)])
    assert Run(query.next_page()).statements == []
    assert Run(query.next_page()).answer == []


def test_a_full_list_page_reads_on_after_its_last_checkpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plans, "PAGE_SIZE", 2)
    tables = chain(3)
    query = plans.ListQuery.of(CTX, conf(), None, None, None)
    Run(query.next_page(), [tables.page(3, 2)])
    run = Run(query.next_page(), [tables.page(1)])
    where, params = D.list_where("", THREAD, "", None, None, [], (cid(2), "", THREAD))
    assert run.sql == [D.select_page(where)]
    assert run.statements[0].params == (*params, 2)
    assert [t.config["configurable"]["checkpoint_id"] for t in run.answer] == [cid(1)]


def test_a_list_limit_asks_for_no_more_than_is_left() -> None:
    query = plans.ListQuery.of(CTX, conf(), None, None, 2)
    Run(query.next_page(), [chain(3).page(3, 2)])
    assert Run(query.next_page()).statements == []


# --- put_writes ------------------------------------------------------------------------------


def test_put_writes_of_regular_writes_inserts_them_keeping_any_first_stored() -> None:
    run = Run(plans.put_writes(CTX, conf(THREAD, cid(1)), [("a", 1), ("b", 2)], "task", ""))
    assert run.sql == [D.INSERT_WRITE]
    assert run.statements[0].many
    assert [(r[4], r[5], r[7]) for r in run.statements[0].params] == [
        ("task", 0, "a"),
        ("task", 1, "b"),
    ]
    assert run.answer is None


def test_put_writes_of_special_writes_replaces_them_before_inserting_the_rest() -> None:
    pending = [("a", 1), ("__interrupt__", "stop"), ("__error__", "boom")]
    run = Run(plans.put_writes(CTX, conf(THREAD, cid(1)), pending, "task", "path"))
    assert run.sql == [D.SET_HEAD_STATUS, D.UPSERT_WRITE, D.INSERT_WRITE]
    upserted = run.statements[1].params
    assert sorted(r[7] for r in upserted) == ["__error__", "__interrupt__"]
    assert all(r[5] < 0 for r in upserted)  # special writes have fixed negative indexes
    assert all(r[6] == "path" for r in written(run))


def test_an_error_or_interrupt_on_a_root_checkpoint_sets_its_thread_s_status() -> None:
    for pending, status in (
        ([("__interrupt__", "stop")], "interrupted"),
        ([("__error__", "x")], "error"),
    ):
        run = Run(plans.put_writes(CTX, conf(THREAD, cid(1)), pending, "task", ""))
        assert run.statements[0].params == (status, THREAD, "", cid(1))
    run = Run(plans.put_writes(CTX, conf(THREAD, cid(1), "child:1"), pending, "task", ""))
    assert D.SET_HEAD_STATUS not in run.sql  # a subgraph's: the parent's task writes its own


def test_put_writes_keys_each_row_by_the_checkpoint_of_the_config() -> None:
    run = Run(plans.put_writes(CTX, conf(THREAD, cid(7), "child:1"), [("a", 1)], "k", ""))
    assert [r[:4] for r in written(run)] == [(THREAD, "", "child:1", cid(7))]


# --- cleanup (retention/job.py) ------------------------------------------------------------------


def stats(tid: str, count: int, oldest: float, newest: float, widest: int) -> tuple[Any, ...]:
    """A row of SELECT_THREADS_STATS: thread, checkpoints, oldest and newest created_at, the
    most checkpoints of one checkpoint_ns."""
    return (tid, count, oldest, newest, widest)


def test_cleanup_candidates_read_one_page_of_thread_stats() -> None:
    run = Run(job.candidates(CTX, Cutoffs(2, None), "", 100), [[]])
    assert run.sql == [D.SELECT_THREADS_STATS]
    assert run.statements[0].params == ("", "", "", 100, "")
    assert run.answer == ([], None)


def test_cleanup_candidates_are_the_threads_the_policy_may_touch() -> None:
    found = [stats("a", 5, NOW, NOW, 5), stats("b", 2, NOW, NOW, 2), stats("c", 3, NOW, NOW, 3)]
    picked, after = Run(job.candidates(CTX, Cutoffs(2, None), "", 100), [found]).answer
    assert picked == [job.Candidate("a", 5), job.Candidate("c", 3)]
    assert after is None


def test_a_full_page_of_cleanup_candidates_says_where_the_next_page_starts() -> None:
    found = [stats("a", 5, NOW, NOW, 5), stats("b", 2, NOW, NOW, 2)]
    _, after = Run(job.candidates(CTX, Cutoffs(2, None), "", 2), [found]).answer
    assert after == "b"


def test_cleanup_of_one_thread_reads_its_stats_alone() -> None:
    run = Run(job.candidates(CTX, Cutoffs(2, None), "", 100, "a"), [[]])
    assert run.sql == [D.SELECT_THREAD_STATS]
    assert run.statements[0].params == ("a", "")


def test_a_keep_last_sweep_trims_each_thread_below_its_oldest_kept_checkpoint() -> None:
    bounds = [("a", "", cid(3), NOW, 0, 0)]  # thread, ns, oldest kept, newest, unreadable, deltas
    run = Run(
        job.sweep(CTX, Cutoffs(2, None), ["a"], dry_run=False),
        [bounds, [(2, 1)], [(10,), (20,)]],  # the keep bounds; counted below; blobs freed
    )
    assert run.sql == [
        D.SELECT_KEEP_BOUNDS_OF,
        D.COUNT_BELOW,
        D.DELETE_WRITES_BELOW,
        D.DELETE_CHECKPOINTS_BELOW,
        *D.REFRESH_THREADS_OF,
        D.DELETE_UNNAMED_BLOBS_OF,
    ]
    assert run.statements[2].params == [("a", "", "", cid(3))]
    report = run.answer
    assert (report.threads_examined, report.checkpoints_deleted, report.writes_deleted) == (1, 2, 1)
    assert (report.blobs_deleted, report.bytes_freed, report.batches) == (2, 30, 1)


def graph_row(
    tid: str, n: int, parent: int | None, versions: dict[str, str], created: float
) -> tuple[Any, ...]:
    """A row of SELECT_GRAPHS_OF: thread, ns, id, parent, blob_versions, created_at,
    metadata readable, a subgraph's root checkpoint, DeltaChannel counters."""
    parent_id = cid(parent) if parent else None
    return (tid, "", cid(n), parent_id, json.dumps(versions), created, "1", None, None)


def old_thread() -> list[plans.Rows]:
    """Replies for a judged sweep of thread "a": checkpoints 1..3 of channel `step`, two of
    them 10 days old, each with its own blob and one write."""
    blobs = [("a", "", "step", str(n), 100 * n, None) for n in (1, 2, 3)]
    graph = [
        graph_row("a", 1, None, {"step": "1"}, NOW - 10 * DAY),
        graph_row("a", 2, 1, {"step": "2"}, NOW - 10 * DAY),
        graph_row("a", 3, 2, {"step": "3"}, NOW),
    ]
    write_stats = [("a", "", cid(n), 1, 0) for n in (1, 2, 3)]
    return [blobs, graph, write_stats]


def test_a_dry_run_sweep_reads_and_judges_but_deletes_nothing() -> None:
    run = Run(job.sweep(CTX, Cutoffs(None, NOW - DAY), ["a"], dry_run=True), old_thread())
    assert run.sql == [D.SELECT_BLOB_SIZES_OF, D.SELECT_GRAPHS_OF, D.SELECT_WRITE_STATS_OF]
    report = run.answer
    assert report.dry_run
    assert (report.checkpoints_deleted, report.writes_deleted) == (2, 2)
    assert (report.blobs_deleted, report.bytes_freed) == (2, 300)


def test_a_max_age_sweep_deletes_old_checkpoints_by_key_and_blobs_only_they_used() -> None:
    run = Run(job.sweep(CTX, Cutoffs(None, NOW - DAY), ["a"], dry_run=False), old_thread())
    assert run.sql == [
        D.SELECT_BLOB_SIZES_OF,
        D.SELECT_GRAPHS_OF,
        D.SELECT_WRITE_STATS_OF,
        D.DELETE_WRITES_BY,
        D.DELETE_CHECKPOINTS_BY,
        *D.REFRESH_THREADS_OF,
        D.DELETE_BLOBS_BY,
    ]
    by_sql = {s.sql: s.params for s in run.statements}
    assert sorted(by_sql[D.DELETE_CHECKPOINTS_BY]) == [("a", "", "", cid(1)), ("a", "", "", cid(2))]
    assert sorted(by_sql[D.DELETE_BLOBS_BY]) == [
        ("a", "", "", "step", "1"),
        ("a", "", "", "step", "2"),
    ]
    assert run.answer.checkpoints_deleted == 2
