"""Plans over whole threads: list them, walk one's history, and move one's rows out and in
(export, import, copy between databases) exactly as stored."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from saver.core import codec, filters, views
from saver.core.config import thread_id_of
from saver.core.plans import Context, Plan
from saver.dialects.base import BLOB_COLUMNS, CHECKPOINT_COLUMNS, WRITE_COLUMNS, Stmt
from saver.errors import CorruptRowError, InvalidConfigError

SORTS = {"last_activity": "last_at", "created": "first_at"}  # list_threads' orders
EXPORT_FORMAT = "langgraph-checkpoint-history/thread"
# 2: checkpoints and writes may be compressed in-band (codec.pack) and a checkpoint's id lives
# only in its column, which a reader of version 1 would not know; it refuses version 2.
EXPORT_VERSION = 2
READS_VERSIONS = (1, 2)
TABLES = ("checkpoint", "blob", "write")
COLUMNS = {
    "checkpoint": CHECKPOINT_COLUMNS.split(", "),
    "blob": BLOB_COLUMNS.split(", "),
    "write": WRITE_COLUMNS.split(", "),
}
BYTES = {"checkpoint": {"checkpoint"}, "blob": {"data"}, "write": {"data"}}


def list_threads(
    ctx: Context,
    filter: Mapping[str, Any] | None,
    prefix: str | None,
    before: datetime | None,
    after: datetime | None,
    limit: int,
    offset: int = 0,
    search: str | None = None,
    sort: str = "last_activity",
) -> Plan[list[views.ThreadInfo]]:
    """A page of threads, newest first by `sort`: "last_activity" or "created"."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InvalidConfigError(f"limit must be a positive int, got {limit!r}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidConfigError(f"offset must be an int >= 0, got {offset!r}")
    if search is not None and not isinstance(search, str):
        raise InvalidConfigError(f"search must be a str, got {search!r}")
    if sort not in SORTS:
        raise InvalidConfigError(f"sort must be one of {sorted(SORTS)}, got {sort!r}")
    until, since = _timestamp("before", before), _timestamp("after", after)
    leaves = filters.leaves(dict(filter or {}))
    d = ctx.dialect
    where, params = d.threads_where(ctx.namespace, prefix, until, since, leaves, search)
    found = yield Stmt(d.select_threads(where, SORTS[sort]), (*params, limit, offset))
    return [views.thread_info(row) for row in found]


def get_thread(ctx: Context, thread_id: Any) -> Plan[views.ThreadInfo | None]:
    """One thread as list_threads shows it, or None where it has no checkpoint."""
    tid = thread_id_of(thread_id, "get_thread")
    d = ctx.dialect
    where = ["namespace = ?", "thread_id = ?"]
    found = yield Stmt(d.select_threads(where), (ctx.namespace, tid, 1, 0))
    return views.thread_info(found[0]) if found else None


def _timestamp(name: str, moment: datetime | None) -> float | None:
    """Seconds since the epoch; a naive datetime is local time, as datetime.timestamp reads it."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise InvalidConfigError(f"{name} must be a datetime, got {moment!r}")
    return moment.timestamp() if moment.tzinfo else moment.astimezone().timestamp()


def thread_ids(ctx: Context, after: str, limit: int) -> Plan[list[str]]:
    page = (after, ctx.namespace, ctx.namespace, limit)
    found = yield Stmt(ctx.dialect.SELECT_THREAD_IDS, page)
    return [tid for (tid,) in found]


def task_paths(ctx: Context, thread_id: str, checkpoint_ns: str) -> Plan[dict[str, str]]:
    """task_id -> task_path of every write of a thread's namespace (the node that wrote)."""
    found = yield Stmt(ctx.dialect.SELECT_TASK_PATHS, (thread_id, ctx.namespace, checkpoint_ns))
    return {task_id: path or "" for _, task_id, path in found}


# --- export and import ---------------------------------------------------------------------


@dataclass
class ThreadRows:
    """A thread's stored rows, table by table, as dicts of column values."""

    thread_id: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def checkpoints(self) -> int:
        return len(self.rows.get("checkpoint", []))


