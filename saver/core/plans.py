"""One plan per operation: a generator that yields statements and returns the answer.

Executors (SQLite or PostgreSQL, sync or async) only drive these; all decisions live here.
Work that needs no database (validation, serialisation) happens before the first yield, so
a bad call fails before any transaction opens.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    PendingWrite,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from saver.core import codec, deltas, filters, lineage, rows, status, views, writes
from saver.core.config import (
    Target,
    configurable,
    storable,
    target,
    thread_id_of,
    thread_ids,
)
from saver.dialects.base import Dialect, Stmt
from saver.errors import InvalidConfigError, StorageError

T = TypeVar("T")
Rows = list[Sequence[Any]]
Plan = Generator[Stmt, Rows, T]

PAGE_SIZE = 1000
PRUNE_STRATEGIES = ("keep_latest", "delete")


@dataclass(frozen=True)
class Context:
    dialect: Dialect
    serde: SerializerProtocol
    namespace: str
    compress: bool = True  # values stored compressed where that saves bytes (codec.compress)


def _done(value: T) -> Plan[T]:
    return value
    yield  # makes this a generator that issues no statement


def setup(d: Dialect) -> Plan[int]:
    if d.LOCK_MIGRATIONS:  # first: concurrent CREATE ... IF NOT EXISTS can still collide
        yield Stmt(d.LOCK_MIGRATIONS)
    for sql in d.PREPARE_SCHEMA:
        yield Stmt(sql, fetch=False)
    yield Stmt(d.CREATE_MIGRATIONS_TABLE, fetch=False)
    found = yield Stmt(d.SELECT_SCHEMA_VERSION)
    current = int(found[0][0] or 0)
    latest = max(v for v, _ in d.MIGRATIONS)
    if current > latest:
        raise StorageError(
            f"database schema is at version {current}, newer than this saver knows "
            f"({latest}); upgrade langgraph-checkpoint-history"
        )
    for version, statements in d.MIGRATIONS:
        if version > current:
            for sql in statements:
                yield Stmt(sql, fetch=False)
            yield Stmt(d.INSERT_SCHEMA_VERSION, (version, time.time()), fetch=False)
    for sql in d.METADATA_INDEXES:
        yield Stmt(sql, fetch=False)
    return latest


def langgraph_tables(d: Dialect) -> Plan[list[str]]:
    """LangGraph's own savers' tables in this database, if this saver's hold no checkpoint."""
    found = yield Stmt(d.SELECT_LANGGRAPH_TABLES)
    return [str(name) for (name,) in found]


def schema_version(d: Dialect) -> Plan[int | None]:
    """The schema version of the database, or None where setup() never ran. Creates nothing."""
    found = yield Stmt(d.SELECT_HAS_TABLES)
    if not found[0][0]:
        return None
    version = yield Stmt(d.SELECT_SCHEMA_VERSION)
    return int(version[0][0]) if version and version[0][0] is not None else None


# --- writing ---------------------------------------------------------------------------


def put(
    ctx: Context,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    encoded: deltas.DeltaPlan | None = None,
) -> Plan[RunnableConfig]:
    t = target(ctx.namespace, config, "put")
    blobs = encoded.blobs if encoded is not None else None
    blob_rows = rows.blob_rows(t, ctx.serde, checkpoint, new_versions, blobs)
    row = rows.checkpoint_row(t, ctx.serde, config, checkpoint, metadata, ctx.compress)
    return _put(ctx.dialect, blob_rows, row, t, status.of_checkpoint(checkpoint))


def encode_put(
    ctx: Context,
    tracker: deltas.DeltaTracker,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    new_versions: ChannelVersions,
) -> deltas.DeltaPlan:
    """The put's growing lists as deltas where this process knows what they extend."""
    t = target(ctx.namespace, config, "put")
    values = checkpoint["channel_values"]
    new = {ch: (str(v), values[ch]) for ch, v in new_versions.items() if ch in values}
    key = (t.namespace, t.thread_id, t.checkpoint_ns)
    return tracker.plan(
        ctx.serde, key, t.checkpoint_id, checkpoint["id"], checkpoint["channel_versions"], new
    )


def _put(
    d: Dialect, blob_rows: list[rows.BlobRow], row: rows.CheckpointRow, t: Target, state: str
) -> Plan:
    for stmt in d.put_statements(blob_rows, row, state):  # noqa: UP028 (rows are sent back)
        yield stmt
    return {
        "configurable": {
            "thread_id": t.thread_id,
            "checkpoint_ns": t.checkpoint_ns,
            "checkpoint_id": row.checkpoint_id,
        }
    }


def put_writes(
    ctx: Context,
    config: RunnableConfig,
    pending: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
) -> Plan[None]:
    t = target(ctx.namespace, config, "put_writes")
    if t.checkpoint_id is None:
        raise InvalidConfigError("put_writes needs config['configurable']['checkpoint_id']")
    replace, keep_first = rows.write_rows(
        t, ctx.serde, t.checkpoint_id, pending, task_id, task_path, ctx.compress
    )
    state = status.of_writes(c for c, _ in pending) if t.checkpoint_ns == "" else None
    head = None if state is None else (state, t.thread_id, t.namespace, t.checkpoint_id)
    return _put_writes(ctx.dialect, replace, keep_first, head)


def _put_writes(
    d: Dialect,
    replace: list[rows.WriteRow],
    keep_first: list[rows.WriteRow],
    head: tuple[str, ...] | None,
) -> Plan:
    if head is not None:  # an interrupt() or an error on the thread's head: its status
        if d.LOCK_THREAD:  # after a put of that head running meanwhile, or before it: not amid
            yield Stmt(d.LOCK_THREAD, head[1:3])
        yield Stmt(d.SET_HEAD_STATUS, head, fetch=False)
    for stmt in d.write_statements(replace, keep_first):  # noqa: UP028 (rows are sent back)
        yield stmt


def delete_thread(ctx: Context, thread_id: Any) -> Plan[None]:
    tid = thread_id_of(thread_id, "delete_thread")
    return _delete_threads(ctx.dialect, ctx.namespace, [tid])


def _delete_threads(d: Dialect, namespace: str, tids: list[str]) -> Plan:
    for tid in tids:
        if d.LOCK_THREAD:  # a put of this thread waits, so none lands between the deletes
            yield Stmt(d.LOCK_THREAD, (tid, namespace))
        for sql in d.DELETE_THREAD:
            yield Stmt(sql, (tid, namespace), fetch=False)


def copy_thread(ctx: Context, source: Any, target_id: Any) -> Plan[None]:
    src = thread_id_of(source, "copy_thread source")
    dst = thread_id_of(target_id, "copy_thread")
    if src == dst:
        raise InvalidConfigError(f"copy_thread: source and target are both {src!r}")
    return _copy_thread(ctx, src, dst)


def _copy_thread(ctx: Context, src: str, dst: str) -> Plan:
    d, namespace = ctx.dialect, ctx.namespace
    found = yield Stmt(d.COUNT_THREAD, (dst, namespace))
    if found[0][0]:
        raise InvalidConfigError(
            f"copy_thread: target thread {dst!r} already has {found[0][0]} checkpoints; "
            "delete it first or pick a new id"
        )
    for sql in d.COPY_THREAD:
        yield Stmt(sql, (dst, src, namespace), fetch=False)
    for stmt in d.refresh_threads(namespace, [dst]):  # noqa: UP028 (rows are sent back)
        yield stmt
    yield from restore_record(ctx, dst, (yield from thread_record(ctx, src)))
    yield from settle_status(ctx, dst)


def thread_record(ctx: Context, tid: str) -> Plan[dict[str, Any] | None]:
    """What the user set on a thread (put_thread), as an export carries it, or None."""
    found = yield Stmt(ctx.dialect.SELECT_THREAD_RECORD, (tid, ctx.namespace))
    if not found or found[0][2] is None:
        return None
    name, user_id, info, first_at = found[0]
    metadata = views.json_object(info)
    return {"name": name, "user_id": user_id, "metadata": metadata, "created_at": first_at}


