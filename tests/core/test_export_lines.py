"""The JSON-lines thread export (saver/core/threads.py): versions it writes and reads."""

from __future__ import annotations

import json

import pytest

from saver.core import threads
from saver.errors import CorruptRowError


def lines(version: int) -> list[str]:
    header = {"format": threads.EXPORT_FORMAT, "version": version, "thread_id": "t"}
    row = {"table": "write", "checkpoint_ns": "", "checkpoint_id": "c", "task_id": "k", "idx": 0}
    row |= {"task_path": "", "channel": "a", "type": "msgpack", "data": "kQE="}
    return [json.dumps(header), json.dumps(row)]


def test_an_export_says_version_2_which_an_older_reader_refuses() -> None:
    header = json.loads(next(threads.to_lines(threads.ThreadRows("t", {}))))
    assert header["version"] == threads.EXPORT_VERSION == 2


def test_an_export_with_a_thread_record_says_version_3() -> None:
    record = {"name": "n", "user_id": "u", "metadata": {"k": 1}, "created_at": 5.0}
    exported = list(threads.to_lines(threads.ThreadRows("t", {}, record)))
    assert json.loads(exported[0])["version"] == threads.RECORD_VERSION == 3
    assert threads.from_lines(exported).record == record


@pytest.mark.parametrize("version", [1, 2, 3])
def test_exports_of_version_1_to_3_read(version: int) -> None:
    data = threads.from_lines(lines(version))
    assert data.rows["write"][0]["data"] == b"\x91\x01"


def test_an_export_of_an_unknown_version_is_refused_naming_the_line() -> None:
    with pytest.raises(CorruptRowError, match="^input:1: not a thread export"):
        threads.from_lines(lines(4))
