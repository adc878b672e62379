"""`saver doctor`: read every row of a thread back the way a read would, and find what
cannot be: damaged rows, broken delta chains, missing parents, orphaned blobs and writes.
`repair` does it again inside a write transaction and moves each damaged row to
history_quarantine (never deletes one), and deletes the orphans, which nothing reads.

Not a problem, so not reported: a checkpoint whose parent is older than every checkpoint of
its namespace (retention trimmed it), and a channel version with no blob (an empty channel
is stored that way)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from saver.core import codec, deltas, lineage, threads
from saver.core.plans import Context, Plan
from saver.dialects.base import Stmt
from saver.errors import CorruptRowError

DAMAGED, ORPHAN, MISSING_PARENT = "damaged", "orphan", "missing parent"
QUARANTINED, DELETED = "quarantined", "deleted"


@dataclass
class Finding:
    """One problem with one row: `table` checkpoint, blob or write; `row` says which blob or
    write; `action` what repair did (empty: reported only)."""

    table: str
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    row: str
    kind: str
    problem: str
    action: str = ""
    stored: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, str]:
        out = asdict(self)
        out.pop("stored")
        return out


@dataclass
class DoctorReport:
    """What a doctor run found (`repaired`: it was asked to repair). A missing parent is
    listed, but is no problem by itself: delete_for_runs leaves them, as retention does."""

    threads_checked: int = 0
    rows_checked: int = 0
    repaired: bool = False
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[Finding]:
        """The findings that are damage: damaged and orphaned rows."""
        return [f for f in self.findings if f.kind != MISSING_PARENT]

    def as_dict(self) -> dict[str, Any]:
        return {
            "threads_checked": self.threads_checked,
            "rows_checked": self.rows_checked,
            "repaired": self.repaired,
            "problems": [f.as_dict() for f in self.findings],
            "seconds": self.seconds,
        }


ProgressCallback = Callable[[DoctorReport], None]


def thread_page(ctx: Context, after: str, limit: int) -> Plan[list[str]]:
    """The next `limit` thread ids after `after` with a row in any table."""
    one = (ctx.namespace, after, limit)
    found = yield Stmt(ctx.dialect.SELECT_ANY_THREAD_IDS, (*one, *one, *one, limit))
    return [tid for (tid,) in found]


def check_thread(ctx: Context, tid: str) -> Plan[tuple[int, list[Finding]]]:
    """(rows read, what is wrong with them) for thread `tid` (as stored: an id an older
    version took is checked too), in one snapshot."""
    data = yield from threads.stored_rows(ctx, tid)
    found = yield Stmt(ctx.dialect.SELECT_QUARANTINED_CHECKPOINTS, (tid, ctx.namespace))
    rows = sum(len(r) for r in data.rows.values())
    return rows, diagnose(ctx, data, {(ns, cid) for ns, cid in found})


def repair_thread(ctx: Context, tid: str) -> Plan[tuple[int, list[Finding]]]:
    """check_thread, then act on each finding, in one write transaction that holds the
    thread (a put of it waits), so what is moved is what was just read."""
    d = ctx.dialect
    if d.LOCK_THREAD:
        yield Stmt(d.LOCK_THREAD, (tid, ctx.namespace))
    rows, findings = yield from check_thread(ctx, tid)
    now = time.time()
    for f in findings:
        if f.kind == MISSING_PARENT:
            continue
        key = (tid, ctx.namespace, f.checkpoint_ns)
        if f.kind == DAMAGED:
            line = json.dumps(threads.row_line(f.table, f.stored))
            which = (tid, ctx.namespace, f.checkpoint_ns, f.checkpoint_id, f.table, f.row)
            yield Stmt(d.QUARANTINE_ROW, (*which, now, f.problem, line), fetch=False)
        s = f.stored
        if f.table == "checkpoint":
            yield Stmt(d.DELETE_CHECKPOINTS_BY, (*key, s["checkpoint_id"]), fetch=False)
        elif f.table == "blob":
            yield Stmt(d.DELETE_BLOBS_BY, (*key, s["channel"], s["version"]), fetch=False)
        else:
            yield Stmt(
                d.DELETE_WRITE_BY, (*key, s["checkpoint_id"], s["task_id"], s["idx"]), fetch=False
            )
        f.action = QUARANTINED if f.kind == DAMAGED else DELETED
    if any(f.action and f.table == "checkpoint" for f in findings):
        for stmt in d.refresh_threads(ctx.namespace, [tid]):  # noqa: UP028 (rows are sent back)
            yield stmt
    return rows, findings


def diagnose(
    ctx: Context, data: threads.ThreadRows, quarantined: set[tuple[str, str]]
) -> list[Finding]:
    """Every problem with a thread's rows (`quarantined`: checkpoints repair took away)."""
    tid, serde = data.thread_id, ctx.serde
    out: list[Finding] = []

    def finding(table: str, row: dict[str, Any], what: str, kind: str, problem: str) -> None:
        cid = str(row.get("checkpoint_id") or "")
        said = what if table != "checkpoint" else repr(cid)
        problem = problem.rpartition(f"{said}: ")[2]  # the row is in its own columns
        out.append(Finding(table, tid, row["checkpoint_ns"], cid, what, kind, problem, "", row))

    readable: dict[tuple[str, str], lineage.Node] = {}
    held: dict[str, set[str]] = {}  # checkpoint_ns -> checkpoint ids, readable or not
    damaged: set[tuple[str, str]] = set()
    rows_of: dict[tuple[str, str], dict[str, Any]] = {}
    for row in data.rows.get("checkpoint", []):
        ns, cid = row["checkpoint_ns"], row["checkpoint_id"]
        held.setdefault(ns, set()).add(cid)
        rows_of[(ns, cid)] = row
        where = codec.located(tid, ns, cid)
        try:
            codec.load_checkpoint(serde, row["type"], row["checkpoint"], where)
            codec.load_json(row["metadata"], where)
            versions = codec.load_json(row["blob_versions"], where, "blob_versions")
        except CorruptRowError as exc:
            finding("checkpoint", row, "checkpoint", DAMAGED, str(exc))
            damaged.add((ns, cid))
            continue
        node = lineage.Node(ns, cid, row["parent_checkpoint_id"], versions, frozenset())
        readable[(ns, cid)] = node
    away = {q for q in quarantined if q[1] not in held.get(q[0], ())}  # repair took these
    blobs = data.rows.get("blob", [])
    bad_blobs = _damaged_blobs(ctx, tid, blobs, finding)
    # A checkpoint cannot be read whole without its blobs: it goes with a damaged one, so
    # that a read never shows it with that channel silently empty.
    for key, node in list(readable.items()):
        for channel, version in node.blob_versions.items():
            if (node.checkpoint_ns, channel, str(version)) in bad_blobs:
                problem = f"its blob of channel {channel!r} version {version!r} is damaged"
                finding("checkpoint", rows_of[key], "checkpoint", DAMAGED, problem)
                damaged.add(key)
                del readable[key]
                break
    for node in readable.values():
        parent, ns = node.parent_id, node.checkpoint_ns
        if parent is None or parent in held[ns] or (ns, parent) in away:
            continue
        if parent > min(held[ns]):  # an older one is kept: not a trimmed tail
            row = {"checkpoint_ns": ns, "checkpoint_id": node.checkpoint_id}
            problem = f"parent {parent!r} is missing"
            finding("checkpoint", row, "checkpoint", MISSING_PARENT, problem)
    # A damaged or quarantined checkpoint's blobs look unused, but it may be restored: kept.
    if not damaged and not away:
        stored = [(r["checkpoint_ns"], r["channel"], r["version"], r["base"]) for r in blobs]
        unused = set(lineage.garbage_blobs(readable.values(), stored))
        for row in blobs:
            if (row["checkpoint_ns"], row["channel"], row["version"]) in unused:
                what = f"channel {row['channel']!r} version {row['version']!r}"
                finding("blob", row, what, ORPHAN, "no checkpoint names this blob")
    for row in data.rows.get("write", []):
        ns, cid = row["checkpoint_ns"], row["checkpoint_id"]
        what = f"task {row['task_id']!r} idx {row['idx']} channel {row['channel']!r}"
        where = f"{codec.located(tid, ns, cid)}: write of {what}"
        if (ns, cid) in damaged:
            finding("write", row, what, DAMAGED, "written on a damaged checkpoint")
        elif cid not in held.get(ns, ()):
            # LangGraph writes a step's writes while its checkpoint is still being put:
            # only a write older than a stored checkpoint can have lost its own.
            if (ns, cid) not in away and cid < max(held.get(ns, ()), default=""):
                finding("write", row, what, ORPHAN, "its checkpoint does not exist")
        else:
            try:
                codec.load_write(serde, row["type"], row["data"], where)
            except CorruptRowError as exc:
                finding("write", row, what, DAMAGED, str(exc))
    return out


