"""Reading ids out of a LangGraph config, with errors that say what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from saver.errors import InvalidConfigError


@dataclass(frozen=True)
class Target:
    """Where a checkpoint lives: one saver namespace, one thread, one subgraph path."""

    namespace: str
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None


def configurable(config: RunnableConfig | None, what: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise InvalidConfigError(f"{what} needs a config dict, got {type(config).__name__}")
    conf = config.get("configurable")
    if not isinstance(conf, dict):
        raise InvalidConfigError(
            f"{what} needs config['configurable'] with a 'thread_id'; "
            "pass {'configurable': {'thread_id': ...}}"
        )
    return conf


def thread_id_of(value: Any, what: str) -> str:
    if value is None or value == "":
        raise InvalidConfigError(
            f"{what} needs a thread_id: pass config={{'configurable': {{'thread_id': ...}}}}"
        )
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InvalidConfigError(f"{what}: thread_id must be a str or int, got {value!r}")
    return str(value)


def target(namespace: str, config: RunnableConfig, what: str) -> Target:
    conf = configurable(config, what)
    ns = conf.get("checkpoint_ns") or ""
    if not isinstance(ns, str):
        raise InvalidConfigError(f"{what}: checkpoint_ns must be a str, got {ns!r}")
    checkpoint_id = conf.get("checkpoint_id") or None
    if checkpoint_id is not None and not isinstance(checkpoint_id, str):
        raise InvalidConfigError(f"{what}: checkpoint_id must be a str, got {checkpoint_id!r}")
    return Target(namespace, thread_id_of(conf.get("thread_id"), what), ns, checkpoint_id)


def thread_ids(values: Any, what: str) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise InvalidConfigError(f"{what} takes a list of thread ids, not a single string")
    return [thread_id_of(v, what) for v in values]


def checkpoint_config(t: Target, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": t.thread_id,
            "checkpoint_ns": t.checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }
