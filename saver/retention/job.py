"""The cleanup job as plans: find the threads a policy touches, then delete in short
batched transactions, each thread re-read inside the transaction that deletes from it."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

from saver.core import lineage
from saver.core.plans import Context, Plan
from saver.dialects.base import Stmt
from saver.errors import CorruptRowError
from saver.retention.policy import Cutoffs, judge


@dataclass
class CleanupReport:
    """What a cleanup deleted (or, with dry_run, would delete)."""

    dry_run: bool = False
    threads_examined: int = 0
    threads_deleted: int = 0
    checkpoints_deleted: int = 0
    writes_deleted: int = 0
    blobs_deleted: int = 0
    bytes_freed: int = 0
    batches: int = 0
    seconds: float = 0.0
    thread_ids: list[str] = field(default_factory=list, repr=False)
    # Threads left as they are because a row of theirs could not be read (`saver doctor`
    # finds and quarantines it): {thread_id, checkpoint_ns, checkpoint_id, problem} each.
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add(self, other: CleanupReport) -> None:
        self.thread_ids.extend(other.thread_ids)
        self.skipped.extend(other.skipped)
        for name in (
            "threads_examined",
            "threads_deleted",
            "checkpoints_deleted",
            "writes_deleted",
            "blobs_deleted",
            "bytes_freed",
            "batches",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("thread_ids")
        return out

    def skip(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, problem: str) -> None:
        self.skipped.append(
            {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint_id,
                "problem": problem,
            }
        )

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        skipped = f", skipped {len(self.skipped)} damaged threads" if self.skipped else ""
        return (
            f"cleanup {verb} {self.threads_deleted} threads, {self.checkpoints_deleted} "
            f"checkpoints, {self.writes_deleted} writes, {self.blobs_deleted} blobs "
            f"({self.bytes_freed} bytes) of {self.threads_examined} threads examined{skipped}, "
            f"in {self.batches} batches, {self.seconds:.2f}s"
        )


@dataclass(frozen=True)
class Candidate:
    thread_id: str
    checkpoints: int


def candidates(
    ctx: Context, c: Cutoffs, after: str | None, page_size: int, thread_id: str | None = None
) -> Plan[tuple[list[Candidate], str | None]]:
    """One keyset page of threads: those the policy may touch, and where the next page starts
    (None at the end)."""
    d = ctx.dialect
    if thread_id is not None:
        found = yield Stmt(d.SELECT_THREAD_STATS, (thread_id, ctx.namespace))
    else:
        page = (after or "", ctx.namespace, ctx.namespace, page_size, ctx.namespace)
        found = yield Stmt(d.SELECT_THREADS_STATS, page, jit_off=True)
    picked = [
        Candidate(tid, int(count))
        for tid, count, oldest, newest, widest in found
        if (c.keep_last is not None and int(widest) > c.keep_last)
        or (c.older_than is not None and float(oldest) < c.older_than)
        or (c.idle_before is not None and float(newest) < c.idle_before)
    ]
    more = thread_id is None and len(found) == page_size
    return picked, (found[-1][0] if more else None)


def sweep(
    ctx: Context, c: Cutoffs, thread_ids: Sequence[str], dry_run: bool
) -> Plan[CleanupReport]:
    """Apply the policy to a batch of threads in one transaction, with the same few
    statements whatever its size."""
    d, namespace = ctx.dialect, ctx.namespace
    tids = sorted(thread_ids)
    if d.LOCK_THREADS:  # two collectors of a thread take turns
        # jit_off on the first statement: for the whole transaction, a dry run's too (whose
        # reads a plan made on early statistics estimates at 10^5 rows: 30 ms of compiling)
        yield Stmt(d.LOCK_THREADS, (namespace, d.array(tids)), jit_off=True)
    report = CleanupReport(dry_run=dry_run, batches=1)
    if not dry_run and c.keep_last is not None and c.older_than is None:
        tids = yield from _trim_by_range(ctx, c.keep_last, c.idle_before, tids, report)
    if tids:
        yield from _judge_each(ctx, c, tids, dry_run, report)
    return report


class KeepBound(NamedTuple):
    """A row of SELECT_KEEP_BOUNDS_OF: one thread's checkpoint namespace under keep_last."""

    thread_id: str
    checkpoint_ns: str
    oldest_kept: str
    newest_at: float
    unreadable: int  # kept checkpoints whose blob_versions or metadata is not an object
    with_deltas: int  # kept checkpoints with DeltaChannel counters