def _damaged_blobs(
    ctx: Context, tid: str, blobs: list[dict[str, Any]], finding: Callable[..., None]
) -> set[tuple[str, str, str]]:
    """(checkpoint_ns, channel, version) of each blob that does not decode whole, a delta
    whose chain is broken included; each reported through `finding`."""
    chains = deltas.Chains()
    unreadable: dict[deltas.BlobKey, str] = {}  # a format or compression add() refused
    for row in blobs:
        key = (tid, row["checkpoint_ns"], row["channel"], row["version"])
        try:
            chains.add(key, row["format"], row["type"], row["data"], row["base"])
        except CorruptRowError as exc:
            unreadable[key] = str(exc)
    bad: set[tuple[str, str, str]] = set()
    for row in blobs:
        key = (tid, row["checkpoint_ns"], row["channel"], row["version"])
        what = f"channel {row['channel']!r} version {row['version']!r}"
        try:
            if key in unreadable:
                raise CorruptRowError(f"thread {tid!r} ns {key[1]!r}: {unreadable[key]}")
            where = f"thread {tid!r} ns {key[1]!r}: {what}"
            type_, whole, fmt = chains.whole(key, where)
            codec.load_value(ctx.serde, type_, whole, fmt, where)
        except CorruptRowError as exc:
            finding("blob", row, what, DAMAGED, str(exc))
            bad.add(key[1:])
    return bad
