"""Generative parity with LangGraph's InMemorySaver (issue 18).

Hypothesis draws what a user may hand a saver: metadata of every JSON shape (nested dicts and
lists, unicode, NUL, quotes, backslashes, numbers that equal bools), metadata filters made
from that metadata, thread ids and checkpoint namespaces of every kind, forks from older
checkpoints, pending writes on LangGraph's special channels. Every call goes to the saver
under test and to an `InMemorySaver`, and the rule is one:

    the saver answers exactly as InMemorySaver does, or it refuses the input with
    InvalidConfigError, having stored nothing for that call.

Answers are compared whole (config, checkpoint, channel values, metadata, parent config,
pending writes, order) with every scalar's type kept: True is not 1, 1 is not 1.0. Channel
versions are each saver's own (its `get_next_version`), so only their channels compare.

One database per test function; each example writes under a saver namespace of its own, so
no example sees another's threads, `list(None, ...)` included.
`SAVER_HYPOTHESIS_PROFILE=long` runs many more examples, and keeps the failures it finds in
.hypothesis/ to try first next time.
"""

from __future__ import annotations

import itertools
import math
import operator
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

import saver
from saver.errors import InvalidConfigError
from tests.parity import Transcript
from tests.savers._sync.spec_helpers import TABLES, checkpoint_id, config, make_checkpoint
from tests.support import opener

# --- how many examples -------------------------------------------------------------------

