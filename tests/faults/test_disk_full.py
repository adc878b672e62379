"""A full disk under a SQLite file.

Two ways to fill it: a forked writer under a file size limit (RLIMIT_FSIZE, with SIGXFSZ
ignored so the write past it fails with EFBIG instead of killing the process; works
anywhere), and a small tmpfs (root only: mount needs it) where the write fails with
ENOSPC, as on a real full disk. Either way the failing put must raise a StorageError that
says the disk is full (not a bare sqlite3 error), every checkpoint committed before it
reads back, and with room again the file passes `PRAGMA integrity_check` and takes puts.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saver import SqliteSaver
from tests.faults.filler import fill_until_error, value
from tests.faults.forker import Forker
from tests.faults.graph import config_of

THREAD = "fill"
BEFORE = 3  # checkpoints committed before the disk fills
ROOM = 1024 * 1024  # bytes the writer may add to the file before it is full
FULL = re.compile(r"disk.*\bfull\b|\bfull\b.*disk|no space", re.IGNORECASE)


def put_some(path: str, n: int) -> list[str]:
    """n more checkpoints on THREAD, with plenty of room; their ids."""
    ids: list[str] = []
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
        outcome = fill_until_error(saver, THREAD, n, lambda kind, p: ids.append(p["id"]))
    assert outcome["type"] is None, outcome
    return ids


def check_full_error(outcome: dict[str, Any]) -> None:
    described = (
        f"{outcome['module']}.{outcome['type']}: {outcome['message']} (cause: {outcome['cause']})"
    )
    assert outcome["type"] is not None, "the writer never ran out of room"
    assert outcome["module"] == "saver.errors", f"not a saver error: {described}"
    assert outcome["type"] in ("StorageError",), f"not a (permanent) StorageError: {described}"
    assert FULL.search(outcome["message"]), (
        f"the message does not say the disk is full: {described}"
    )


def check_after(path: str, committed: list[str]) -> None:
    """With room again: whole file, every committed checkpoint (and only those), new puts."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()
    with SqliteSaver.from_conn_string(path) as saver:
        listed = list(saver.list(config_of(THREAD)))
        assert [t.checkpoint["id"] for t in listed] == committed[::-1]
        for i, checkpoint_id in enumerate(committed):
            got = saver.get_tuple(config_of(THREAD, checkpoint_id))
            assert got is not None, checkpoint_id
            assert got.checkpoint["channel_values"] == {"data": value(i), "i": i}, i
    more = put_some(path, 2)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()
    with SqliteSaver.from_conn_string(path) as saver:
        listed = list(saver.list(config_of(THREAD)))
        assert [t.checkpoint["id"] for t in listed] == (committed + more)[::-1]


def test_file_size_limit_is_a_disk_full_storage_error(forker: Forker, tmp_path: Path) -> None:
    path = str(tmp_path / "history.sqlite")
    committed = put_some(path, BEFORE)
    biggest = max(Path(p).stat().st_size for p in (path, path + "-wal") if Path(p).exists())
    pid = forker.start(
        {"job": "fill", "target": path, "thread": THREAD, "max_puts": 500, "limit": biggest + ROOM}
    )
    assert pid > 0
    said, code = forker.finish()
    assert code == 0, forker.describe()
    committed += [p["id"] for kind, p in said if kind == "put"]
    (outcome,) = [p for kind, p in said if kind == "failed"]
    (read,) = [p for kind, p in said if kind == "read"]
    try:
        check_full_error(outcome)
        # On the same saver, still without room: what was committed reads.
        assert read == {"latest": committed[-1]}, read
    finally:
        check_after(path, committed)  # the limit was the child's: it is lifted here


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root only); grown to 64 MiB by remount."""
    if os.geteuid() != 0:
        pytest.skip("a tmpfs needs root to mount (the file size limit test covers this)")
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs failed (the file size limit test covers this): {done.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True, timeout=30)


def test_full_tmpfs_is_a_disk_full_storage_error(small_tmpfs: Path) -> None:
    path = str(small_tmpfs / "history.sqlite")
    committed = put_some(path, BEFORE)
    with SqliteSaver.from_conn_string(path) as saver:
        outcome = fill_until_error(saver, THREAD, 500, lambda kind, p: committed.append(p["id"]))
        check_full_error(outcome)
        latest = saver.get_tuple(config_of(THREAD))
        assert latest is not None and latest.checkpoint["id"] == committed[-1]
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True, timeout=30)
    check_after(path, committed)
