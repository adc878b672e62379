"""doctor(): every row read back; what cannot be is reported by thread, namespace and
checkpoint, and with `repair` moved to history_quarantine (orphans deleted), after which
the thread reads and a second check is clean."""

from __future__ import annotations

import base64
import json
from typing import Any

from saver.core.doctor import DAMAGED, DELETED, MISSING_PARENT, ORPHAN, QUARANTINED
from saver.retention.policy import RetentionPolicy
from tests.parity import Transcript
from tests.savers._async.spec_helpers import (
    GARBAGE,
    checkpoint_id,
    config,
    corrupt_json,
    damage,
    execute,
    put_counter_chain,
    put_step,
)
from tests.savers._async.test_deltas import delta_rows, turns
from tests.support import raw_rows


def kinds(report: Any) -> list[tuple[str, str, str, str]]:
    return sorted((f.table, f.thread_id, f.checkpoint_id, f.kind) for f in report.findings)


async def test_a_store_retention_trimmed_is_clean(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "a", 6, with_writes=True)
        await put_counter_chain(cp, "b", 3, checkpoint_ns="sub:1")
        await turns(cp, Transcript(), range(4))  # a chat stored as delta chains
        await cp.acleanup(RetentionPolicy(keep_last=2))
        report = await cp.adoctor()
    assert report.findings == []
    assert report.threads_checked == 3 and report.rows_checked > 0
    assert delta_rows(open_saver) > 0


async def test_a_damaged_checkpoint_and_the_writes_on_it_are_reported(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3, with_writes=True)
    damage(
        open_saver,
        "history_checkpoints",
        "checkpoint",
        GARBAGE,
        "t",
        checkpoint_id=checkpoint_id(2),
    )
    async with open_saver() as cp:
        report = await cp.adoctor()
    assert kinds(report) == [
        ("checkpoint", "t", checkpoint_id(2), DAMAGED),
        ("write", "t", checkpoint_id(2), DAMAGED),
    ]
    assert "compressed with dictionary" in report.findings[0].problem


async def test_unreadable_metadata_is_reported(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2)
    corrupt_json(open_saver, "metadata", "t", checkpoint_id(2))
    async with open_saver() as cp:
        report = await cp.adoctor()
    assert kinds(report) == [("checkpoint", "t", checkpoint_id(2), DAMAGED)]
    assert "metadata" in report.findings[0].problem


async def test_a_blob_with_bytes_after_its_value_is_reported_by_channel_and_version(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2)
    damage(open_saver, "history_blobs", "data", b"\x7b\x7b", "t", channel="count", version="2")
    async with open_saver() as cp:
        report = await cp.adoctor()
    (found,) = [f for f in report.findings if f.table == "blob"]
    assert (found.kind, found.row) == (DAMAGED, "channel 'count' version '2'")
    assert "bytes follow" in found.problem


async def test_a_delta_whose_snapshot_is_gone_is_reported(open_saver: Any) -> None:
    async with open_saver() as cp:
        await turns(cp, Transcript(), range(3))
    (base,) = raw_rows(open_saver, "SELECT base FROM history_blobs WHERE base IS NOT NULL LIMIT 1")[
        0
    ]
    execute(open_saver, "DELETE FROM history_blobs WHERE version = ? AND base IS NULL", (base,))
    async with open_saver() as cp:
        report = await cp.adoctor()
    broken = [f for f in report.findings if f.kind == DAMAGED and f.table == "blob"]
    assert broken and all("snapshot" in f.problem for f in broken)


async def test_a_checkpoint_whose_parent_is_gone_from_the_middle_is_reported(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3)
    execute(
        open_saver,
        "DELETE FROM history_checkpoints WHERE thread_id = 't' AND checkpoint_id = ?",
        (checkpoint_id(2),),
    )
    async with open_saver() as cp:
        report = await cp.adoctor()
    assert kinds(report) == [
        ("blob", "t", "", ORPHAN),  # the value only the gone checkpoint named
        ("checkpoint", "t", checkpoint_id(3), MISSING_PARENT),
    ]


async def test_orphaned_blobs_and_writes_are_reported_and_repair_deletes_them(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2, with_writes=True)
    execute(
        open_saver,
        "DELETE FROM history_checkpoints WHERE thread_id = 't' AND checkpoint_id = ?",
        (checkpoint_id(1),),
    )
    async with open_saver() as cp:
        report = await cp.adoctor(repair=True)
        again = await cp.adoctor()
        kept = await cp.aget_tuple(config("t"))
    assert sorted((f.table, f.kind, f.action) for f in report.findings) == [
        ("blob", ORPHAN, DELETED),
        ("write", ORPHAN, DELETED),
    ]
    assert again.findings == []
    assert kept is not None and kept.config["configurable"]["checkpoint_id"] == checkpoint_id(2)
    assert kept.checkpoint["channel_values"] == {"topic": "topic-of-t", "count": 2}