def _trim_by_range(
    ctx: Context, keep_last: int, idle_before: float | None, tids: list[str], report: CleanupReport
) -> Plan[list[str]]:
    """keep_last alone, on threads with one checkpoint namespace and no DeltaChannel among
    the kept: everything below the oldest kept checkpoint goes by range, then the blobs no
    remaining checkpoint names. No dropped row is read. Returns the threads to judge row by
    row (several namespaces, DeltaChannels, unreadable kept rows, idle)."""
    d, namespace = ctx.dialect, ctx.namespace
    found = yield Stmt(
        d.SELECT_KEEP_BOUNDS_OF, (namespace, d.array(tids), namespace, keep_last - 1, namespace)
    )
    per_thread: dict[str, list[KeepBound]] = defaultdict(list)
    for bound in map(KeepBound._make, found):
        per_thread[bound.thread_id].append(bound)
    rest: list[str] = []
    bounds: list[tuple[str, str, str]] = []
    for tid in tids:
        if not per_thread[tid]:
            continue  # deleted meanwhile: nothing to examine
        if len(per_thread[tid]) > 1:
            rest.append(tid)
            continue
        b = per_thread[tid][0]
        idle = idle_before is not None and float(b.newest_at) < idle_before
        if b.unreadable or b.with_deltas or idle:
            rest.append(tid)
            continue
        report.threads_examined += 1
        bounds.append((tid, b.checkpoint_ns, b.oldest_kept))
    if not bounds:
        return rest
    ((checkpoints, writes),) = yield Stmt(d.COUNT_BELOW, (d.keys(bounds), namespace, namespace))
    if not checkpoints:
        return rest
    below = [(tid, namespace, ns, cid) for tid, ns, cid in bounds]
    yield Stmt(d.DELETE_WRITES_BELOW, below, many=True)
    yield Stmt(d.DELETE_CHECKPOINTS_BELOW, below, many=True)
    for stmt in d.refresh_threads(namespace, sorted({tid for tid, _, _ in bounds})):  # noqa: UP028 (rows are sent back)
        yield stmt
    trimmed = d.array(sorted({tid for tid, _, _ in bounds}))
    unnamed = (namespace, trimmed, namespace, trimmed)
    freed = yield Stmt(d.DELETE_UNNAMED_BLOBS_OF, unnamed)
    report.checkpoints_deleted += int(checkpoints)
    report.writes_deleted += int(writes)
    report.blobs_deleted += len(freed)
    report.bytes_freed += sum(int(size or 0) for (size,) in freed)
    return rest


