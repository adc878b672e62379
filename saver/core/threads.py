"""Plans over whole threads: list them, walk one's history, and move one's rows out and in
(export, import, copy between databases) exactly as stored."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from saver.core import codec, filters, plans, status, views, writes
from saver.core.config import thread_id_of
from saver.core.plans import Context, Plan
from saver.dialects.base import BLOB_COLUMNS, CHECKPOINT_COLUMNS, WRITE_COLUMNS, Stmt
from saver.errors import CorruptRowError, InvalidConfigError

SORTS = {"last_activity": "last_at", "created": "first_at"}  # list_threads' orders
EXPORT_FORMAT = "langgraph-checkpoint-history/thread"
# 2: checkpoints and writes may be compressed in-band (codec.pack) and a checkpoint's id lives
# only in its column, which a reader of version 1 would not know; it refuses version 2.
# 3: a line of table "thread" carries what the user set on the thread (put_thread); an export
# of a thread without one stays version 2, which readers of version 2 still take.
EXPORT_VERSION = 2
RECORD_VERSION = 3
READS_VERSIONS = (1, 2, 3)
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
    status_is: str | None = None,
    user_id: str | None = None,
    thread_metadata: Mapping[str, Any] | None = None,
    ascending: bool = False,
) -> Plan[list[views.ThreadInfo]]:
    """A page of threads, newest first by `sort`: "last_activity" or "created" (oldest first
    if `ascending`)."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InvalidConfigError(f"limit must be a positive int, got {limit!r}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidConfigError(f"offset must be an int >= 0, got {offset!r}")
    if sort not in SORTS:
        raise InvalidConfigError(f"sort must be one of {sorted(SORTS)}, got {sort!r}")
    now = time.time()
    where, params = _threads_where(
        ctx, filter, prefix, before, after, search, status_is, user_id, thread_metadata, now
    )
    order = "ASC" if ascending else "DESC"
    sql = ctx.dialect.select_threads(where, SORTS[sort], order)
    found = yield Stmt(sql, (*params, limit, offset))
    return [views.thread_info(row, now) for row in found]


def count_threads(
    ctx: Context,
    filter: Mapping[str, Any] | None,
    prefix: str | None,
    before: datetime | None,
    after: datetime | None,
    search: str | None = None,
    status_is: str | None = None,
    user_id: str | None = None,
    thread_metadata: Mapping[str, Any] | None = None,
) -> Plan[int]:
    """How many threads list_threads would find, in one statement."""
    where, params = _threads_where(
        ctx, filter, prefix, before, after, search, status_is, user_id, thread_metadata, time.time()
    )
    found = yield Stmt(ctx.dialect.count_threads(where), tuple(params))
    return int(found[0][0]) if found else 0


def _threads_where(
    ctx: Context,
    filter: Mapping[str, Any] | None,
    prefix: str | None,
    before: datetime | None,
    after: datetime | None,
    search: str | None,
    status_is: str | None,
    user_id: str | None,
    thread_metadata: Mapping[str, Any] | None,
    now: float,
) -> tuple[list[str], list[Any]]:
    """list_threads' and count_threads' conditions, checked."""
    if search is not None and not isinstance(search, str):
        raise InvalidConfigError(f"search must be a str, got {search!r}")
    if status_is is not None and status_is not in status.STATUSES:
        raise InvalidConfigError(
            f"status must be one of {list(status.STATUSES)}, got {status_is!r}"
        )
    owner = _optional_text("user_id", user_id)
    until, since = _timestamp("before", before), _timestamp("after", after)
    return ctx.dialect.threads_where(
        ctx.namespace,
        prefix,
        until,
        since,
        filters.leaves(dict(filter or {})),
        search,
        None if status_is is None else (status_is, now),
        owner,
        filters.leaves(dict(thread_metadata or {})),
    )


def get_thread(ctx: Context, thread_id: Any) -> Plan[views.ThreadInfo | None]:
    """One thread as list_threads shows it, or None where there is no such thread."""
    tid = thread_id_of(thread_id, "get_thread")
    d = ctx.dialect
    where = ["namespace = ?", "thread_id = ?"]
    found = yield Stmt(d.select_threads(where), (ctx.namespace, tid, 1, 0))
    return views.thread_info(found[0], time.time()) if found else None


# --- a thread as a record --------------------------------------------------------------------


