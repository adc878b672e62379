"""Channel version strings (saver/core/versions.py): short, and only ever growing."""

from __future__ import annotations

from saver.core.versions import base36, counter, next_version

OURS_BEFORE = "0000000042.1f0c9a3e77b2"  # 10 digits and 48 hex bits, as this saver wrote
LANGGRAPH = "0" * 31 + "7.0.123"  # LangGraph's SQL savers


def test_each_version_sorts_after_the_one_before_across_digit_counts() -> None:
    version, seen = None, []
    for _ in range(50_000):
        version = next_version(version)
        seen.append(version)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert [counter(v) for v in seen[:3]] == [1, 2, 3] and counter(seen[-1]) == 50_000


def test_a_version_is_lowercase_letters_and_digits_and_about_fifteen_characters() -> None:
    version = next_version(next_version(None))
    assert version == version.lower() and version.replace(".", "").isalnum()
    assert len(next_version(10**6)) <= 16


def test_two_versions_after_the_same_one_differ() -> None:
    assert len({next_version(OURS_BEFORE) for _ in range(1000)}) == 1000


def test_a_thread_holding_older_versions_moves_on_and_still_grows() -> None:
    after = next_version(OURS_BEFORE)
    assert after > OURS_BEFORE and counter(after) == 43
    assert next_version("9" * 10 + ".fff") > "9" * 10 + ".fff"


def test_langgraph_versions_keep_their_format() -> None:
    after = next_version(LANGGRAPH)
    assert after > LANGGRAPH and len(after.split(".")[0]) == 32 and counter(after) == 8


def test_base36_counts_like_int() -> None:
    assert [int(base36(n), 36) for n in (0, 35, 36, 1295, 1296, 10**12)] == [
        0,
        35,
        36,
        1295,
        1296,
        10**12,
    ]
