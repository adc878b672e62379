"""The saver as the server's routes call it: each async operation timed into /metrics."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from saver.server import metrics


class TimedSaver:
    def __init__(self, saver: Any) -> None:
        self.saver = saver

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.saver, name)
        if inspect.iscoroutinefunction(found):

            @functools.wraps(found)
            async def timed(*args: Any, **kwargs: Any) -> Any:
                async with metrics.timed(name):
                    return await found(*args, **kwargs)

            setattr(self, name, timed)  # wrapped once
            return timed
        return found
