"""RetryPolicy: how long to wait after a transient failure, without a database."""

from __future__ import annotations

import pytest

from saver import RetryPolicy
from saver.core.retry import NO_RETRY, retry_policy
from saver.errors import InvalidConfigError


def test_the_default_tries_three_times_within_two_seconds() -> None:
    policy = RetryPolicy()
    first = policy.pause(1, 0.0, draw=lambda: 1.0)
    assert first is not None
    second = policy.pause(2, first, draw=lambda: 1.0)
    assert second is not None
    assert policy.pause(3, first + second, draw=lambda: 1.0) is None
    assert first + second <= 2.0


def test_each_wait_grows_by_the_backoff() -> None:
    policy = RetryPolicy(attempts=5, first_delay=0.1, backoff=2.0, within=100.0)
    waits = [policy.pause(n, 0.0, draw=lambda: 1.0) for n in (1, 2, 3, 4)]
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.8])


def test_a_wait_is_jittered_between_half_and_all_of_its_delay() -> None:
    policy = RetryPolicy(first_delay=1.0, within=100.0)
    assert policy.pause(1, 0.0, draw=lambda: 0.0) == pytest.approx(0.5)
    assert policy.pause(1, 0.0, draw=lambda: 1.0) == pytest.approx(1.0)


def test_no_wait_reaches_past_the_deadline() -> None:
    policy = RetryPolicy(attempts=10, first_delay=1.0, within=2.0)
    assert policy.pause(1, 1.7, draw=lambda: 1.0) == pytest.approx(0.3)
    assert policy.pause(1, 2.0, draw=lambda: 1.0) is None


@pytest.mark.parametrize("value", [None, False, 0, 1])
def test_none_false_or_one_attempt_means_no_retry(value: object) -> None:
    assert retry_policy(value).pause(1, 0.0) is None
    assert retry_policy(value) in (NO_RETRY, RetryPolicy(attempts=1))


def test_a_number_is_the_number_of_attempts() -> None:
    assert retry_policy(5) == RetryPolicy(attempts=5)


@pytest.mark.parametrize("value", ["3", 2.5, [3]])
def test_anything_else_is_refused_naming_retry(value: object) -> None:
    with pytest.raises(InvalidConfigError, match="retry"):
        retry_policy(value)


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"attempts": True}, {"first_delay": -1}, {"within": "2"}]
)
def test_a_policy_with_a_bad_field_is_refused_naming_it(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidConfigError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
