"""Every hot statement reaches its rows through the index meant for it, on tables of 10⁵
checkpoints that were bulk-loaded and never analyzed, analyzed after, or analyzed while a
hundred times smaller, whatever plan the database may cache.

The statements are the ones the saver really runs (recorded as they go by), EXPLAINed on
PostgreSQL both as custom plans (planned for their values) and as the generic plan a prepared
statement may switch to, and on SQLite with EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import operator
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import psycopg
import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from psycopg import sql
from typing_extensions import TypedDict

from saver import PostgresSaver, RetentionPolicy, SqliteSaver
from saver.core import plans
from saver.dialects.base import Stmt
from tests.pg import partition_by_thread, server_url
from tests.support import drop_schema

CHECKPOINTS = 100_000
TURNS = 10  # each turn writes 3 checkpoints: input, start, the model's reply
TABLES = ("history_checkpoints", "history_blobs", "history_writes", "history_threads")
PK = {  # a partition's indexes are named after the partition: history_checkpoints_p0_pkey
    "postgres": r"history_checkpoints(_p\d+)?_pkey",
    "sqlite": "sqlite_autoindex_history_checkpoints_1",
}
PARTITIONS = 4


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    turns: Annotated[int, operator.add]


def reply(state: Chat) -> dict[str, Any]:
    return {"messages": [AIMessage(f"reply {len(state['messages'])}")], "turns": 1}


def chat(saver: Any) -> Any:
    builder = StateGraph(Chat)
    builder.add_node("model", reply)
    builder.add_edge(START, "model")
    return builder.compile(checkpointer=saver)


def run_config(n: int) -> dict[str, Any]:
    return {"configurable": {"thread_id": f"t-{n:07d}"}, "metadata": {"user_id": f"u-{n}"}}


def recording(plan: plans.Plan[Any], seen: list[Stmt]) -> plans.Plan[Any]:
    """The plan, unchanged, with each statement it issues kept in `seen`."""
    try:
        stmt = next(plan)
        while True:
            seen.append(stmt)
            stmt = plan.send((yield stmt))
    except StopIteration as done:
        return done.value


class Recording:
    """Mixin: keeps the statements of every call in `seen`."""

    seen: list[Stmt]

    def _execute(self, plan: plans.Plan[Any], mode: str) -> Any:
        return super()._execute(recording(plan, self.seen), mode)  # type: ignore[misc]


class RecordingSqliteSaver(Recording, SqliteSaver):
    pass


class RecordingPostgresSaver(Recording, PostgresSaver):
    pass


def partitions_of(raw: psycopg.Connection[Any], schema: str) -> list[str]:
    found = raw.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relispartition AND c.relkind = 'r'",
        (schema,),
    )
    return [r[0] for r in found]


@dataclass
class Loaded:
    """A saver on a database of CHECKPOINTS checkpoints, and how to EXPLAIN on it."""

    backend: str
    saver: Any
    explain: Callable[[Stmt], list[str]]
    run: Callable[[Stmt], list[str]] | None = None  # EXPLAIN ANALYZE, rolled back
    seen: list[Stmt] = field(default_factory=list)


def copy_threads(columns: dict[str, list[str]], with_user: str) -> list[str]:
    """INSERT ... SELECT per table: thread 0's rows again as the threads numbered from the
    first parameter to the second, each with its own user_id in its metadata."""
    out = []
    for table, cols in columns.items():
        as_copy = {"thread_id": "'t-' || (1000000 + s.n)", "metadata": with_user}
        values = [as_copy.get(c, c) for c in cols]
        out.append(
            "WITH RECURSIVE s(n) AS (SELECT CAST(? AS INTEGER) UNION ALL "
            "SELECT n + 1 FROM s WHERE n < CAST(? AS INTEGER)) "
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(values)} "
            f"FROM {table} CROSS JOIN s WHERE thread_id = 't-0000000'"
        )
    return out


def fill(
    saver: Any,
    execute: Callable[[str, tuple[Any, ...]], list[Any]],
    with_user: str,
    analyze: str,
) -> None:
    """`analyze`: "" never, "after" the load, or "early": once at 10³ checkpoints, so the
    planner's statistics describe a table a hundred times smaller than the one it plans for."""
    graph = chat(saver)
    for turn in range(TURNS):
        graph.invoke({"messages": [HumanMessage(f"turn {turn}")]}, run_config(0))
    columns = {
        table: [r[0] for r in execute(f"SELECT * FROM {table} LIMIT 0", ())]  # names only
        for table in TABLES
    }
    threads = CHECKPOINTS // (3 * TURNS)
    early = 1000 // (3 * TURNS)
    if analyze == "early":
        for statement in copy_threads(columns, with_user):
            execute(statement, (1, early - 1))
        execute("ANALYZE", ())
    for first in range(early if analyze == "early" else 1, threads, 1000):
        for statement in copy_threads(columns, with_user):
            execute(statement, (first, min(threads, first + 1000) - 1))
    if analyze == "after":
        execute("ANALYZE", ())


