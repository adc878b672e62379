"""saver.retention.policy: validating a RetentionPolicy, reading durations, and `judge`, which
decides from one thread's checkpoints (no database) what a cleanup drops."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from saver.core.lineage import Node
from saver.errors import InvalidConfigError
from saver.retention.policy import RetentionPolicy, Verdict, judge, parse_duration

NOW = 1_800_000_000.0
DAY = 86_400.0


def cid(n: int) -> str:
    """Checkpoint ids that sort by `n`, as uuid6 ids sort by time."""
    return f"1f000000-0000-6000-8000-{n:012d}"


def node(
    n: int,
    parent: int | None,
    *,
    ns: str = "",
    age_days: float = 0.0,
    versions: dict[str, str] | None = None,
    delta: tuple[str, ...] = (),
    root: int | None = None,
) -> Node:
    return Node(
        ns,
        cid(n),
        None if parent is None else cid(parent),
        versions if versions is not None else {"count": str(n)},
        frozenset(delta),
        NOW - age_days * DAY,
        None if root is None else cid(root),
    )


def line(
    first: int, last: int, *, ns: str = "", root: int | None = None, age_days: float = 0.0
) -> list[Node]:
    """Checkpoints first..last, each the parent of the next, all `age_days` old."""
    return [
        node(n, n - 1 if n > first else None, ns=ns, root=root, age_days=age_days)
        for n in range(first, last + 1)
    ]


def decide(
    policy: RetentionPolicy,
    nodes: list[Node],
    stored: list[tuple[str, str, str]] | None = None,
    interrupted: set[tuple[str, str]] | None = None,
) -> Verdict:
    if stored is None:  # every blob a checkpoint names is stored
        stored = [(n.checkpoint_ns, ch, v) for n in nodes for ch, v in n.blob_versions.items()]
    return judge(policy.cutoffs(NOW), nodes, stored, interrupted or set())


def kept(verdict: Verdict, ns: str = "") -> list[str]:
    return sorted(n.checkpoint_id for n in verdict.kept if n.checkpoint_ns == ns)


def dropped(verdict: Verdict, ns: str = "") -> list[str]:
    return sorted(n.checkpoint_id for n in verdict.drop if n.checkpoint_ns == ns)


def ids(*numbers: int) -> list[str]:
    return sorted(cid(n) for n in numbers)


# --- RetentionPolicy validation ----------------------------------------------------------


def test_a_policy_with_every_rule_off_is_empty_and_valid() -> None:
    assert RetentionPolicy().is_empty
    assert not RetentionPolicy(keep_last=1).is_empty


def test_a_policy_with_every_rule_set_is_valid() -> None:
    policy = RetentionPolicy(keep_last=3, max_age=timedelta(days=30), thread_ttl=timedelta(1))
    assert (policy.keep_last, policy.spare_interrupted) == (3, True)


@pytest.mark.parametrize("value", [0, -1, -50])
def test_keep_last_below_one_is_rejected_with_a_pointer_to_thread_ttl(value: int) -> None:
    with pytest.raises(InvalidConfigError, match=rf"keep_last must be at least 1.*got {value}"):
        RetentionPolicy(keep_last=value)
    with pytest.raises(InvalidConfigError, match="thread_ttl"):
        RetentionPolicy(keep_last=value)


@pytest.mark.parametrize("value", [True, False, 2.5, "5", [5]])
def test_keep_last_that_is_not_an_int_is_rejected_naming_the_value(value: Any) -> None:
    with pytest.raises(
        InvalidConfigError, match=re.escape(f"keep_last must be an int, got {value!r}")
    ):
        RetentionPolicy(keep_last=value)


@pytest.mark.parametrize("name", ["max_age", "thread_ttl"])
@pytest.mark.parametrize("value", [30, 2.5, "30d"])
def test_a_duration_that_is_not_a_timedelta_is_rejected(name: str, value: Any) -> None:
    with pytest.raises(
        InvalidConfigError, match=re.escape(f"{name} must be a datetime.timedelta, got {value!r}")
    ):
        RetentionPolicy(**{name: value})


@pytest.mark.parametrize("name", ["max_age", "thread_ttl"])
@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-1), timedelta(days=-30)])
def test_a_zero_or_negative_duration_is_rejected(name: str, value: timedelta) -> None:
    with pytest.raises(
        InvalidConfigError, match=re.escape(f"{name} must be positive, got {value}")
    ):
        RetentionPolicy(**{name: value})


def test_a_policy_error_is_also_a_value_error() -> None:
    with pytest.raises(ValueError):
        RetentionPolicy(keep_last=0)


def test_cutoffs_turn_durations_into_moments_before_now() -> None:
    policy = RetentionPolicy(keep_last=2, max_age=timedelta(days=3), thread_ttl=timedelta(1))
    c = policy.cutoffs(NOW)
    assert (c.keep_last, c.older_than, c.idle_before) == (2, NOW - 3 * DAY, NOW - DAY)
    assert c.spare_interrupted


# --- parse_duration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("1.5h", timedelta(minutes=90)),
        (" 30D ", timedelta(days=30)),
    ],
)
def test_parse_duration_reads_numbers_with_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3y", "abc", "", "   ", "30", "d", "-5d", "1d 12h", "5 days"])
def test_parse_duration_rejects_what_it_cannot_read_naming_the_text(text: str) -> None:
    with pytest.raises(
        InvalidConfigError, match=re.escape(f"cannot read duration {text!r}") + ".*s, m, h, d"
    ):
        parse_duration(text)


def test_a_parsed_duration_makes_a_valid_policy() -> None:
    policy = RetentionPolicy(max_age=parse_duration("30d"), thread_ttl=parse_duration("2w"))
    assert policy.max_age == timedelta(days=30)
    assert policy.thread_ttl == timedelta(days=14)


# --- judge: keep_last and max_age --------------------------------------------------------


def test_judge_of_a_thread_without_checkpoints_drops_nothing() -> None:
    verdict = decide(RetentionPolicy(keep_last=1, thread_ttl=timedelta(1)), [])
    assert (verdict.drop_thread, verdict.drop, verdict.kept) == (False, [], [])


def test_keep_last_keeps_the_newest_checkpoints_and_drops_the_rest() -> None:
    verdict = decide(RetentionPolicy(keep_last=2), line(1, 5))
    assert kept(verdict) == ids(4, 5)
    assert dropped(verdict) == ids(1, 2, 3)
    assert not verdict.drop_thread


def test_kept_and_dropped_together_are_every_checkpoint_once() -> None:
    nodes = line(1, 5) + line(6, 9, ns="tool:a")
    verdict = decide(RetentionPolicy(keep_last=2), nodes)
    assert sorted(verdict.kept + verdict.drop, key=lambda n: n.checkpoint_id) == nodes


def test_keep_last_one_keeps_only_the_head() -> None:
    assert kept(decide(RetentionPolicy(keep_last=1), line(1, 4))) == ids(4)


def test_keep_last_larger_than_the_thread_drops_nothing() -> None:
    verdict = decide(RetentionPolicy(keep_last=10), line(1, 4))
    assert verdict.drop == []


def test_keep_last_counts_each_checkpoint_ns_on_its_own() -> None:
    nodes = line(1, 5) + line(6, 9, ns="tool:a") + line(10, 10, ns="tool:b")
    verdict = decide(RetentionPolicy(keep_last=2), nodes)
    assert kept(verdict) == ids(4, 5)
    assert kept(verdict, "tool:a") == ids(8, 9)
    assert kept(verdict, "tool:b") == ids(10)


def test_keep_last_picks_the_newest_by_id_whatever_the_order_given() -> None:
    nodes = list(reversed(line(1, 5)))
    assert kept(decide(RetentionPolicy(keep_last=2), nodes)) == ids(4, 5)


def test_max_age_drops_checkpoints_older_than_the_cutoff() -> None:
    nodes = [node(1, None, age_days=10), node(2, 1, age_days=5), node(3, 2, age_days=2)]
    nodes.append(node(4, 3, age_days=0.5))
    verdict = decide(RetentionPolicy(max_age=timedelta(days=3)), nodes)
    assert kept(verdict) == ids(3, 4)
    assert dropped(verdict) == ids(1, 2)


def test_max_age_never_drops_the_head_however_old() -> None:
    verdict = decide(RetentionPolicy(max_age=timedelta(days=1)), line(1, 4, age_days=30))
    assert kept(verdict) == ids(4)
    assert not verdict.drop_thread


def test_max_age_never_drops_the_head_of_any_checkpoint_ns() -> None:
    nodes = line(1, 3, age_days=30) + line(4, 6, ns="tool:a", age_days=30)
    verdict = decide(RetentionPolicy(max_age=timedelta(days=1)), nodes)
    assert kept(verdict) == ids(3)
    assert kept(verdict, "tool:a") == ids(6)


def test_keep_last_and_max_age_together_drop_what_either_rule_drops() -> None:
    nodes = [node(n, n - 1 or None, age_days=age) for n, age in enumerate([9, 8, 7, 0.1, 0], 1)]
    verdict = decide(RetentionPolicy(keep_last=4, max_age=timedelta(days=1)), nodes)
    # keep_last alone keeps 2..5, max_age alone keeps 4..5
    assert kept(verdict) == ids(4, 5)


# --- judge: thread_ttl and interrupts ----------------------------------------------------


def test_thread_ttl_drops_a_thread_idle_for_longer_than_the_ttl() -> None:
    nodes = line(1, 3, age_days=10) + line(4, 5, ns="tool:a", age_days=10)
    verdict = decide(RetentionPolicy(thread_ttl=timedelta(days=7)), nodes)
    assert verdict.drop_thread
    assert sorted(n.checkpoint_id for n in verdict.drop) == ids(1, 2, 3, 4, 5)
    assert verdict.kept == []


def test_thread_ttl_keeps_a_thread_written_within_the_ttl() -> None:
    nodes = line(1, 3, age_days=10) + [node(4, 3, age_days=1)]
    verdict = decide(RetentionPolicy(thread_ttl=timedelta(days=7)), nodes)
    assert not verdict.drop_thread
    assert verdict.drop == []


def test_thread_ttl_counts_a_recent_subgraph_checkpoint_as_activity() -> None:
    nodes = line(1, 3, age_days=10) + [node(4, None, ns="child:a", root=3, age_days=1)]
    verdict = decide(RetentionPolicy(thread_ttl=timedelta(days=7)), nodes)
    assert not verdict.drop_thread


def test_thread_ttl_drops_the_whole_thread_even_if_keep_last_would_keep_some() -> None:
    policy = RetentionPolicy(keep_last=10, thread_ttl=timedelta(days=7))
    verdict = decide(policy, line(1, 3, age_days=10))
    assert verdict.drop_thread
    assert len(verdict.drop) == 3


def test_an_idle_thread_waiting_on_an_interrupt_is_spared() -> None:
    nodes = line(1, 3, age_days=30)
    verdict = decide(RetentionPolicy(thread_ttl=timedelta(days=7)), nodes, None, {("", cid(3))})
    assert not verdict.drop_thread
    assert verdict.drop == []


def test_a_spared_thread_is_still_trimmed_by_keep_last() -> None:
    policy = RetentionPolicy(keep_last=1, thread_ttl=timedelta(days=7))
    verdict = decide(policy, line(1, 3, age_days=30), None, {("", cid(3))})
    assert not verdict.drop_thread
    assert kept(verdict) == ids(3)


def test_spare_interrupted_false_drops_an_idle_thread_waiting_on_an_interrupt() -> None:
    policy = RetentionPolicy(thread_ttl=timedelta(days=7), spare_interrupted=False)
    verdict = decide(policy, line(1, 3, age_days=30), None, {("", cid(3))})
    assert verdict.drop_thread
    assert len(verdict.drop) == 3


def test_an_interrupt_on_an_older_checkpoint_does_not_spare_the_thread() -> None:
    """Only the root head's interrupt means the thread still waits; an old one was answered."""
    verdict = decide(
        RetentionPolicy(thread_ttl=timedelta(days=7)), line(1, 3, age_days=30), None, {("", cid(2))}
    )
    assert verdict.drop_thread