COMMON = {
    "deadline": None,
    # One saver serves all examples of a test (each in its own namespace): far cheaper than
    # a database per example, and what the check on function-scoped fixtures warns about.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}
# In the suite: few examples, no database, and a failure reported as found (shrinking one
# can take a minute). `long`: many examples, failures shrunk to a minimal example and kept
# in .hypothesis/ to be tried first next time.
settings.register_profile(
    "saver-ci",
    max_examples=20,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    **COMMON,  # type: ignore[arg-type]
)
settings.register_profile("saver-long", max_examples=400, **COMMON)  # type: ignore[arg-type]
PROFILE = settings.get_profile(
    {"ci": "saver-ci", "long": "saver-long"}[os.environ.get("SAVER_HYPOTHESIS_PROFILE", "ci")]
)


# --- what Hypothesis draws ---------------------------------------------------------------

# Text InMemorySaver can serialise (no lone surrogate), with what SQL and JSON treat specially.
TRICKY_TEXT = ["", "\x00", "a\x00b", "'", '"', "\\", '\\"', "%", "_", "é", "🙂", "null", "1"]
TEXT = st.text(max_size=5) | st.sampled_from(TRICKY_TEXT)
# Ids of every kind: any code point (lone surrogates too), NUL, empty, near-duplicates.
ANY_CHAR = st.characters(exclude_categories=[])
ODD_IDS = ["", "\x00", "a\x00", "a", "A", "a ", "\udcff", "é", "e\u0301", "'", "\\", "🙂"]
ANY_ID = st.text(ANY_CHAR, max_size=4) | st.sampled_from(ODD_IDS)
# Ids the other tests use, so that what they find is about what they test.
PLAIN_ID = st.text("abcxyz-:0123", min_size=1, max_size=4)
PLAIN_NS = st.just("") | st.text("abc:|0123", min_size=1, max_size=5)

KEYS = st.sampled_from(
    ["source", "step", "user", "tags", "owner", "a", 'q"uote', "back\\slash", "it's"]
    + ["nul\x00key", "ünï", "🙂", "", "a.b", "$x", "[0]", "*", "%", "__x"]
) | st.text(max_size=3)


def jsonb_keeps(number: float) -> bool:
    """Whether PostgreSQL's jsonb gives the float back as it was: it keeps a number's
    value, not its spelling, so 1e16 comes back as the integer 10000000000000000 and -0.0
    as 0 (a known difference, left out here)."""
    return not (number.is_integer() and (abs(number) >= 1e16 or math.copysign(1, number) < 0))


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what msgpack, so InMemorySaver, takes
    | st.floats().filter(jsonb_keeps)  # NaN and infinities too (refused in metadata)
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
METADATA = st.dictionaries(KEYS, VALUES, max_size=4)

# Mostly ordinary channels; now and then an odd one (NUL in a channel name is refused).
CHANNELS = st.sampled_from(["a", "a", "b", "b", "messages", "messages", "é", "__x", "", "ch\x00"])
SPECIAL = ["__interrupt__", "__error__", "__scheduled__", "__resume__"]
WRITE_CHANNELS = CHANNELS | st.sampled_from(SPECIAL)
TASK_IDS = st.sampled_from(["task-1", "task-2"]) | PLAIN_ID
TASK_PATHS = st.sampled_from(["", "~__pregel_pull, a", "~__pregel_push, 0", "0"])
# A channel's change at a put: a new value, items appended to its list, or emptied.
UPDATE = (
    st.tuples(st.just("set"), VALUES)
    | st.tuples(st.just("extend"), st.lists(VALUES, min_size=1, max_size=2))
    | st.tuples(st.just("clear"), st.none())
)
# Which checkpoint a put continues: none (a new root), its thread's latest, or an older one.
PARENT = st.none() | st.just("latest") | st.integers(0, 7)


# --- one database per test, a saver namespace per example ----------------------------------


@dataclass
class Store:
    """A saver class's database for one test; `fresh()` gives a saver on it that no earlier
    example wrote to (a saver namespace of its own)."""

    base: Any
    schema: str | None
    made: Iterator[int] = field(default_factory=itertools.count)

    def fresh(self) -> Any:
        namespace = f"example-{next(self.made)}"
        if self.schema is None:
            return saver.SqliteSaver(self.base.conn, namespace=namespace)
        return saver.PostgresSaver(self.base.conn, schema=self.schema, namespace=namespace)

    def rows(self, namespace: str) -> dict[str, list[str]]:
        """Every row of that saver namespace, in every table, read behind the saver's back."""
        if self.schema is not None:  # one round trip: each row as its text
            sql = " UNION ALL ".join(
                f"SELECT '{table}', t::text FROM \"{self.schema}\".{table} t WHERE namespace = %s"
                for table in TABLES
            )
            found = self.base.conn.execute(sql, (namespace,) * len(TABLES)).fetchall()
            return {table: sorted(row for t, row in found if t == table) for table in TABLES}
        return {
            table: sorted(
                map(
                    repr,
                    self.base.conn.execute(
                        f"SELECT * FROM {table} WHERE namespace = ?", (namespace,)
                    ),
                )
            )
            for table in TABLES
        }


@pytest.fixture(params=["SqliteSaver", "PostgresSaver"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    open_saver: Any = opener(request.param, tmp_path, request)
    with open_saver() as base:
        base.setup()
        yield Store(base, open_saver.schema)


# --- comparing answers ---------------------------------------------------------------------


def typed(value: Any) -> Any:
    """`value` with each scalar's type made part of it, so that True and 1, 1 and 1.0, -0.0
    and 0.0 differ as a user sees them differ; lists and tuples differ already."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, int)):
        return (type(value).__name__, value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, tuple):
        return tuple(typed(item) for item in value)
    return (type(value).__name__, repr(value))


def answer(found: CheckpointTuple | None) -> Any:
    """A CheckpointTuple as comparable data: all of it, channel versions reduced to which
    channels have one (their strings are each saver's own)."""
    if found is None:
        return None
    checkpoint: dict[str, Any] = dict(found.checkpoint)
    checkpoint["channel_versions"] = sorted(found.checkpoint["channel_versions"])
    return typed(
        {
            "config": found.config,
            "parent_config": found.parent_config,
            "checkpoint": checkpoint,
            "metadata": found.metadata,
            "pending_writes": found.pending_writes,
        }
    )


def differences(found: Any, expected: Any, path: str = "") -> list[str]:
    """Where `found` (the saver's answer) and `expected` (InMemorySaver's) part."""
    if isinstance(found, dict) and isinstance(expected, dict):
        out = []
        for key in [*expected, *(k for k in found if k not in expected)]:
            if key not in found or key not in expected:
                side = "memory only" if key not in found else "saver only"
                out.append(f"{path}[{key!r}] {side}: {found.get(key, expected.get(key))!r}")
            else:
                out += differences(found[key], expected[key], f"{path}[{key!r}]")
        return out
    if isinstance(found, list) and isinstance(expected, list) and len(found) == len(expected):
        return [
            d
            for n, (f, e) in enumerate(zip(found, expected, strict=True))
            for d in differences(f, e, f"{path}[{n}]")
        ]
    if found != expected:
        return [f"{path or 'answer'}: saver {found!r}, memory {expected!r}"]
    return []


def in_order(found: Iterable[CheckpointTuple]) -> list[Any]:
    return [answer(t) for t in found]


def by_namespace(found: Iterable[CheckpointTuple]) -> dict[tuple[str, str], list[Any]]:
    """A list() across namespaces or threads, as each (thread_id, checkpoint_ns) sees it, in
    order: newest first within one, as every saver promises. Between them InMemorySaver goes
    by which was written first and a SQL saver by checkpoint id; neither is promised."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for t in found:
        conf = t.config["configurable"]
        groups.setdefault((conf["thread_id"], conf["checkpoint_ns"]), []).append(answer(t))
    return groups


@dataclass
class Stored:
    """A checkpoint both savers took: where, its id, its values, each saver's versions."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    values: dict[str, Any]
    versions: dict[str, dict[str, Any]]  # "saver" / "memory": {channel: version}


class Pair:
    """One example's two savers, the saver under test and an InMemorySaver, fed the same
    calls; what both took, and what the saver refused."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.saver = store.fresh()
        self.memory = InMemorySaver()
        self.stored: list[Stored] = []
        self.tried: list[tuple[str, str]] = []  # every (thread_id, checkpoint_ns) put to
        self.refused: list[str] = []
        self.steps = itertools.count(1)

    def write(self, what: str, call: Callable[[str, Any], object]) -> bool:
        """Make a writing call (`call(side, checkpointer)`) on the saver, then, unless the
        saver refused it, on InMemorySaver; a refusal must leave every row as it was."""
        before = self.store.rows(self.saver.namespace)
        try:
            call("saver", self.saver)
        except InvalidConfigError as refusal:
            after = self.store.rows(self.saver.namespace)
            assert after == before, f"{what}: refused, yet rows changed"
            self.refused.append(what)
            event(f"refused {what.split()[0]}: {str(refusal)[:40]}")
            return False
        call("memory", self.memory)
        return True

    def read(self, what: str, call: Callable[[Any], Any]) -> None:
        """Ask both (`call(checkpointer)` returns the answer as data): the saver answers as
        InMemorySaver does, or refuses."""
        expected = call(self.memory)
        try:
            found = call(self.saver)
        except InvalidConfigError as refusal:
            self.refused.append(what)
            event(f"refused {what.split()[0]}: {str(refusal)[:40]}")
            return
        assert found == expected, f"{what}: " + "; ".join(differences(found, expected))

    def get_tuple(self, cfg: RunnableConfig) -> None:
        self.read(f"get_tuple {cfg}", lambda cp: answer(cp.get_tuple(cfg)))

    def listing(self, cfg: RunnableConfig | None, **kwargs: Any) -> None:
        """list(cfg, **kwargs): in order where it names one namespace of one thread, else
        as each namespace sees it (by_namespace)."""
        pinned = cfg is not None and "checkpoint_ns" in cfg["configurable"]
        shape = in_order if pinned else by_namespace
        self.read(f"list {cfg} {kwargs}", lambda cp: shape(cp.list(cfg, **kwargs)))

    # --- writing ---

    def of(self, thread_id: str, checkpoint_ns: str) -> list[Stored]:
        return [
            s for s in self.stored if (s.thread_id, s.checkpoint_ns) == (thread_id, checkpoint_ns)
        ]

    def put(
        self,
        thread_id: str,
        checkpoint_ns: str,
        parent: None | str | int,
        updates: dict[str, tuple[str, Any]],
        metadata: dict[str, Any],
    ) -> Stored | None:
        """Put the next checkpoint after `parent` (None: a new root; "latest"; or the n-th
        stored of this thread and namespace, wrapping round), its channels changed by
        `updates`: ("set", value), ("extend", items) to a list, or ("clear", None)."""
        if (thread_id, checkpoint_ns) not in self.tried:
            self.tried.append((thread_id, checkpoint_ns))
        before = self.of(thread_id, checkpoint_ns)
        after: Stored | None = None
        if before and parent == "latest":
            after = before[-1]
        elif before and isinstance(parent, int):
            after = before[parent % len(before)]
        values = dict(after.values) if after else {}
        for channel, (how, value) in updates.items():
            if how == "clear":
                values.pop(channel, None)
            elif how == "extend":
                previous = values.get(channel)
                values[channel] = (previous if isinstance(previous, list) else []) + value
            else:
                values[channel] = value
        cid = checkpoint_id(next(self.steps))
        versions: dict[str, dict[str, Any]] = {}
        cfg = config(thread_id, checkpoint_ns, after.checkpoint_id if after else None)
        made = make_checkpoint(0, values, {})  # one `ts` for both
        made["id"] = cid
        made["updated_channels"] = sorted(updates)

        def put(side: str, cp: Any) -> None:
            mine = dict(after.versions[side]) if after else {}
            new = {ch: cp.get_next_version(mine.get(ch), None) for ch in updates}
            versions[side] = {**mine, **new}
            cp.put(cfg, {**made, "channel_versions": versions[side]}, metadata, new)

        if not self.write(f"put {cid} to {(thread_id, checkpoint_ns)}", put):
            return None
        self.stored.append(Stored(thread_id, checkpoint_ns, cid, values, versions))
        return self.stored[-1]

    def put_writes(
        self, target: Stored, writes: list[tuple[str, Any]], task_id: str, task_path: str
    ) -> None:
        cfg = config(target.thread_id, target.checkpoint_ns, target.checkpoint_id)
        self.write(
            f"put_writes {writes!r} by {task_id!r} to {target.checkpoint_id}",
            lambda _, cp: cp.put_writes(cfg, writes, task_id, task_path),
        )

    # --- reading ---

    def compare_everything(self) -> None:
        """get_tuple (latest, and of each stored id), list of each namespace, of each thread,
        and of all threads."""
        for thread_id, ns in self.tried:
            cfg = config(thread_id, ns)
            self.get_tuple(cfg)
            self.listing(cfg)
        for s in self.stored:
            cfg = config(s.thread_id, s.checkpoint_ns, s.checkpoint_id)
            self.get_tuple(cfg)
        for thread_id in dict.fromkeys(t for t, _ in self.tried):
            self.listing({"configurable": {"thread_id": thread_id}})
        self.listing(None)

    def close(self) -> None:
        self.saver.close()


@pytest.fixture
def example(store: Store) -> Iterator[Callable[[], Pair]]:
    """`example()`: a Pair for one Hypothesis example (its saver closed after the test)."""
    made: list[Pair] = []

    def start() -> Pair:
        made.append(Pair(store))
        return made[-1]

    yield start
    for pair in made:
        pair.close()


def draw_puts(
    data: st.DataObject,
    pair: Pair,
    threads: list[str],
    namespaces: list[str],
    metadata: st.SearchStrategy[dict[str, Any]],
    most: int,
) -> None:
    for _ in range(data.draw(st.integers(1, most), label="puts")):
        pair.put(
            data.draw(st.sampled_from(threads), label="thread_id"),
            data.draw(st.sampled_from(namespaces), label="checkpoint_ns"),
            data.draw(PARENT, label="parent"),
            data.draw(st.dictionaries(CHANNELS, UPDATE, max_size=3), label="updates"),
            data.draw(metadata, label="metadata"),
        )


STEP_ONLY = st.builds(lambda n: {"source": "loop", "step": n}, st.integers(-1, 5))


# --- the specification ---------------------------------------------------------------------


@PROFILE
@given(data=st.data())
def test_checkpoints_read_back_as_from_memory(
    example: Callable[[], Pair], data: st.DataObject
) -> None:
    """Checkpoints put on new threads, continued, or forked from an older checkpoint, with
    channels set, appended to or emptied, read back (get_tuple latest and by id, list of a
    namespace, of a thread, of all threads) exactly as from InMemorySaver."""
    pair = example()
    threads = data.draw(st.lists(PLAIN_ID, min_size=1, max_size=2, unique=True))
    namespaces = data.draw(st.lists(PLAIN_NS, min_size=1, max_size=2, unique=True))
    draw_puts(data, pair, threads, namespaces, STEP_ONLY, most=6)
    pair.compare_everything()


@PROFILE
@given(data=st.data())
def test_pending_writes_read_back_as_from_memory(
    example: Callable[[], Pair], data: st.DataObject
) -> None:
    """Pending writes, on ordinary and on special channels ("__interrupt__", "__error__",
    ...), by one task or several, again by the same task (an ordinary write is kept as first
    written, a special one replaced), read back with their checkpoint as from InMemorySaver,
    in the same order."""
    pair = example()
    threads = data.draw(st.lists(PLAIN_ID, min_size=1, max_size=2, unique=True))
    draw_puts(data, pair, threads, [""], STEP_ONLY, most=3)
    for _ in range(data.draw(st.integers(1, 5), label="put_writes calls")):
        if not pair.stored:
            break
        pair.put_writes(
            data.draw(st.sampled_from(pair.stored), label="target"),
            data.draw(st.lists(st.tuples(WRITE_CHANNELS, VALUES), max_size=3), label="writes"),
            data.draw(TASK_IDS, label="task_id"),
            data.draw(TASK_PATHS, label="task_path"),
        )
    pair.compare_everything()


def filters_from(data: st.DataObject, stored: list[dict[str, Any]]) -> dict[str, Any]:
    """A filter that often matches: a stored metadata's keys with their values, or with the
    values changed a little (a part of a dict or list, an equal number of another type,
    a NUL added), and keys that are missing (None matches those) or random (any text, lone
    surrogates too: InMemorySaver finds nothing for those)."""
    base = data.draw(st.sampled_from(stored), label="metadata to filter by") if stored else {}
    # A dict in a filter is matched as the SQL savers (and LangGraph's) match it, by
    # containment (tests/savers/_sync/test_list.py); InMemorySaver by ==: left out here.
    plain_keys = sorted(k for k, v in base.items() if not isinstance(v, dict))
    picked = (
        data.draw(st.lists(st.sampled_from(plain_keys), unique=True), label="keys")
        if plain_keys
        else []
    )
    found: dict[str, Any] = {}
    for key in picked:
        value = base[key]
        # A list in a filter is matched as JSON (1.0 is not 1 in it), InMemorySaver's by ==:
        # given only as stored, where both agree.
        plain = not isinstance(value, list)
        changes = ["same", "near", "other"] if plain else ["same"]
        change = data.draw(st.sampled_from(changes), label=f"change {key!r}")
        if change == "near":
            value = data.draw(near(value), label=f"near {value!r}")
        elif change == "other":
            value = data.draw(SCALARS, label="other value")
        found[key] = value
    extra = data.draw(
        st.dictionaries(KEYS | ANY_ID, st.none() | SCALARS | ANY_ID, max_size=1),
        label="more keys",
    )
    return {**found, **{k: v for k, v in extra.items() if k not in found}}


def near(value: Any) -> st.SearchStrategy[Any]:
    """Scalars close to the scalar `value` that a SQL filter could mistake for it, or for
    which it could mistake it."""
    options: list[Any] = []
    if isinstance(value, bool):
        options += [int(value), float(value), str(value).lower(), not value]
    elif isinstance(value, int):
        options += [float(value), str(value), value + 1]
        if value in (0, 1):
            options.append(bool(value))
    elif isinstance(value, float):
        options += [str(value)]
        if value.is_integer():
            options.append(int(value))
    elif isinstance(value, str):
        options += [value + "\x00", value.upper(), value + " ", f'"{value}"']
    elif value is None:
        options += ["null", 0, False, {}]
    return st.sampled_from(options)


@PROFILE
@given(data=st.data())
def test_metadata_filters_select_as_in_memory(
    example: Callable[[], Pair], data: st.DataObject
) -> None:
    """Metadata of any JSON shape is read back as it was put, and a metadata filter (keys
    and values from it, nested, near misses, quote and backslash keys, NUL in values) selects
    the checkpoints InMemorySaver selects: in one namespace, one thread, or all threads."""
    pair = example()
    threads = data.draw(st.lists(PLAIN_ID, min_size=1, max_size=3, unique=True))
    draw_puts(data, pair, threads, ["", "sub:1"], METADATA, most=5)
    metadata = [dict(t.metadata) for t in pair.memory.list(None)]
    for _ in range(data.draw(st.integers(1, 3), label="filters")):
        query = filters_from(data, metadata)
        thread_id, ns = data.draw(st.sampled_from(pair.tried), label="where")
        pair.listing(config(thread_id, ns), filter=query)
        pair.listing({"configurable": {"thread_id": thread_id}}, filter=query)
        pair.listing(None, filter=query)
    pair.listing(None)


@PROFILE
@given(data=st.data())
def test_before_and_limit_page_as_in_memory(
    example: Callable[[], Pair], data: st.DataObject
) -> None:
    """list(before=..., limit=...) returns what InMemorySaver returns: in one namespace the
    first `limit` older than `before` (any id, stored or not; limit 0 or below: nothing), and
    across namespaces and threads the same checkpoints older than `before`."""
    pair = example()
    threads = data.draw(st.lists(PLAIN_ID, min_size=1, max_size=2, unique=True))
    draw_puts(data, pair, threads, ["", "sub:1"], STEP_ONLY, most=6)
    if not pair.stored:
        return
    ids = [s.checkpoint_id for s in pair.stored]
    for _ in range(data.draw(st.integers(1, 3), label="queries")):
        pivot = data.draw(
            st.sampled_from(ids) | st.integers(0, 12).map(checkpoint_id), label="before"
        )
        before = config("any", "", pivot)
        limit = data.draw(st.none() | st.integers(-1, 5), label="limit")
        thread_id, ns = data.draw(st.sampled_from(pair.tried), label="where")
        pair.listing(config(thread_id, ns), before=before, limit=limit)
        pair.listing({"configurable": {"thread_id": thread_id}}, before=before)
        pair.listing(None, before=before)


@PROFILE
@given(data=st.data())
def test_any_ids_are_kept_apart_or_refused(
    example: Callable[[], Pair], data: st.DataObject
) -> None:
    """Thread ids, checkpoint namespaces and task ids of any text (unicode, NUL, lone
    surrogates, empty, differing only in case, a trailing space or normalisation) are kept
    exactly as given and apart from each other, or refused before anything is stored."""
    pair = example()
    places = data.draw(st.lists(st.tuples(ANY_ID, ANY_ID), min_size=1, max_size=4, unique=True))
    for n, (thread_id, ns) in enumerate(places):
        made = pair.put(thread_id, ns, None, {"v": ("set", n)}, {"step": n})
        if made is not None and data.draw(st.booleans(), label="fork"):
            pair.put(thread_id, ns, "latest", {"v": ("set", -n)}, {"step": n})
        if made is not None:
            task_id = data.draw(ANY_ID, label="task_id")
            pair.put_writes(made, [("v", n), ("__interrupt__", task_id)], task_id, "")
    pair.compare_everything()


@PROFILE
@given(data=st.data())
def test_reads_naming_any_id_answer_as_in_memory(
    example: Callable[[], Pair], data: st.DataObject
) -> None:
    """A read that names an id of any text (a thread id, checkpoint namespace, checkpoint id
    or `before` id with NUL, a lone surrogate, ...) answers as InMemorySaver does (mostly:
    nothing there), or is refused: never a driver's or database's error."""
    pair = example()
    draw_puts(data, pair, ["t"], ["", "sub:1"], STEP_ONLY, most=2)
    for _ in range(data.draw(st.integers(1, 3), label="reads")):
        thread_id = data.draw(st.just("t") | ANY_ID, label="thread_id")
        ns = data.draw(st.sampled_from(["", "sub:1"]) | ANY_ID, label="checkpoint_ns")
        ids = [s.checkpoint_id for s in pair.stored]
        cid = data.draw((st.sampled_from(ids) | ANY_ID) if ids else ANY_ID, label="checkpoint_id")
        pivot = config(thread_id, ns, data.draw(ANY_ID, label="before id"))
        pair.get_tuple(config(thread_id, ns, cid))
        pair.listing(config(thread_id, ns, cid))
        pair.listing(config(thread_id, ns))
        pair.listing({"configurable": {"thread_id": thread_id}})
        pair.listing(config(thread_id, ns), before=pivot)
        pair.listing(None, before=pivot)


# --- a real graph --------------------------------------------------------------------------


class Notes(TypedDict, total=False):
    total: int
    log: Annotated[list[str], operator.add]


def count(state: Notes) -> dict[str, Any]:
    return {"total": len(state.get("log", []))}


def ask(state: Notes) -> dict[str, Any]:
    reply = interrupt({"question": "and then?", "last": state["log"][-1]})
    return {"log": [f"answer: {reply}"]}


def route(state: Notes) -> str:
    return "ask" if state.get("total", 0) % 2 == 0 else END


def notes_graph(checkpointer: Any) -> Any:
    builder = StateGraph(Notes)
    builder.add_node("count", count)
    builder.add_node("ask", ask)
    builder.add_edge(START, "count")
    builder.add_conditional_edges("count", route, ["ask", END])
    builder.add_edge("ask", "count")
    return builder.compile(checkpointer=checkpointer)


def run_notes(
    checkpointer: Any, thread_id: str, turns: list[tuple[str, str]], meta: dict[str, Any]
) -> dict[str, Any]:
    """Each turn: a note in; where the graph asks (interrupt), an answer resumes it. What
    the user saw, then the thread's history, with ids as labels (tests/parity.py)."""
    seen = Transcript()
    graph = notes_graph(checkpointer)
    cfg: RunnableConfig = {"configurable": {"thread_id": thread_id}, "metadata": meta}
    for n, (note, reply) in enumerate(turns):
        seen.add(f"turn {n}", graph.invoke({"log": [note]}, cfg))
        if graph.get_state(cfg).next:
            seen.add(f"resume {n}", graph.invoke(Command(resume=reply), cfg))
        seen.add(f"state {n}", graph.get_state(cfg))
    seen.add("history", list(graph.get_state_history(cfg)))
    return seen.entries


GRAPH_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=4)
RUN_METADATA = st.dictionaries(
    st.sampled_from(["user", "attempt", "vip", "score"]),
    st.booleans() | st.integers(-5, 5) | st.floats(-2, 2) | TEXT,
    max_size=2,
)


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 3, 5))
@given(
    thread_id=st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=6),
    turns=st.lists(st.tuples(GRAPH_TEXT, GRAPH_TEXT), min_size=1, max_size=3),
    meta=RUN_METADATA,
)
def test_graph_history_as_in_memory(
    example: Callable[[], Pair],
    thread_id: str,
    turns: list[tuple[str, str]],
    meta: dict[str, Any],
) -> None:
    """A StateGraph that loops and asks (interrupt(), resumed by Command) shows the same
    outputs, state and get_state_history (values, next, tasks, metadata; ids as labels,
    times left out) on the saver as on InMemorySaver."""
    pair = example()
    expected = run_notes(pair.memory, thread_id, turns, meta)
    assert run_notes(pair.saver, thread_id, turns, meta) == expected
