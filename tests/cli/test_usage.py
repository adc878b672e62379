"""How the command line reads its arguments, and says what is wrong with them: the installed
console script, run as a subprocess. Nothing here gets as far as opening a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.commands import saver_cli

NOWHERE = "sqlite:////nonexistent/history.db"  # never opened: each command stops before


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["history", NOWHERE], "THREAD"),
        (["tree", NOWHERE], "THREAD"),
        (["show", NOWHERE], "THREAD"),
        (["export", NOWHERE], "THREAD"),
        (["diff", NOWHERE, "t1", "a"], "B"),
        (["copy", NOWHERE, "t1"], "NEW"),
        (["search", NOWHERE], "TEXT"),
    ],
)
def test_a_url_without_the_thread_is_a_usage_error_naming_what_is_missing(
    args: list[str], missing: str
) -> None:
    result = saver_cli(*args)
    assert result.returncode == 2, result.stderr
    assert f"saver {args[0]}: error: missing {missing}: '{NOWHERE}' was read as the URL" in (
        result.stderr
    )
    assert result.stderr.startswith(f"usage: saver {args[0]} ")
    assert "no URL given" not in result.stderr and "Traceback" not in result.stderr


def test_a_url_without_the_thread_is_not_taken_for_a_thread_when_saver_url_is_set(
    tmp_path: Path,
) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'other.db'}"
    result = saver_cli("history", NOWHERE, env={"SAVER_URL": elsewhere})
    assert result.returncode == 2, result.stderr
    assert "saver history: error: missing THREAD" in result.stderr
    assert not (tmp_path / "other.db").exists()


def test_a_password_in_a_url_read_as_the_url_is_hidden() -> None:
    result = saver_cli("history", "postgresql://app:hunter2@127.0.0.1:1/app")
    assert result.returncode == 2
    assert "missing THREAD" in result.stderr and "***" in result.stderr
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["threads", NOWHERE],
        ["history", NOWHERE, "t1"],
        ["show", NOWHERE, "t1"],
        ["export", NOWHERE, "t1"],
        ["import", NOWHERE],
        ["copy", NOWHERE, "t1", "t2"],
        ["cleanup", NOWHERE, "--keep-last", "2"],
    ],
)
def test_an_unknown_option_prints_the_commands_own_usage(args: list[str]) -> None:
    result = saver_cli(*args, "--bogus")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"usage: saver {args[0]} ")
    assert f"saver {args[0]}: error: unrecognized arguments: --bogus" in result.stderr


def test_an_extra_argument_prints_the_commands_own_usage() -> None:
    result = saver_cli("history", NOWHERE, "t1", "surplus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: saver history ")
    assert "saver history: error: unrecognized arguments: surplus" in result.stderr


def test_an_unknown_option_before_the_command_prints_the_top_level_usage() -> None:
    result = saver_cli("--bogus", "threads", NOWHERE)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: saver [-h]")
    assert "saver: error: unrecognized arguments: --bogus" in result.stderr
