"""Sync and async callers of the other kind: written once for every saver class.

`ThreadBridge` gives a sync saver its `a`-methods by running the sync one in a worker thread.
`LoopBridge` gives an async saver sync methods, run on its event loop from another thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

OPERATIONS = (
    "get_tuple",
    "put",
    "put_writes",
    "delete_thread",
    "delete_for_runs",
    "copy_thread",
    "prune",
    "get_delta_channel_history",
)


class ThreadBridge:
    async def alist(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        rows = await asyncio.to_thread(lambda: [*getattr(self, "list")(*args, **kwargs)])  # noqa: B009
        for item in rows:
            yield item


class LoopBridge:
    loop: asyncio.AbstractEventLoop

    def _on_loop(self, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coro.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to an async saver are only allowed from a different thread; "
                "from the main thread use the a-methods (ainvoke, aget_state, ...)"
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def list(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        async def collect() -> list[Any]:
            return [item async for item in getattr(self, "alist")(*args, **kwargs)]  # noqa: B009 (mixin)

        yield from self._on_loop(collect())


def _to_thread(name: str) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self, name), *args, **kwargs)

    method.__name__ = method.__qualname__ = "a" + name
    return method


def _on_loop(name: str) -> Callable[..., Any]:
    def method(self: LoopBridge, *args: Any, **kwargs: Any) -> Any:
        return self._on_loop(getattr(self, "a" + name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = name
    return method


for _name in OPERATIONS:
    setattr(ThreadBridge, "a" + _name, _to_thread(_name))
    setattr(LoopBridge, _name, _on_loop(_name))
