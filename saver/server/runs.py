"""Runs: a graph executed on a thread by this server process, one run per thread at a time.

A run holds its thread through the saver's lease (`claim_thread`): every process sharing the
database sees the thread `busy` and refuses or queues a second run, as `multitask_strategy`
says. The lease is renewed while the run lives; if the process dies, the lease runs out
unreleased and the thread reads `error` (core/status.py) until a new run takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import HTTPException
from langgraph.types import Command

from saver.errors import StorageError
from saver.server import metrics, wire
from saver.server.graphs import Assistant

log = logging.getLogger("saver.server")

STRATEGIES = ("reject", "enqueue", "interrupt", "rollback")
# Stream modes a client may ask for, and the LangGraph mode each is read from.
STREAM_MODES = {
    "values": "values",
    "updates": "updates",
    "messages-tuple": "messages",
    "messages": "messages",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
}
POLL = 0.2  # seconds between claims while another process's run holds the thread
KEPT_RUNS = 1000  # finished runs this process remembers for runs.get / runs.list
END = ("end", None)


@dataclass
class Run:
    run_id: str
    thread_id: str
    assistant: Assistant
    body: dict[str, Any]
    strategy: str
    metadata: dict[str, Any]
    status: str = "pending"  # pending, running, success, error, interrupted
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    updated_at: str = ""
    result: Any = None
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    listeners: list[asyncio.Queue[tuple[str, Any]]] = field(default_factory=list)
    done_callbacks: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    started: bool = False  # its task began: its own `finally` will finish it
    lost: bool = False  # another run took its thread (its lease ran out)
    rollback: bool = False  # on cancel, delete what it wrote (before letting the thread go)
    finishing: asyncio.Task[None] | None = None

    def as_dict(self) -> dict[str, Any]:
        kwargs = {k: self.body.get(k) for k in ("input", "command", "config", "context")}
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant.assistant_id,
            "metadata": self.metadata,
            "status": self.status,
            "kwargs": (
                {
                    **kwargs,
                    "stream_mode": self.body.get("stream_mode") or ["values"],
                    "interrupt_before": self.body.get("interrupt_before"),
                    "interrupt_after": self.body.get("interrupt_after"),
                    "subgraphs": bool(self.body.get("stream_subgraphs")),
                }
            ),
            "multitask_strategy": self.strategy,
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
        }

    def listen(self) -> asyncio.Queue[tuple[str, Any]]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        if self.done.is_set():
            queue.put_nowait(END)
        else:
            self.listeners.append(queue)
        return queue

    def publish(self, event: str, data: Any) -> None:
        for queue in self.listeners:
            queue.put_nowait((event, data))


def checked(body: Mapping[str, Any]) -> str:
    """A run request's fields, checked before anything is written (422 naming the field);
    its multitask strategy."""
    strategy = body.get("multitask_strategy") or "enqueue"
    if strategy not in STRATEGIES:
        raise HTTPException(422, detail=f"multitask_strategy must be one of {list(STRATEGIES)}")
    stream_modes(body)
    graph_input(body)
    for name in ("config", "checkpoint", "metadata", "context"):
        if body.get(name) is not None and not isinstance(body[name], Mapping):
            raise HTTPException(422, detail=f"{name} must be an object")
    for name in ("configurable", "metadata"):
        part = (body.get("config") or {}).get(name)
        if part is not None and not isinstance(part, Mapping):
            raise HTTPException(422, detail=f"config.{name} must be an object")
    for name in ("interrupt_before", "interrupt_after"):
        nodes = body.get(name)
        if (
            nodes is not None
            and nodes != "*"
            and not (isinstance(nodes, list) and all(isinstance(n, str) for n in nodes))
        ):
            raise HTTPException(422, detail=f'{name} must be "*" or a list of node names')
    return str(strategy)


def stream_modes(body: Mapping[str, Any]) -> list[str]:
    asked = body.get("stream_mode") or ["values"]
    modes = [asked] if isinstance(asked, str) else asked
    if not isinstance(modes, list) or not modes:
        raise HTTPException(422, detail="stream_mode must be a mode or a list of modes")
    for mode in modes:
        if not isinstance(mode, str) or mode not in STREAM_MODES:
            raise HTTPException(
                422, detail=f"stream_mode: {mode!r} is not one of {sorted(STREAM_MODES)}"
            )
    return modes


def graph_input(body: Mapping[str, Any]) -> Any:
    command = body.get("command")
    if command is None:
        return body.get("input")
    if not isinstance(command, Mapping):
        raise HTTPException(422, detail="command must be an object (resume, update, goto)")
    unknown = set(command) - {"resume", "update", "goto"}
    if unknown:
        raise HTTPException(422, detail=f"command: unknown keys {sorted(unknown)}")
    return Command(
        resume=command.get("resume"), update=command.get("update"), goto=command.get("goto", ())
    )


def run_config(run: Run) -> dict[str, Any]:
    given = run.body.get("config") or {}
    if not isinstance(given, Mapping):
        raise HTTPException(422, detail="config must be an object")
    configurable = dict(given.get("configurable") or {})
    configurable.update(thread_id=run.thread_id, run_id=run.run_id)
    checkpoint = run.body.get("checkpoint") or {}
    checkpoint_id = run.body.get("checkpoint_id") or checkpoint.get("checkpoint_id")
    if checkpoint_id:  # replay (input None) or fork (new input) from an old step
        configurable["checkpoint_id"] = checkpoint_id
        configurable["checkpoint_ns"] = checkpoint.get("checkpoint_ns", "")
    config: dict[str, Any] = {k: v for k, v in given.items() if k != "configurable"}
    config["configurable"] = configurable
    config["metadata"] = {**(given.get("metadata") or {}), **run.metadata, "run_id": run.run_id}
    if run.body.get("context") is not None:
        config["context"] = run.body["context"]
    return config


class Runs:
    """This process's runs, over the saver shared with every other process."""

    def __init__(self, saver: Any, lease: float = 30.0) -> None:
        self.saver = saver
        self.lease = lease
        self.runs: dict[str, Run] = {}
        self._freed = asyncio.Condition()

    async def start(
        self, thread_id: str, assistant: Assistant, body: dict[str, Any], metadata: dict[str, Any]
    ) -> Run:
        strategy = checked(body)
        run = Run(str(uuid.uuid4()), thread_id, assistant, body, strategy, metadata)
        claimed = await self.saver.aclaim_thread(thread_id, run.run_id, lease=self.lease)
        if not claimed:
            if strategy == "reject":
                raise HTTPException(
                    409,
                    detail="Thread is already running a task. Wait for it to finish or "
                    "choose a different multitask strategy.",
                )
            if strategy in ("interrupt", "rollback"):
                await self._stop_holder(thread_id, rollback=strategy == "rollback")
        self._remember(run)
        run.task = asyncio.create_task(self._execute(run, claimed))
        return run

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def of_thread(self, thread_id: str) -> list[Run]:
        return [r for r in reversed(self.runs.values()) if r.thread_id == thread_id]

    async def cancel(self, run: Run, *, rollback: bool = False) -> None:
        """Stop the run (again: wait for it to have stopped); `rollback` deletes what it
        wrote before its thread is let go."""
        run.rollback = run.rollback or rollback
        if run.task is not None and not run.task.done():
            run.task.cancel()
        if not run.started:  # cancelled before it began: nothing of its own will finish it
            run.status = "interrupted"
            self._finish(run)
        await run.done.wait()

    async def close(self) -> None:
        """Stop this process's runs and let their threads go (the server is shutting down)."""
        for run in list(self.runs.values()):
            await self.cancel(run)

    async def elsewhere(self, thread_id: str, run_id: str) -> dict[str, Any] | None:
        """A run this process does not know (another worker's, another server's), as far as
        the database tells: running while it holds the thread, `error` if its lease ran out
        unreleased, done once a checkpoint carries its id; None if nothing shows it yet."""
        info = await self.saver.aget_thread(thread_id)
        if info is None:
            return None
        config = wire.config_of(thread_id)
        found = [t async for t in self.saver.alist(config, filter={"run_id": run_id}, limit=1)]
        if info.run_id == run_id:
            status = "running" if info.status == "busy" else "error"
        elif not found:
            return None
        else:
            last = found[0].config["configurable"]["checkpoint_id"]
            status = "error" if info.status == "error" and last == info.head_id else "success"
        metadata = found[0].metadata if found else {}
        at = found[0].checkpoint["ts"] if found else None
        return {
            "run_id": run_id,
            "thread_id": thread_id,
            "assistant_id": metadata.get("assistant_id"),
            "metadata": {k: metadata[k] for k in ("graph_id", "assistant_id") if k in metadata},
            "status": status,
            "kwargs": {},
            "multitask_strategy": None,
            "created_at": at,
            "updated_at": at,
        }

    async def wait_released(self, thread_id: str, run_id: str) -> None:
        """Until `run_id` (maybe another process's) no longer holds the thread."""
        while True:
            found = await self.saver.aget_thread(thread_id)
            if found is None or found.run_id != run_id or found.status != "busy":
                return
            await self._freed_or_poll()

    # --- a run's life ---------------------------------------------------------------------

    def _remember(self, run: Run) -> None:
        self.runs[run.run_id] = run
        while len(self.runs) > KEPT_RUNS:
            oldest = next(iter(self.runs.values()))
            if not oldest.done.is_set():
                break
            del self.runs[oldest.run_id]

    async def _stop_holder(self, thread_id: str, rollback: bool) -> None:
        for other in self.of_thread(thread_id):
            if other.status == "running":
                await self.cancel(other, rollback=rollback)

    async def _claim(self, run: Run) -> None:
        while not await self.saver.aclaim_thread(run.thread_id, run.run_id, lease=self.lease):
            await self._freed_or_poll()

    async def _freed_or_poll(self) -> None:
        """Until a run of this process lets a thread go, or POLL seconds (another process's
        run lets go of its thread without a word to this one)."""
        async with self._freed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._freed.wait(), POLL)

    async def _renew(self, run: Run) -> None:
        """Extend the run's lease while it lives; a run whose lease another run took stops
        (two runs never write one thread), a failed renewal is tried again."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                held = await self.saver.aclaim_thread(run.thread_id, run.run_id, lease=self.lease)
            except Exception as e:
                log.warning("run %s: renewing its lease failed (%s)", run.run_id, type(e).__name__)
                continue
            if not held:
                log.warning("run %s lost its thread to another run: stopping it", run.run_id)
                run.lost = True
                if run.task is not None:
                    run.task.cancel()
                return

    async def _execute(self, run: Run, claimed: bool) -> None:
        run.started = True
        renew: asyncio.Task[None] | None = None
        try:
            if not claimed:
                await self._claim(run)
            renew = asyncio.create_task(self._renew(run))
            run.status = "running"
            run.result = await self._stream(run)
            run.status = "success"
        except asyncio.CancelledError:
            run.status = "error" if run.lost else "interrupted"
        except Exception as e:  # the run's failure is its result, not the server's
            run.status = "error"
            run.result = {"__error__": failure(e)}
            run.publish("error", run.result["__error__"])
        finally:
            if renew is not None:
                renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._finish(run))

    def _finish(self, run: Run) -> asyncio.Task[None]:
        """Let the run's thread go and tell whoever waits on it, once, whatever cancels what:
        a task of its own, which a second cancel cannot stop half way."""
        if run.finishing is None:
            run.finishing = asyncio.create_task(self._finished(run))
        return run.finishing

    async def _finished(self, run: Run) -> None:
        run.updated_at = datetime.now(timezone.utc).isoformat()
        try:
            if run.rollback:
                await self.saver.adelete_for_runs([run.run_id])
            if not run.lost:
                await self.saver.arelease_thread(run.thread_id, run.run_id)
            for callback in run.done_callbacks:
                await callback()
        except Exception as e:  # the lease runs out by itself; the run is over either way
            log.warning("run %s: letting its thread go failed (%s)", run.run_id, type(e).__name__)
        finally:
            metrics.run_finished(run.status)
            run.done.set()
            run.publish(*END)
            run.listeners.clear()
            async with self._freed:
                self._freed.notify_all()

    async def _stream(self, run: Run) -> dict[str, Any]:
        asked = stream_modes(run.body)
        modes = sorted({STREAM_MODES[m] for m in asked} | {"values", "updates"})
        wanted = {STREAM_MODES[m]: m for m in asked}
        last: dict[str, Any] = {}
        interrupts: list[Any] = []
        started = time.perf_counter()
        graph: Any = run.assistant.graph  # stream modes are checked above, not by type
        try:
            async for ns, mode, chunk in graph.astream(
                graph_input(run.body),
                run_config(run),
                stream_mode=modes,
                subgraphs=True,
                interrupt_before=run.body.get("interrupt_before"),
                interrupt_after=run.body.get("interrupt_after"),
            ):
                root = not ns
                if root and mode == "values":
                    last = wire.visible(chunk)
                if root and mode == "updates" and isinstance(chunk, Mapping):
                    interrupts.extend(chunk.get("__interrupt__") or ())
                if mode not in wanted or (not root and not run.body.get("stream_subgraphs")):
                    continue
                name = mode if root else f"{mode}|{'|'.join(ns)}"
                data = wire.visible(chunk) if mode == "values" else chunk
                run.publish(name, list(data) if mode == "messages" else data)
        finally:
            log.info("run %s took %.3f s", run.run_id, time.perf_counter() - started)
        if interrupts:
            return {**last, "__interrupt__": interrupts}
        return last


def failure(e: BaseException) -> dict[str, str]:
    """What a client is told of a run that raised: the graph's own error as it said it; the
    storage's only by its kind (its text may name a host or a database)."""
    if isinstance(e, StorageError):
        return {"error": type(e).__name__, "message": "the database failed during the run"}
    return {"error": type(e).__name__, "message": str(e)[:2000]}


async def events(run: Run, queue: asyncio.Queue[tuple[str, Any]]) -> AsyncIterator[bytes]:
    """A run's events as server-sent events: its metadata first, then what it streams. A
    client that goes away stops listening; the run goes on."""
    try:
        yield sse("metadata", {"run_id": run.run_id, "attempt": 1})
        while True:
            event, data = await queue.get()
            if (event, data) == END:
                return
            yield sse(event, data)
    finally:
        if queue in run.listeners:
            run.listeners.remove(queue)


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + wire.dumps(data) + b"\n\n"
