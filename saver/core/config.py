"""Reading ids out of a LangGraph config, with errors that say what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from saver.errors import InvalidConfigError

# PostgreSQL cannot index a row over 2704 bytes (a third of a page), and every primary key
# begins with thread_id, namespace and checkpoint_ns. With both at these limits, in bytes that
# do not compress, the widest key (history_blobs': those three, a channel name and a version)
# still leaves some 70 to 100 bytes for the saver namespace and the channel name; past the
# limits a put would fail in the database instead. SQLite has no such limit and keeps these
# too, so that both accept the same ids. A thread id is usually a uuid (36 bytes); a
# checkpoint_ns holds one "node:<task uuid>" (some 40 to 60 bytes) per level of subgraph.
MAX_THREAD_ID_BYTES = 2048
MAX_CHECKPOINT_NS_BYTES = 512
# Only what stores a key is refused: a read or a delete of a longer one is harmless (no index
# row is made) and still reaches a thread an older saver stored under it.
WRITES = frozenset(
    {"put", "put_writes", "copy_thread", "import_thread", "put_thread", "claim_thread"}
)


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
    text = storable(str(value), "thread_id", what)
    if what in WRITES:
        within(text, "thread_id", MAX_THREAD_ID_BYTES, what)
    return text


def storable(text: str, name: str, what: str) -> str:
    """Refuse a key PostgreSQL cannot hold (NUL, a lone surrogate) on every backend, before
    any SQL, so that both accept the same ids; InMemorySaver would keep them."""
    if "\x00" in text:
        raise InvalidConfigError(f"{what}: {name} {text!r} contains a NUL character")
    return unicode_text(text, name, what)


def unicode_text(text: str, name: str, what: str) -> str:
    """Refuse text no database can hold: a lone surrogate has no UTF-8 form."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidConfigError(
                f"{what}: {name} {text!r} is not valid Unicode (it holds a lone surrogate)"
            ) from None
    return text


def within(text: str, name: str, limit: int, what: str) -> None:
    """Refuse `text` if its UTF-8 form is over `limit` bytes, before any SQL."""
    if len(text) <= limit // 4:  # no character takes more than 4 bytes
        return
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise InvalidConfigError(
            f"{what}: {name} is {size} bytes long (UTF-8); at most {limit} bytes fit the "
            f"database's index: use a shorter {name} (a hash of it, say)"
        )


def target(namespace: str, config: RunnableConfig, what: str) -> Target:
    conf = configurable(config, what)
    ns = conf.get("checkpoint_ns") or ""
    if not isinstance(ns, str):
        raise InvalidConfigError(f"{what}: checkpoint_ns must be a str, got {ns!r}")
    storable(ns, "checkpoint_ns", what)
    if what in WRITES:
        within(ns, "checkpoint_ns", MAX_CHECKPOINT_NS_BYTES, what)
    checkpoint_id = conf.get("checkpoint_id") or None
    if checkpoint_id is not None and not isinstance(checkpoint_id, str):
        raise InvalidConfigError(f"{what}: checkpoint_id must be a str, got {checkpoint_id!r}")
    if checkpoint_id is not None:
        storable(checkpoint_id, "checkpoint_id", what)
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
