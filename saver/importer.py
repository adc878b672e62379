"""Import threads from a database LangGraph's own SqliteSaver or PostgresSaver wrote."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, PendingWrite

from saver.core.writes import is_special
from saver.errors import InvalidConfigError
from saver.io import HistorySaver

# The official savers (SQLite and PostgreSQL alike) keep one row per checkpoint here.
THREADS_SQL = "SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id"


@dataclass
class MigrateReport:
    """What `migrate` did: threads copied, with their checkpoints and pending writes, and
    the threads it left alone because the target already had them."""

    threads: int = 0
    checkpoints: int = 0
    writes: int = 0
    skipped_threads: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def migrate(
    source: BaseCheckpointSaver[Any],
    target: HistorySaver,
    thread_ids: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MigrateReport:
    """Copy threads (default: all) from `source`, one of LangGraph's own savers, into
    `target`, keeping thread, checkpoint and parent ids, metadata, channel values and
    pending writes. A thread the target already has is skipped, never overwritten or merged.

    The source is only read, through its public `list()`, so checkpoints are copied as that
    saver loads them: PostgresSaver applies LangGraph's v<4 pending_sends migration on load
    (the sends become the tasks channel), and that migrated form is what gets stored;
    SqliteSaver hands v<4 checkpoints over as stored, `pending_sends` and all, which are kept
    as they are for LangGraph to migrate when it loads them, as it does from SqliteSaver.
    `progress(done, total)` is called after each thread.
    """
    available = source_thread_ids(source)
    if thread_ids is None:
        chosen = available
    else:
        chosen = list(dict.fromkeys(str(t) for t in thread_ids))
        missing = sorted(set(chosen) - set(available))
        if missing:
            raise InvalidConfigError(f"no such thread in the source: {', '.join(missing)}")
    report = MigrateReport()
    for done, thread_id in enumerate(chosen, 1):
        present = next(target.list({"configurable": {"thread_id": thread_id}}, limit=1), None)
        if present is not None:
            report.skipped_threads.append(thread_id)
        else:
            _copy_thread(source, target, thread_id, report)
        if progress is not None:
            progress(done, len(chosen))
    return report


def source_thread_ids(source: BaseCheckpointSaver[Any]) -> list[str]:
    """Every thread id in the source, read with one SQL query where the source is an
    official SQL saver (its `list` would load every checkpoint just to find the ids)."""
    conn = getattr(source, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return [str(row[0]) for row in conn.execute(THREADS_SQL)]
    found = _postgres_thread_ids(conn)
    if found is not None:
        return found
    # Any other saver (an InMemorySaver, say): its list() is the only way in.
    return sorted({str(t.config["configurable"]["thread_id"]) for t in source.list(None)})


def _postgres_thread_ids(conn: Any) -> list[str] | None:
    if type(conn).__module__.split(".")[0] not in ("psycopg", "psycopg_pool"):
        return None  # (so psycopg is imported only where a source uses it)
    import psycopg
    from psycopg.rows import tuple_row
    from psycopg_pool import ConnectionPool

    if isinstance(conn, psycopg.Connection):
        return [str(row[0]) for row in conn.cursor(row_factory=tuple_row).execute(THREADS_SQL)]
    if isinstance(conn, ConnectionPool):
        with conn.connection() as pooled:
            cur = pooled.cursor(row_factory=tuple_row)
            return [str(row[0]) for row in cur.execute(THREADS_SQL)]
    return None


def _copy_thread(
    source: BaseCheckpointSaver[Any], target: HistorySaver, thread_id: str, report: MigrateReport
) -> None:
    tuples = list(source.list({"configurable": {"thread_id": thread_id}}))
    # Oldest first within each subgraph namespace: checkpoint ids are uuid6, time ordered.
    tuples.sort(key=lambda t: (t.config["configurable"]["checkpoint_ns"], _id(t.config)))
    try:
        for item in tuples:
            _copy_checkpoint(target, item)
            report.checkpoints += 1
            report.writes += len(item.pending_writes or ())
    except BaseException:
        # A half-copied thread would be skipped as present by the next run: remove it.
        with suppress(Exception):
            target.delete_thread(thread_id)
        raise
    report.threads += 1


def _copy_checkpoint(target: HistorySaver, item: CheckpointTuple) -> None:
    conf = item.config["configurable"]
    config: RunnableConfig = {
        "configurable": {"thread_id": conf["thread_id"], "checkpoint_ns": conf["checkpoint_ns"]}
    }
    if item.parent_config is not None:
        config["configurable"]["checkpoint_id"] = _id(item.parent_config)
    checkpoint = item.checkpoint
    # Every channel counts as new, so every value is stored (put skips blobs it has).
    # put stores checkpoint["id"] as given, so parents, forks and resumes still line up.
    saved = target.put(config, checkpoint, item.metadata, checkpoint["channel_versions"])
    for task_id, writes in _by_task(item.pending_writes or []):
        target.put_writes(saved, writes, task_id, "")  # the official API hides task_path


def _by_task(pending: list[PendingWrite]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Each task's writes in their original order, special channels (interrupt, resume,
    error...) in a call of their own: regular writes then get back the indexes 0, 1, ...
    they had, which they take from their position in a put_writes call."""
    tasks: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in pending:
        tasks.setdefault(task_id, []).append((channel, value))
    calls = []
    for task_id, writes in tasks.items():
        special = [w for w in writes if is_special(w[0])]
        regular = [w for w in writes if not is_special(w[0])]
        calls += [(task_id, part) for part in (special, regular) if part]
    return calls


def _id(config: RunnableConfig) -> str:
    return str(config["configurable"]["checkpoint_id"])