def restore_record(ctx: Context, tid: str, record: Mapping[str, Any] | None) -> Plan[None]:
    """Set a copied or imported thread's record, and the time it was made."""
    if record is None:
        return
    made = float(record.get("created_at") or time.time())
    info = codec.dump_json(dict(record.get("metadata") or {}))
    row = (tid, ctx.namespace, made, made, record.get("name"), record.get("user_id"), info)
    yield Stmt(ctx.dialect.UPSERT_THREAD_RECORD, row, fetch=False)


def settle_status(ctx: Context, tid: str) -> Plan[None]:
    """After a copy or import: the new head's status where its writes leave it idle."""
    head = yield from get_tuple(ctx, {"configurable": {"thread_id": tid, "checkpoint_ns": ""}})
    if head is not None and status.of_checkpoint(head.checkpoint) != "idle":
        key = (tid, ctx.namespace, head.config["configurable"]["checkpoint_id"])
        yield Stmt(ctx.dialect.SET_STATUS_IF_IDLE, ("interrupted", *key), fetch=False)


def delete_for_runs(ctx: Context, run_ids: Sequence[Any]) -> Plan[None]:
    if isinstance(run_ids, (str, bytes)):
        raise InvalidConfigError("delete_for_runs takes a list of run ids, not a single string")
    runs = [str(r) for r in run_ids]
    if not runs:
        return _done(None)
    return _delete_for_runs(ctx.dialect, ctx.namespace, runs)


def _delete_for_runs(d: Dialect, namespace: str, runs: list[str]) -> Plan:
    hits = yield Stmt(d.SELECT_RUN_CHECKPOINTS, (namespace, d.array(runs)))
    by_thread: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tid, ns, cid in hits:
        by_thread[tid].append((ns, cid))
    for tid, pairs in by_thread.items():
        yield from _drop_checkpoints(d, namespace, tid, pairs)


def _drop_checkpoints(d: Dialect, namespace: str, tid: str, pairs: list[tuple[str, str]]) -> Plan:
    """Delete checkpoints with their writes, then blobs no remaining checkpoint refers to."""
    if d.LOCK_THREAD:
        yield Stmt(d.LOCK_THREAD, (tid, namespace))
    yield Stmt(d.DELETE_WRITES_OF, (tid, namespace, d.keys(pairs)), fetch=False)
    yield Stmt(d.DELETE_CHECKPOINTS, (tid, namespace, d.keys(pairs)), fetch=False)
    for stmt in d.refresh_threads(namespace, [tid]):  # noqa: UP028 (rows are sent back)
        yield stmt
    # Blobs before checkpoints (see retention.job): a concurrent put's blob is never garbage.
    blob_keys = yield Stmt(d.SELECT_THREAD_BLOB_KEYS, (tid, namespace))
    graph = yield Stmt(d.SELECT_THREAD_GRAPH, (tid, namespace))
    garbage = lineage.garbage_blobs(map(lineage.node_from_row, graph), blob_keys)
    if garbage:
        yield Stmt(d.DELETE_BLOBS, (tid, namespace, d.keys(garbage)), fetch=False)


def prune_each(
    ctx: Context, thread_id_list: Sequence[Any], strategy: str
) -> list[Callable[[], Plan[None]]]:
    """One plan per thread, so each runs in its own short transaction (each made when run,
    so that it can be made again)."""
    tids = thread_ids(thread_id_list, "prune")
    if strategy not in PRUNE_STRATEGIES:
        raise InvalidConfigError(
            f"unknown prune strategy {strategy!r}; use one of {', '.join(PRUNE_STRATEGIES)}"
        )
    step = _delete_threads if strategy == "delete" else _keep_latest
    return [partial(step, ctx.dialect, ctx.namespace, [tid]) for tid in tids]


def _keep_latest(d: Dialect, namespace: str, tids: list[str]) -> Plan:
    for tid in tids:
        graph = yield Stmt(d.SELECT_THREAD_GRAPH, (tid, namespace))
        if not graph:
            continue
        blob_keys = yield Stmt(d.SELECT_THREAD_BLOB_KEYS, (tid, namespace))
        drop = keep_latest_drops([lineage.node_from_row(r) for r in graph], blob_keys)
        if drop:
            yield from _drop_checkpoints(d, namespace, tid, drop)


