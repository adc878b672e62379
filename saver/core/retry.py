"""How long to wait before trying an operation again after a transient failure (a lost
connection, a server restarting, a serialization failure, a lock timeout): no I/O here, the
executors sleep."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from saver.errors import InvalidConfigError


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `attempts` tries in all, the waits between them growing `backoff` times from
    `first_delay` (each drawn between half and all of that, so clients that failed together
    do not come back together), the last try no later than `within` seconds after the first.

    Only operations that are safe to repeat are retried: reads, and writes that are keyed
    or idempotent (puts, pending writes, deletes, cleanup, thread records, doctor's repair),
    so a repeat of one that did commit changes nothing; copy_thread and import_thread are
    not."""

    attempts: int = 3
    first_delay: float = 0.25
    backoff: float = 3.0
    within: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or isinstance(self.attempts, bool):
            raise InvalidConfigError(f"attempts must be an int, got {self.attempts!r}")
        if self.attempts < 1:
            raise InvalidConfigError(f"attempts must be at least 1, got {self.attempts!r}")
        for name in ("first_delay", "backoff", "within"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise InvalidConfigError(f"{name} must be a number >= 0, got {value!r}")

    def pause(self, failed: int, elapsed: float, draw: Any = random.random) -> float | None:
        """Seconds to wait before the next try after `failed` tries that failed, `elapsed`
        seconds after the first began; None when there is no try left."""
        left = self.within - elapsed
        if failed >= self.attempts or left <= 0:
            return None
        delay = self.first_delay * self.backoff ** (failed - 1)
        return min(delay * (0.5 + draw() / 2), left)


NO_RETRY = RetryPolicy(attempts=1)
DEFAULT_RETRY = RetryPolicy()


def retry_policy(value: Any) -> RetryPolicy:
    """The `retry=` argument: a RetryPolicy, a number of attempts, or None/False (no retry)."""
    if value is None or value is False:
        return NO_RETRY
    if isinstance(value, RetryPolicy):
        return value
    if value is True:
        return RetryPolicy()
    if isinstance(value, int):
        return RetryPolicy(attempts=value) if value > 0 else NO_RETRY
    raise InvalidConfigError(
        f"retry must be a RetryPolicy, a number of attempts, or None, got {value!r}"
    )