def export_thread(ctx: Context, thread_id: Any) -> Plan[ThreadRows]:
    tid = thread_id_of(thread_id, "export_thread")
    out = ThreadRows(tid)
    for table, sql in zip(TABLES, ctx.dialect.EXPORT_THREAD, strict=True):
        found = yield Stmt(sql, (tid, ctx.namespace))
        out.rows[table] = [dict(zip(COLUMNS[table], row, strict=True)) for row in found]
    return out


def import_thread(ctx: Context, data: ThreadRows, thread_id: Any = None) -> Plan[int]:
    """Insert `data` as thread `thread_id` (default: its own id) of this saver's namespace;
    a thread that already has checkpoints is refused, never merged."""
    tid = thread_id_of(data.thread_id if thread_id is None else thread_id, "import_thread")
    d = ctx.dialect
    found = yield Stmt(d.COUNT_THREAD, (tid, ctx.namespace))
    if found[0][0]:
        raise InvalidConfigError(
            f"thread {tid!r} already has {found[0][0]} checkpoints here; "
            "delete it first or import under a new id"
        )
    statements = {"checkpoint": d.UPSERT_CHECKPOINT, "blob": d.INSERT_BLOB, "write": d.INSERT_WRITE}
    for table in ("blob", "checkpoint", "write"):
        rows = [
            tuple({**r, "thread_id": tid, "namespace": ctx.namespace}[c] for c in COLUMNS[table])
            for r in data.rows.get(table, [])
        ]
        if rows:
            yield Stmt(statements[table], rows, many=True)
    for stmt in d.refresh_threads(ctx.namespace, [tid]):  # noqa: UP028 (rows are sent back)
        yield stmt
    return data.checkpoints


def to_lines(data: ThreadRows) -> Iterator[str]:
    """JSON lines: a header, then one line per row (bytes in base64)."""
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "thread_id": data.thread_id,
        "counts": {t: len(data.rows.get(t, [])) for t in TABLES},
    }
    yield json.dumps(header)
    for table in TABLES:
        for row in data.rows.get(table, []):
            line = {"table": table}
            for column, value in row.items():
                if column in ("thread_id", "namespace"):
                    continue  # the importer decides both
                if column in BYTES[table] and value is not None:
                    value = base64.b64encode(bytes(value)).decode()
                line[column] = value
            yield json.dumps(line)


def from_lines(lines: Iterable[str], where: str = "input") -> ThreadRows:
    """Read what `to_lines` wrote; anything else is refused with the line that is wrong."""
    numbered = ((n, ln) for n, ln in enumerate(lines, start=1) if ln.strip())
    try:
        n, first = next(numbered)
    except StopIteration:
        raise CorruptRowError(f"{where}: empty, expected an exported thread") from None
    header = codec.load_json(first, f"{where}:{n}", "the line")
    if header.get("format") != EXPORT_FORMAT or header.get("version") not in READS_VERSIONS:
        raise CorruptRowError(
            f"{where}:{n}: not a thread export (format {EXPORT_FORMAT!r}, version "
            f"{' or '.join(map(str, READS_VERSIONS))})"
        )
    data = ThreadRows(str(header["thread_id"]), {t: [] for t in TABLES})
    for n, text in numbered:
        line = codec.load_json(text, f"{where}:{n}", "the line")
        table = line.pop("table", None)
        if table not in COLUMNS:
            raise CorruptRowError(f"{where}:{n}: unknown table {table!r}")
        missing = set(COLUMNS[table]) - {"thread_id", "namespace"} - set(line)
        if missing:
            raise CorruptRowError(f"{where}:{n}: {table} row lacks {sorted(missing)}")
        for column in BYTES[table]:
            if line[column] is not None:
                line[column] = base64.b64decode(line[column])
        data.rows[table].append(line)
    expected = header.get("counts", {})
    got = {t: len(data.rows[t]) for t in TABLES}
    if expected and expected != got:
        raise CorruptRowError(f"{where}: truncated export: header says {expected}, read {got}")
    return data