def keep_latest_drops(
    nodes: list[lineage.Node], blob_keys: Sequence[Sequence[str]]
) -> list[tuple[str, str]]:
    """Everything but each namespace's head and the chain its DeltaChannels replay from."""
    by_ns: dict[str, dict[str, lineage.Node]] = defaultdict(dict)
    for node in nodes:
        by_ns[node.checkpoint_ns][node.checkpoint_id] = node
    stored: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ns, channel, version, *_ in blob_keys:
        stored[ns].add((channel, version))
    drop: list[tuple[str, str]] = []
    for ns, by_id in by_ns.items():
        head = by_id[max(by_id)]
        keep = {head.checkpoint_id}
        keep.update(n.checkpoint_id for n in lineage.delta_chain(by_id, head, stored[ns]))
        drop.extend((ns, cid) for cid in by_id if cid not in keep)
    return drop


# --- reading ---------------------------------------------------------------------------


def get_tuple(ctx: Context, config: RunnableConfig) -> Plan[CheckpointTuple | None]:
    t = target(ctx.namespace, config, "get_tuple")
    where, params = ctx.dialect.list_where(
        ctx.namespace, t.thread_id, t.checkpoint_ns, t.checkpoint_id, None, [], None
    )
    return _get_tuple(ctx, where, params)


def _get_tuple(ctx: Context, where: list[str], params: list[Any]) -> Plan:
    found = yield Stmt(ctx.dialect.select_page(where, one=True), tuple(params))
    tuples = rows.TupleReader(ctx.serde).read(found)
    return tuples[0] if tuples else None