def _judge_each(
    ctx: Context, c: Cutoffs, tids: list[str], dry_run: bool, report: CleanupReport
) -> Plan[None]:
    """Any policy: read every row of the threads, judge each, delete by key."""
    d, namespace = ctx.dialect, ctx.namespace
    of = d.array(tids)
    # Blobs before checkpoints: a put commits both at once, so any blob read here belongs to
    # a checkpoint the next read sees, and a put landing in between adds no collectable blob.
    # A batch's estimates can pass jit_above_cost: compiling would cost more than the reads.
    blobs = yield Stmt(d.SELECT_BLOB_SIZES_OF, (namespace, of), jit_off=True)
    graph = yield Stmt(d.SELECT_GRAPHS_OF, (namespace, of), jit_off=True)
    write_stats = yield Stmt(d.SELECT_WRITE_STATS_OF, (namespace, of), jit_off=True)
    held: set[str] = set()
    if c.idle_before is not None:  # a thread a run holds is not idle, however old its steps
        found = yield Stmt(d.SELECT_HELD_THREADS, (namespace, of, time.time()))
        held = {tid for (tid,) in found}
    nodes: dict[str, list[lineage.Node]] = defaultdict(list)
    damaged: set[str] = set()
    for tid, *node in graph:
        if tid in damaged:
            continue
        try:
            nodes[tid].append(lineage.node_from_row(node))
        except CorruptRowError as exc:  # this thread waits for `saver doctor`; the rest go on
            damaged.add(tid)
            report.skip(tid, node[0], node[1], str(exc).rpartition(f"{node[1]!r}: ")[2])
    blobs_of: dict[str, list[tuple[str, str, str, int, str | None]]] = defaultdict(list)
    for tid, ns, ch, version, size, base in blobs:
        blobs_of[tid].append((ns, ch, version, int(size or 0), base))
    writes_of: dict[tuple[str, str, str], int] = {}
    interrupted_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for tid, ns, cid, count, interrupts in write_stats:
        writes_of[(tid, ns, cid)] = int(count)
        if interrupts:
            interrupted_of[tid].add((ns, cid))
    whole: list[str] = []
    checkpoints: list[tuple[str, ...]] = []
    garbage: list[tuple[str, ...]] = []
    for tid in sorted(nodes.keys() - damaged):
        keys = [(ns, ch, v) for ns, ch, v, _, _ in blobs_of[tid]]
        cutoffs = replace(c, idle_before=None) if tid in held else c
        try:
            verdict = judge(cutoffs, nodes[tid], keys, interrupted_of[tid])
            chained = [(ns, ch, v, base) for ns, ch, v, _, base in blobs_of[tid]]
            freed = keys if verdict.drop_thread else lineage.garbage_blobs(verdict.kept, chained)
        except CorruptRowError as exc:
            report.skip(tid, "", "", str(exc))
            continue
        report.threads_examined += 1
        if not verdict.drop:
            continue
        dropped = [(n.checkpoint_ns, n.checkpoint_id) for n in verdict.drop]
        sizes = {(ns, ch, v): size for ns, ch, v, size, _ in blobs_of[tid]}
        report.checkpoints_deleted += len(dropped)
        report.writes_deleted += sum(writes_of.get((tid, ns, cid), 0) for ns, cid in dropped)
        report.blobs_deleted += len(freed)
        report.bytes_freed += sum(sizes[k] for k in freed)
        if verdict.drop_thread:
            report.threads_deleted += 1
            report.thread_ids.append(tid)
            whole.append(tid)
        else:
            checkpoints.extend((tid, namespace, *p) for p in dropped)
            garbage.extend((tid, namespace, *k) for k in freed)
    if dry_run:
        return
    if whole:
        for sql in d.DELETE_THREADS:
            yield Stmt(sql, (namespace, d.array(whole)), fetch=False)
    if checkpoints:
        yield Stmt(d.DELETE_WRITES_BY, checkpoints, many=True)
        yield Stmt(d.DELETE_CHECKPOINTS_BY, checkpoints, many=True)
        for stmt in d.refresh_threads(namespace, sorted({row[0] for row in checkpoints})):  # noqa: UP028 (rows are sent back)
            yield stmt
    if garbage:
        yield Stmt(d.DELETE_BLOBS_BY, garbage, many=True)


def batches(page: list[Candidate], batch_size: int) -> list[list[str]]:
    """Group threads so each transaction touches about `batch_size` checkpoints."""
    out: list[list[str]] = []
    current: list[str] = []
    size = 0
    for cand in page:
        if current and size + cand.checkpoints > batch_size:
            out.append(current)
            current, size = [], 0
        current.append(cand.thread_id)
        size += cand.checkpoints
    if current:
        out.append(current)
    return out