async def test_repair_moves_damaged_rows_to_quarantine_whole_and_the_thread_reads_again(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3, with_writes=True)
        await put_counter_chain(cp, "fine", 2)
    damage(open_saver, "history_writes", "data", b"\x7b\x7b", "t", checkpoint_id=checkpoint_id(3))
    async with open_saver() as cp:
        report = await cp.adoctor(repair=True)
        again = await cp.adoctor()
        head = await cp.aget_tuple(config("t"))
    assert [(f.table, f.kind, f.action) for f in report.findings] == [
        ("write", DAMAGED, QUARANTINED)
    ]
    assert again.findings == []
    assert head is not None and head.pending_writes == []
    ((source, thread, cid, problem, stored),) = raw_rows(
        open_saver,
        "SELECT source, thread_id, checkpoint_id, problem, stored_row FROM history_quarantine",
    )
    assert (source, thread, cid) == ("write", "t", checkpoint_id(3))
    assert "bytes follow" in problem
    assert base64.b64decode(json.loads(stored)["data"]) == b"\x7b\x7b"


async def test_a_quarantined_checkpoint_leaves_its_children_readable_and_the_check_clean(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3, with_writes=True)
    corrupt_json(open_saver, "metadata", "t", checkpoint_id(2))
    async with open_saver() as cp:
        report = await cp.adoctor(repair=True)
        again = await cp.adoctor()
        head = await cp.aget_tuple(config("t"))
        listed = [t.config["configurable"]["checkpoint_id"] async for t in cp.alist(config("t"))]
    assert {(f.table, f.action) for f in report.findings} == {
        ("checkpoint", QUARANTINED),
        ("write", QUARANTINED),
    }
    assert again.findings == []
    assert head is not None and head.checkpoint["channel_values"]["count"] == 3
    assert listed == [checkpoint_id(3), checkpoint_id(1)]


async def test_doctor_of_one_thread_reads_only_that_thread(open_saver: Any) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 2)
        await put_counter_chain(cp, "damaged", 2)
    corrupt_json(open_saver, "metadata", "damaged", checkpoint_id(2))
    async with open_saver() as cp:
        report = await cp.adoctor(thread_id="t")
    assert report.threads_checked == 1 and report.findings == []


async def test_threads_are_paged_by_batch_size(open_saver: Any) -> None:
    async with open_saver() as cp:
        for n in range(5):
            await put_counter_chain(cp, f"t{n}", 1)
        seen: list[int] = []
        report = await cp.adoctor(batch_size=2, progress=lambda r: seen.append(r.threads_checked))
    assert report.threads_checked == 5 and seen == [1, 2, 3, 4, 5]


async def test_writes_newer_than_every_checkpoint_are_not_orphans(open_saver: Any) -> None:
    """LangGraph puts a step's writes while its checkpoint is still being put."""
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 1)
        ahead = config("t", cid=checkpoint_id(2))
        await cp.aput_writes(ahead, [("count", 2)], "task-2")
        report = await cp.adoctor(repair=True)
        await put_counter_chain(cp, "t", 1, first=2)
        head = await cp.aget_tuple(config("t"))
    assert report.findings == []
    assert head is not None and head.pending_writes == [("task-2", "count", 2)]


async def test_repair_of_a_damaged_blob_takes_the_checkpoints_that_need_it_along(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        await put_counter_chain(cp, "t", 3)
    damage(open_saver, "history_blobs", "data", b"\x7b\x7b", "t", channel="count", version="3")
    async with open_saver() as cp:
        report = await cp.adoctor(repair=True)
        again = await cp.adoctor()
        head = await cp.aget_tuple(config("t"))
    assert sorted((f.table, f.checkpoint_id, f.action) for f in report.findings) == [
        ("blob", "", QUARANTINED),
        ("checkpoint", checkpoint_id(3), QUARANTINED),
    ]
    assert again.findings == []
    assert head is not None and head.checkpoint["channel_values"]["count"] == 2


async def test_a_parent_delete_for_runs_removed_is_listed_but_no_problem(
    open_saver: Any,
) -> None:
    async with open_saver() as cp:
        parent = None
        for n in (1, 2, 3):
            saved = await put_step(
                cp, "t", n, {"count": n}, {"count": n}, parent=parent, metadata={"run_id": f"r{n}"}
            )
            parent = saved["configurable"]["checkpoint_id"]
        await cp.adelete_for_runs(["r2"])
        report = await cp.adoctor()
    assert [f.kind for f in report.findings] == [MISSING_PARENT]
    assert report.problems == []