@dataclass
class ListQuery:
    """A `list()` call, read in keyset pages so no lock is held while the caller iterates."""

    ctx: Context
    leaves: list[filters.Leaf]
    thread_id: str | None
    checkpoint_ns: str | None
    checkpoint_id: str | None
    before_id: str | None
    remaining: int | None
    after: tuple[str, str, str] | None = None
    finished: bool = False

    @classmethod
    def of(
        cls,
        ctx: Context,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> ListQuery:
        thread_id = checkpoint_ns = checkpoint_id = None
        if config is not None:
            conf = configurable(config, "list")
            if conf.get("thread_id") is not None:
                thread_id = thread_id_of(conf.get("thread_id"), "list")
            checkpoint_ns = conf.get("checkpoint_ns")
            checkpoint_id = conf.get("checkpoint_id") or None
        before_id = (
            configurable(before, "list(before=...)").get("checkpoint_id") or None
            if before
            else None  # an empty id, as InMemorySaver takes it: no bound
        )
        for name, text in (
            ("checkpoint_ns", checkpoint_ns),
            ("checkpoint_id", checkpoint_id),
            ("before's checkpoint_id", before_id),
        ):
            if isinstance(text, str):
                storable(text, name, "list")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            raise InvalidConfigError(f"list: limit must be an int, got {limit!r}")
        return cls(
            ctx,
            filters.leaves(filter),
            thread_id,
            checkpoint_ns,
            checkpoint_id,
            before_id,
            limit,
        )

    def next_page(self) -> Plan[list[CheckpointTuple]]:
        if self.finished or (self.remaining is not None and self.remaining <= 0):
            return _done([])
        size = PAGE_SIZE if self.remaining is None else min(PAGE_SIZE, self.remaining)
        where, params = self.ctx.dialect.list_where(
            self.ctx.namespace,
            self.thread_id,
            self.checkpoint_ns,
            self.checkpoint_id,
            self.before_id,
            self.leaves,
            self.after,
        )
        return self._page(where, params, size)

    def _page(self, where: list[str], params: list[Any], size: int) -> Plan:
        sql = self.ctx.dialect.select_page(where)
        filtered = bool(self.leaves) and self.thread_id is None  # its plan depends on the filter
        many = filtered or size > 1
        found = yield Stmt(sql, (*params, size), plan_each_call=filtered, jit_off=many)
        # A reader per page: decoded values are shared within a page, and freed after it.
        page = rows.TupleReader(self.ctx.serde, share_items=True).read(found)
        self.finished = len(page) < size
        if self.remaining is not None:
            self.remaining -= len(page)
        if page:
            last = page[-1].config["configurable"]
            self.after = (last["checkpoint_id"], last["checkpoint_ns"], last["thread_id"])
        return page


def delta_channel_history(
    ctx: Context, config: RunnableConfig, channels: Sequence[str]
) -> Plan[Mapping[str, DeltaChannelHistory]]:
    t = target(ctx.namespace, config, "get_delta_channel_history")
    if not channels:
        return _done({})
    return _delta_channel_history(ctx, t, list(channels))


def _delta_channel_history(ctx: Context, t: Target, channels: list[str]) -> Plan:
    d, scope = ctx.dialect, (t.thread_id, ctx.namespace, t.checkpoint_ns)
    empty: dict[str, DeltaChannelHistory] = {ch: {"writes": []} for ch in channels}
    checkpoint_id = t.checkpoint_id
    if checkpoint_id is None:
        latest = yield Stmt(d.SELECT_LATEST_ID, scope)
        if not latest or latest[0][0] is None:
            return empty
        checkpoint_id = latest[0][0]
    chain_rows = yield Stmt(d.SELECT_ANCESTORS, (*scope, checkpoint_id, *scope))
    by_id = {
        cid: lineage.Node(
            t.checkpoint_ns,
            cid,
            parent_id,
            codec.load_json(
                versions, codec.located(t.thread_id, t.checkpoint_ns, cid), "blob_versions"
            ),
            frozenset(),
        )
        for cid, parent_id, versions in chain_rows
    }
    if checkpoint_id not in by_id:
        return empty
    chain = lineage.ancestors(by_id, by_id[checkpoint_id].parent_id)
    candidates = sorted(
        {(ch, n.blob_versions[ch]) for n in chain for ch in channels if ch in n.blob_versions}
    )
    stored: set[tuple[str, str]] = set()
    if candidates:
        found = yield Stmt(d.SELECT_BLOB_KEYS_AMONG, (*scope, d.keys(candidates)))
        stored = {(channel, version) for channel, version in found}
    path: dict[str, list[str]] = {}
    seeds: dict[str, tuple[str, str]] = {}
    for ch in channels:
        path[ch] = []
        for node in chain:
            path[ch].append(node.checkpoint_id)
            key = (ch, node.blob_versions.get(ch, ""))
            if key in stored:
                seeds[ch] = key
                break
    seed_values: dict[tuple[str, str], Any] = {}
    if seeds:
        found = yield Stmt(d.SELECT_BLOBS, (*scope, d.keys(sorted(set(seeds.values())))))
        chains = deltas.Chains()
        for ch, ver, fmt, type_, data, base in found:
            chains.add((t.thread_id, t.checkpoint_ns, ch, ver), fmt, type_, data, base)
        for ch, ver in set(seeds.values()):
            where = f"thread {t.thread_id!r} ns {t.checkpoint_ns!r} channel {ch!r} version {ver!r}"
            type_, data, fmt = chains.whole((t.thread_id, t.checkpoint_ns, ch, ver), where)
            seed_values[(ch, ver)] = codec.load_value(ctx.serde, type_, data, fmt, where)
    cids = sorted({cid for ids in path.values() for cid in ids})
    by_cid_ch: dict[tuple[str, str], list[rows.ChannelWrite]] = defaultdict(list)
    if cids:
        found = yield Stmt(d.SELECT_CHANNEL_WRITES, (*scope, d.array(cids), d.array(channels)))
        for w in map(rows.ChannelWrite._make, found):
            by_cid_ch[(w.checkpoint_id, w.channel)].append(w)
    result: dict[str, DeltaChannelHistory] = {}
    for ch in channels:
        collected: list[PendingWrite] = []
        for cid in reversed(path[ch]):
            for w in sorted(
                by_cid_ch.get((cid, ch), ()),
                key=lambda w: writes.sort_key(w.task_path, w.task_id, w.idx),
            ):
                where = f"{codec.located(t.thread_id, t.checkpoint_ns, cid)}: write"
                collected.append(
                    (w.task_id, ch, codec.load_write(ctx.serde, w.type, w.data, where))
                )
        entry: DeltaChannelHistory = {"writes": collected}
        if ch in seeds:
            entry["seed"] = seed_values[seeds[ch]]
        result[ch] = entry
    return result