# --- judge: DeltaChannel chains ----------------------------------------------------------


def delta_line(snapshot_at: int, last: int) -> tuple[list[Node], list[tuple[str, str, str]]]:
    """Checkpoints 1..last of a DeltaChannel `events`, whose value is stored only at 1 and at
    `snapshot_at`; every other checkpoint replays writes on top of an earlier stored value."""
    nodes, stored = [], []
    for n in range(1, last + 1):
        snapshot = n in (1, snapshot_at)
        versions = {"events": str(n), "count": str(n)}
        nodes.append(
            node(n, n - 1 or None, versions=versions, delta=() if snapshot else ("events",))
        )
        stored.append(("", "count", str(n)))
        if snapshot:
            stored.append(("", "events", str(n)))
    return nodes, stored


def test_a_kept_delta_checkpoint_keeps_its_chain_back_to_a_stored_snapshot() -> None:
    nodes, stored = delta_line(snapshot_at=3, last=7)
    verdict = decide(RetentionPolicy(keep_last=2), nodes, stored)
    assert kept(verdict) == ids(3, 4, 5, 6, 7)
    assert dropped(verdict) == ids(1, 2)


def test_a_kept_checkpoint_that_stores_its_delta_value_needs_no_chain() -> None:
    nodes, stored = delta_line(snapshot_at=6, last=6)
    verdict = decide(RetentionPolicy(keep_last=1), nodes, stored)
    assert kept(verdict) == ids(6)


