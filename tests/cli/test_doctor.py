"""`saver doctor` end to end, as a subprocess: exit 0 on a clean store, 4 when it finds a
problem (a table naming thread and checkpoint, or --json); --repair quarantines, after
which a second run is clean. `saver cleanup` skips a damaged thread and exits 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import stores
from tests.cli.commands import saver_cli
from tests.savers._sync.spec_helpers import checkpoint_id, corrupt_json, put_counter_chain


@pytest.fixture(params=stores.KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> stores.Store:
    made = stores.make_store(request.param, tmp_path, request.addfinalizer)
    with made.open() as cp:
        put_counter_chain(cp, "fine", 4, with_writes=True)
        put_counter_chain(cp, "damaged", 4, with_writes=True)
    return made


def damage(store: stores.Store) -> None:
    corrupt_json(store, "metadata", "damaged", checkpoint_id(4))


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_clean_store_exits_0_saying_so(store: stores.Store) -> None:
    done = saver_cli("doctor", store.url)
    assert done.returncode == 0, done.stderr
    assert "no problems in" in done.stdout and "2 threads" in done.stdout


def test_a_damaged_row_exits_4_naming_thread_and_checkpoint(store: stores.Store) -> None:
    damage(store)
    done = saver_cli("doctor", store.url)
    assert done.returncode == 4, done.stderr
    assert "damaged" in done.stdout and checkpoint_id(4) in done.stdout
    assert "2 problems (2 damaged)" in done.stdout  # the checkpoint, and the write on it


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_json_lists_each_problem(store: stores.Store) -> None:
    damage(store)
    done = saver_cli("doctor", store.url, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 4
    assert [(p["table"], p["thread_id"], p["checkpoint_id"]) for p in report["problems"]] == [
        ("checkpoint", "damaged", checkpoint_id(4)),
        ("write", "damaged", checkpoint_id(4)),
    ]
    assert report["threads_checked"] == 2 and report["repaired"] is False


def test_repair_quarantines_and_a_second_run_is_clean(store: stores.Store) -> None:
    damage(store)
    repaired = saver_cli("doctor", store.url, "--repair", "--json")
    again = saver_cli("doctor", store.url)
    assert repaired.returncode == 4
    assert {p["action"] for p in json.loads(repaired.stdout)["problems"]} == {"quarantined"}
    assert again.returncode == 0, again.stdout


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_doctor_of_one_thread_ignores_the_others(store: stores.Store) -> None:
    damage(store)
    done = saver_cli("doctor", store.url, "--thread", "fine")
    assert done.returncode == 0, done.stdout


def test_cleanup_skips_the_damaged_thread_trims_the_rest_and_exits_4(
    store: stores.Store,
) -> None:
    damage(store)
    done = saver_cli("cleanup", store.url, "--keep-last", "2")
    with store.open() as cp:
        fine = list(cp.list({"configurable": {"thread_id": "fine"}}))
    assert done.returncode == 4, done.stderr
    assert "damaged" in done.stdout and checkpoint_id(4) in done.stdout
    assert "saver doctor" in done.stdout
    assert len(fine) == 2