def put_thread(
    ctx: Context,
    thread_id: Any,
    name: str | None,
    user_id: str | int | None,
    metadata: Mapping[str, Any] | None,
) -> Plan[views.ThreadInfo]:
    """Make the thread (with no checkpoint yet) or update it: `name` and `user_id` replace
    what is set where given, `metadata`'s keys are merged into the thread's."""
    tid = thread_id_of(thread_id, "put_thread")
    label = _optional_text("name", name)
    owner = _optional_text("user_id", user_id)
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidConfigError(f"put_thread: metadata must be a dict, got {metadata!r}")
    added = _checked_json("put_thread: metadata", metadata or {})
    d = ctx.dialect
    if d.LOCK_THREAD:  # two merges of one thread's metadata never lose a key
        yield Stmt(d.LOCK_THREAD, (tid, ctx.namespace))
    found = yield Stmt(d.SELECT_THREAD_RECORD, (tid, ctx.namespace))
    merged = {**(views.json_object(found[0][2]) if found else {}), **added}
    now = time.time()
    record = (tid, ctx.namespace, now, now, label, owner, codec.dump_json(merged))
    yield Stmt(d.UPSERT_THREAD_RECORD, record, fetch=False)
    thread = yield from get_thread(ctx, tid)
    assert thread is not None
    return thread


def claim_thread(ctx: Context, thread_id: Any, run_id: Any, lease: float) -> Plan[bool]:
    """Take the thread for `run_id` for `lease` seconds (again: extend the lease); False if
    another run holds it."""
    tid = thread_id_of(thread_id, "claim_thread")
    run = _run_id(run_id)
    if isinstance(lease, bool) or not isinstance(lease, (int, float)) or not lease > 0:
        raise InvalidConfigError(f"lease must be a positive number of seconds, got {lease!r}")
    now = time.time()
    d = ctx.dialect
    yield Stmt(d.CLAIM_THREAD, (tid, ctx.namespace, now, now, run, now + lease, now), fetch=False)
    found = yield Stmt(d.SELECT_THREAD_RUN, (tid, ctx.namespace))
    return bool(found) and found[0][0] == run


def release_thread(ctx: Context, thread_id: Any, run_id: Any) -> Plan[None]:
    """Let the thread go, if `run_id` holds it."""
    tid = thread_id_of(thread_id, "release_thread")
    d = ctx.dialect
    yield Stmt(d.RELEASE_THREAD, (tid, ctx.namespace, _run_id(run_id)), fetch=False)
    yield Stmt(d.DELETE_UNUSED_THREAD, (tid, ctx.namespace), fetch=False)


def head_version(ctx: Context, thread_id: Any) -> Plan[str | None]:
    """What the thread's head state is read from, as a short text: its head checkpoint's id
    and a digest of that checkpoint's row and the writes on it. Equal texts, equal states;
    None where the thread has no checkpoint."""
    tid = thread_id_of(thread_id, "head_version")
    found = yield Stmt(ctx.dialect.SELECT_HEAD_WRITES, (tid, ctx.namespace) * 2)
    heads = [r for r in found if r[0] == "c"]
    if not heads:
        return None
    _, head, checkpoint, versions, metadata, _ = heads[0]
    digest = hashlib.blake2b(digest_size=16)
    parts = [bytes(checkpoint), str(versions).encode(), str(metadata).encode()]
    for _, task_id, data, channel, kind, idx in sorted(
        (r for r in found if r[0] == "w"), key=lambda r: (r[1], r[5])
    ):
        parts.append(f"{task_id}\0{idx}\0{channel}\0{kind or ''}\0".encode() + bytes(data or b""))
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return f"{head}:{digest.hexdigest()}"


def _run_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise InvalidConfigError(f"run_id must be a non-empty str, got {value!r}")
    return str(value)


def _optional_text(name: str, value: Any) -> str | None:
    """A name or user id: text (an int user id is taken as its digits), or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidConfigError(f"{name} must be a str, got {value!r}")
    return str(value)


def _checked_json(what: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A dict that JSON keeps as it is: string keys, JSON values."""
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidConfigError(f"{what} must hold JSON values only: {e}") from None
    kept: dict[str, Any] = json.loads(text)
    if kept.keys() != value.keys():
        raise InvalidConfigError(f"{what} keys must be strings, got {list(value)!r}")
    return kept


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


