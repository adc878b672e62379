"""A user who only changed the import, on a database LangGraph's own saver wrote, is told
where the history went (`saver migrate`) instead of seeing an empty one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph.checkpoint.postgres import PostgresSaver as TheirPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver as TheirSqliteSaver

from saver import PostgresSaver, SqliteSaver
from tests.seeds.snippets import builder, config, fresh_database


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_sqlite_file_langgraph_wrote_gets_a_warning_naming_saver_migrate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "app.db")
    with TheirSqliteSaver.from_conn_string(path) as theirs:
        builder().compile(checkpointer=theirs).invoke({"input": "hi"}, config())
    with SqliteSaver.from_conn_string(path) as ours:
        ours.setup()
        assert ours.langgraph_tables == ["checkpoints", "writes"]
    assert any("saver migrate" in message for message in warnings_of(caplog))


def test_no_warning_once_this_saver_holds_history(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "app.db")
    with TheirSqliteSaver.from_conn_string(path) as theirs:
        theirs.setup()
    with SqliteSaver.from_conn_string(path) as ours:
        builder().compile(checkpointer=ours).invoke({"input": "hi"}, config())
    caplog.clear()
    with SqliteSaver.from_conn_string(path) as again:
        again.setup()
        assert again.langgraph_tables == []
    assert warnings_of(caplog) == []


def test_a_postgres_database_langgraph_wrote_gets_the_warning_too(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    with TheirPostgresSaver.from_conn_string(database) as theirs:
        theirs.setup()
    with PostgresSaver.from_conn_string(database, schema="history") as ours:
        ours.setup()
        assert ours.langgraph_tables == ["checkpoint_blobs", "checkpoint_writes", "checkpoints"]
    assert any("saver migrate" in message for message in warnings_of(caplog))


def test_saver_threads_on_a_file_langgraph_wrote_names_saver_migrate(tmp_path: Path) -> None:
    from tests.cli.commands import saver_cli

    path = tmp_path / "app.db"
    with TheirSqliteSaver.from_conn_string(str(path)) as theirs:
        builder().compile(checkpointer=theirs).invoke({"input": "hi"}, config())
    with SqliteSaver.from_conn_string(str(path)) as ours:
        ours.setup()
    done = saver_cli("threads", f"sqlite:///{path}")
    assert done.returncode == 0
    assert "saver migrate" in done.stderr