def test_max_age_also_keeps_the_delta_chain_of_a_kept_head() -> None:
    nodes, stored = delta_line(snapshot_at=2, last=5)
    old = [replace(n, created_at=NOW - 30 * DAY) for n in nodes]
    verdict = decide(RetentionPolicy(max_age=timedelta(days=1)), old, stored)
    assert kept(verdict) == ids(2, 3, 4, 5)
    assert dropped(verdict) == ids(1)


# --- judge: subgraph checkpoints ---------------------------------------------------------


def test_subgraph_checkpoints_are_kept_with_their_root_checkpoint() -> None:
    """keep_last=2 keeps root 4 and 5; the call started at 5 keeps all three of its
    checkpoints, more than keep_last, because the root checkpoint needs them."""
    nodes = line(1, 5) + line(10, 12, ns="child:b", root=5)
    verdict = decide(RetentionPolicy(keep_last=2), nodes)
    assert kept(verdict) == ids(4, 5)
    assert kept(verdict, "child:b") == ids(10, 11, 12)


def test_subgraph_checkpoints_of_an_old_but_kept_root_checkpoint_are_kept() -> None:
    nodes = line(1, 5) + line(10, 12, ns="child:a", root=4)
    verdict = decide(RetentionPolicy(keep_last=2), nodes)
    assert kept(verdict, "child:a") == ids(10, 11, 12)


def test_subgraph_checkpoints_whose_root_checkpoint_is_gone_already_follow_the_rules() -> None:
    nodes = line(1, 5) + line(10, 12, ns="child:x", root=99)
    verdict = decide(RetentionPolicy(keep_last=2), nodes)
    assert kept(verdict, "child:x") == ids(11, 12)


def test_subgraph_checkpoints_are_dropped_with_their_root_checkpoint() -> None:
    """'A subgraph checkpoint lives and dies with the root checkpoint its call started from':
    root 2 goes, so the call that started at 2 goes too, its newest checkpoint included."""
    nodes = line(1, 5) + line(10, 12, ns="child:a", root=2)
    verdict = decide(RetentionPolicy(keep_last=2), nodes)
    assert kept(verdict, "child:a") == []
    assert dropped(verdict, "child:a") == ids(10, 11, 12)