@contextmanager
def sqlite_loaded(folder: Path, analyze: str) -> Iterator[Loaded]:
    path = folder / "history.sqlite"
    raw = sqlite3.connect(path)

    def execute(statement: str, params: tuple[Any, ...]) -> list[Any]:
        cur = raw.execute(statement, params)
        names = [d[0] for d in cur.description or ()]
        rows = cur.fetchall()
        raw.commit()
        return [(n,) for n in names] if statement.endswith("LIMIT 0") else rows

    def explain(stmt: Stmt) -> list[str]:
        params = stmt.params[0] if stmt.many else stmt.params
        return [r[3] for r in raw.execute(f"EXPLAIN QUERY PLAN {stmt.sql}", params)]

    with RecordingSqliteSaver.from_conn_string(str(path), indexed_metadata=["user_id"]) as saver:
        saver.seen = []
        fill(saver, execute, "json_set(metadata, '$.user_id', 'u-' || s.n)", analyze)
        yield Loaded("sqlite", saver, explain)
    raw.close()


@contextmanager
def postgres_loaded(analyze: str, partitioned: bool) -> Iterator[Loaded]:
    url, schema = server_url(), f"scale_{uuid.uuid4().hex[:12]}"
    if partitioned:
        partition_by_thread(url, schema, PARTITIONS)
    raw = psycopg.connect(url, autocommit=True, prepare_threshold=None)
    with RecordingPostgresSaver.from_conn_string(url, schema=schema) as saver:
        saver.seen = []
        saver.setup()
        raw.execute(f'SET search_path TO "{schema}"')
        for table in partitions_of(raw, schema) or TABLES:  # no statistics but the test's
            raw.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")

        def execute(statement: str, params: tuple[Any, ...]) -> list[Any]:
            cur = raw.execute(statement.replace("?", "%s"), params)
            if statement.endswith("LIMIT 0"):
                return [(d.name,) for d in cur.description or ()]
            return cur.fetchall() if cur.description else []

        with_user = "jsonb_set(metadata, '{user_id}', to_jsonb('u-' || s.n))"
        fill(saver, execute, with_user, analyze)

        def explain(stmt: Stmt) -> list[str]:
            params = stmt.params[0] if stmt.many else stmt.params
            custom = raw.execute(f"EXPLAIN {stmt.sql}", params or None).fetchall()
            # The generic plan a prepared statement may switch to after five runs. (One made
            # on empty tables reads them whole, rightly: the executor plans again as they
            # grow, tests/postgres/test_replan.py.)
            numbered = iter(range(1, 1 + len(params or ())))
            text = re.sub("%s", lambda _: f"${next(numbered)}", stmt.sql)
            raw.execute("PREPARE hot AS " + text)
            try:
                raw.execute("SET plan_cache_mode = force_generic_plan")
                args = sql.SQL(", ").join(map(sql.Literal, params or ())).as_string(raw)
                found = raw.execute(
                    f"EXPLAIN EXECUTE hot({args})" if params else "EXPLAIN EXECUTE hot"
                )
                generic = [r[0] for r in found]
            finally:
                raw.execute("RESET plan_cache_mode")
                raw.execute("DEALLOCATE hot")
            return [r[0] for r in custom] + generic

        def run(stmt: Stmt) -> list[str]:
            params = stmt.params[0] if stmt.many else stmt.params
            with raw.transaction(force_rollback=True):
                found = raw.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {stmt.sql}", params or None)
                return [r[0] for r in found]

        yield Loaded("postgres", saver, explain, run if partitioned else None)
    raw.close()
    drop_schema(url, schema)


KINDS = [
    "sqlite",
    "sqlite, analyzed",
    "sqlite, analyzed early",
    "postgres",
    "postgres, analyzed",
    "postgres, analyzed early",
    "postgres, partitioned",
]