def steps(ctx: Context, thread_id: str, checkpoint_ns: str) -> Plan[list[views.Step]]:
    """A namespace's history, newest first, without reading one channel value or write: what
    ran, what runs next and whether an interrupt waits, from the checkpoints' own rows, the
    channels their writes name, and which task-starting channels hold a value (each step's
    `interrupts` is empty)."""
    scope = (thread_id, ctx.namespace, checkpoint_ns)
    rows = yield Stmt(ctx.dialect.SELECT_STEPS, scope)
    written = yield Stmt(ctx.dialect.SELECT_WRITE_CHANNELS, scope)
    triggers = set((yield Stmt(ctx.dialect.SELECT_TRIGGER_BLOBS, scope)))
    channels: dict[str, list[tuple[str, str, None]]] = {}
    paths: dict[str, str] = {}
    for checkpoint_id, task_id, path, _, channel in sorted(
        written, key=lambda w: (w[0], writes.sort_key(w[2], w[1], w[3]))
    ):
        channels.setdefault(checkpoint_id, []).append((task_id, channel, None))
        paths[task_id] = path or ""
    out = []
    for checkpoint_id, parent_id, type_, data, versions, metadata in rows:
        where = codec.located(thread_id, checkpoint_ns, checkpoint_id)
        body = codec.load_checkpoint(ctx.serde, type_, data, where)
        at = body.get("channel_versions") or codec.load_json(versions, where, "blob_versions")
        step = views.Step.of(
            checkpoint_id,
            parent_id,
            checkpoint_ns,
            codec.load_json(metadata, where),
            body.get("ts"),
            (c for c, v in at.items() if (c, str(v)) in triggers),  # which hold a value
            channels.get(checkpoint_id, []),
            paths,
        )
        out.append(step)
    return out


# --- export and import ---------------------------------------------------------------------


@dataclass
class ThreadRows:
    """A thread's stored rows, table by table, as dicts of column values."""

    thread_id: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    record: dict[str, Any] | None = None  # name, user_id, metadata, created_at (put_thread)

    @property
    def checkpoints(self) -> int:
        return len(self.rows.get("checkpoint", []))


def export_thread(ctx: Context, thread_id: Any) -> Plan[ThreadRows]:
    return stored_rows(ctx, thread_id_of(thread_id, "export_thread"))


def stored_rows(ctx: Context, tid: str) -> Plan[ThreadRows]:
    """Every row of thread `tid` as stored (an id as the database gives it: unchecked)."""
    out = ThreadRows(tid)
    for table, sql in zip(TABLES, ctx.dialect.EXPORT_THREAD, strict=True):
        found = yield Stmt(sql, (tid, ctx.namespace))
        out.rows[table] = [dict(zip(COLUMNS[table], row, strict=True)) for row in found]
    out.record = yield from plans.thread_record(ctx, tid)
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
    yield from plans.restore_record(ctx, tid, data.record)
    yield from plans.settle_status(ctx, tid)
    return data.checkpoints


def to_lines(data: ThreadRows) -> Iterator[str]:
    """JSON lines: a header, then one line per row (bytes in base64)."""
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION if data.record is None else RECORD_VERSION,
        "thread_id": data.thread_id,
        "counts": {t: len(data.rows.get(t, [])) for t in TABLES},
    }
    yield json.dumps(header)
    if data.record is not None:
        yield json.dumps({"table": "thread", **data.record})
    for table in TABLES:
        for row in data.rows.get(table, []):
            yield json.dumps(row_line(table, row))


def row_line(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """One stored row as a line: its table, its columns but the thread's (the importer
    decides both), bytes in base64."""
    line: dict[str, Any] = {"table": table}
    for column, value in row.items():
        if column in ("thread_id", "namespace"):
            continue
        if column in BYTES[table] and value is not None:
            value = base64.b64encode(bytes(value)).decode()
        line[column] = value
    return line


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
        if table == "thread":
            data.record = _record_line(line, f"{where}:{n}")
            continue
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


def _record_line(line: dict[str, Any], where: str) -> dict[str, Any]:
    for key in ("name", "user_id"):
        if line.get(key) is not None and not isinstance(line[key], str):
            raise CorruptRowError(f"{where}: thread {key} must be text, got {line[key]!r}")
    if not isinstance(line.get("metadata", {}), dict):
        raise CorruptRowError(f"{where}: thread metadata must be an object")
    if not isinstance(line.get("created_at", 0), (int, float)):
        raise CorruptRowError(f"{where}: thread created_at must be a number")
    return {k: line.get(k) for k in ("name", "user_id", "metadata", "created_at")}
