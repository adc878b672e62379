"""A collector (cleanup, prune) holds a thread's lock exclusively and a put holds it shared,
so a put never lands between a collector's reads and its deletes."""

from __future__ import annotations

import threading
import time

import psycopg
from langgraph.checkpoint.base import empty_checkpoint

from saver import PostgresSaver

WAITING_ON_ADVISORY = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
    "AND pid <> pg_backend_pid()"
)


def wait_until(check: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        pause.wait(0.01)
    return False


def test_a_put_waits_while_a_collector_holds_its_thread(pg_url: str, schema: str) -> None:
    with PostgresSaver.from_conn_string(pg_url, schema=schema) as cp:
        cp.setup()
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        done = threading.Event()

        def put() -> None:
            cp.put(config, empty_checkpoint(), {"source": "loop", "step": 0}, {})
            done.set()

        with (
            psycopg.connect(pg_url) as collector,
            psycopg.connect(pg_url, autocommit=True) as watch,
        ):
            collector.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", ("t", ""))
            writer = threading.Thread(target=put)
            writer.start()
            try:
                assert wait_until(lambda: watch.execute(WAITING_ON_ADVISORY).fetchone()[0] >= 1)
                assert not done.is_set()
            finally:
                collector.rollback()  # the collector's transaction ends: the put goes on
                writer.join(10)
        assert done.is_set()
        assert cp.get_tuple(config) is not None


def test_puts_to_one_thread_do_not_wait_for_each_other(pg_url: str, schema: str) -> None:
    with PostgresSaver.from_conn_string(pg_url, schema=schema) as cp:
        cp.setup()
        with psycopg.connect(pg_url) as other_put:
            other_put.execute(
                "SELECT pg_advisory_xact_lock_shared(hashtext(%s), hashtext(%s))", ("t", "")
            )
            config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
            cp.put(config, empty_checkpoint(), {"source": "loop", "step": 0}, {})
            other_put.rollback()
        assert cp.get_tuple(config) is not None