@pytest.fixture(scope="module", params=KINDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    analyze = {"analyzed": "after", "early": "early"}.get(request.param.split()[-1], "")
    if request.param.startswith("sqlite"):
        database = sqlite_loaded(tmp_path_factory.mktemp("scale"), analyze)
    else:
        database = postgres_loaded(analyze, partitioned=request.param.endswith("partitioned"))
    with database as found:
        yield found


def queries(seen: list[Stmt]) -> list[Stmt]:
    return [s for s in seen if re.match(r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE)", s.sql)]


def full_scans(backend: str, plan: list[str], walk: bool = False) -> list[str]:
    """Lines of `plan` that read a whole table of ours, or enter an index of checkpoints by
    namespace alone (every thread's rows); unless `walk`: a newest-first walk of all threads
    that the statement's LIMIT stops, which it means to do."""
    if backend == "postgres":
        whole = r"Seq Scan on (\w+\.)?(" + "|".join(TABLES) + r")(_p\d+)?\b"
        by_namespace = r"^Index Cond: \(namespace = [^()]*\)$"
    else:
        whole = r"^SCAN (" + "|".join(TABLES) + r")\b"
        by_namespace = r"INDEX history_checkpoints_namespace_id \(namespace=\?\)$"
    walks = r"^SCAN history_threads USING INDEX history_threads_last_at$"
    found = [line.strip() for line in plan if re.search(whole, line.strip())]
    if walk:
        return [line for line in found if not re.search(walks, line)]
    return found + [line.strip() for line in plan if re.search(by_namespace, line.strip())]


def plans_of(loaded: Loaded, call: Callable[[Any], Any]) -> list[tuple[Stmt, list[str]]]:
    loaded.saver.seen.clear()
    call(loaded.saver)
    seen = list({s.sql: s for s in queries(loaded.saver.seen)}.values())  # each text once
    assert seen, "the call ran no statement"
    return [(stmt, loaded.explain(stmt)) for stmt in seen]


def assert_by_index(
    loaded: Loaded, call: Callable[[Any], Any], index: str | None, walk: bool = False
) -> None:
    found = plans_of(loaded, call)
    for stmt, plan in found:
        text = "\n".join(plan)
        full = full_scans(loaded.backend, plan, walk)
        assert not full, f"full scan in:\n{stmt.sql}\n{text}"
        # Compiling takes tens of milliseconds: a statement whose estimates pass
        # jit_above_cost must say so, and the executor runs it with JIT off.
        compiled = "JIT:" in text and not stmt.jit_off
        assert not compiled, f"JIT compiled:\n{stmt.sql}\n{text}"
    if index is not None:
        first = "\n".join(found[0][1])
        assert re.search(index, first), f"{index} not used by:\n{found[0][0].sql}\n{first}"


def test_get_tuple_reads_the_thread_by_primary_key(loaded: Loaded) -> None:
    assert_by_index(loaded, lambda s: s.get_tuple(run_config(0)), PK[loaded.backend])


def test_list_page_reads_the_thread_by_primary_key(loaded: Loaded) -> None:
    assert_by_index(loaded, lambda s: list(s.list(run_config(0), limit=10)), PK[loaded.backend])


def test_whole_history_reads_the_thread_by_primary_key(loaded: Loaded) -> None:
    assert_by_index(loaded, lambda s: list(s.list(run_config(0))), PK[loaded.backend])


def test_a_turn_puts_and_writes_by_primary_key(loaded: Loaded) -> None:
    turn = {"messages": [HumanMessage("one more")]}
    assert_by_index(loaded, lambda s: chat(s).invoke(turn, run_config(1)), None)


def test_list_threads_reads_a_page_of_the_newest_index(loaded: Loaded) -> None:
    # A walk of the newest-first index that stops at the limit. (A page smaller than the
    # planner's guess of the rows of a partition never analyzed, which is in proportion to its
    # size: each partition here holds a few hundred threads, guessed at a few.)
    call = lambda s: s.list_threads(limit=5)  # noqa: E731
    assert_by_index(loaded, call, "history_threads_.*last_at", walk=True)


def test_filtered_list_reads_the_metadata_index(loaded: Loaded) -> None:
    # SQLite: the index setup() made for the key (indexed_metadata); PostgreSQL: GIN.
    index = {"postgres": "history_checkpoints_.*metadata", "sqlite": "history_metadata_"}
    call = lambda s: list(s.list(None, filter={"user_id": "u-0"}, limit=10))  # noqa: E731
    assert_by_index(loaded, call, index[loaded.backend])


def test_filtered_list_on_a_key_without_index_walks_newest_first(loaded: Loaded) -> None:
    # SQLite has no index over other JSON values: it walks the namespace newest first and
    # stops at the limit, so its cost is the number of rows newer than the tenth match.
    index = {"postgres": "history_checkpoints_.*metadata", "sqlite": None}[loaded.backend]
    call = lambda s: list(s.list(None, filter={"source": "input"}, limit=10))  # noqa: E731
    assert_by_index(loaded, call, index, walk=loaded.backend == "sqlite")


def test_cleanup_reads_candidates_by_index(loaded: Loaded) -> None:
    policy = RetentionPolicy(keep_last=5)
    assert_by_index(loaded, lambda s: s.cleanup(policy, dry_run=True, batch_size=100), None)


PER_THREAD = {
    "get_tuple": lambda s: s.get_tuple(run_config(0)),
    "list page": lambda s: list(s.list(run_config(0), limit=10)),
    "turn": lambda s: chat(s).invoke({"messages": [HumanMessage("more")]}, run_config(2)),
}


@pytest.mark.parametrize("loaded", ["postgres, partitioned"], indirect=True)
@pytest.mark.parametrize("call", PER_THREAD)
def test_per_thread_statements_touch_one_partition_of_each_table(loaded: Loaded, call: str) -> None:
    assert loaded.run is not None
    loaded.saver.seen.clear()
    PER_THREAD[call](loaded.saver)
    for stmt in queries(loaded.saver.seen):
        plan = loaded.run(stmt)
        touched: dict[str, set[str]] = {}
        for line in plan:
            found = re.search(r"\bon (history_\w+)_p(\d+)\b", line)
            if found and "never executed" not in line:
                touched.setdefault(found.group(1), set()).add(found.group(2))
        text = "\n".join(plan)
        assert all(len(p) == 1 for p in touched.values()), f"{stmt.sql}\n{text}"
