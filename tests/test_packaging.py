"""A SQLite-only install (no psycopg, no asyncpg) imports the package, runs the SQLite savers
and the command line, and a PostgreSQL class says which extra it needs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

WITHOUT_POSTGRES = textwrap.dedent(
    """
    import sys

    for name in ("psycopg", "psycopg_pool", "asyncpg"):
        sys.modules[name] = None  # as if not installed: importing it raises ImportError

    from saver import AsyncSqliteSaver, SqliteSaver
    from saver.cli import main

    with SqliteSaver.from_conn_string(sys.argv[1]) as checkpointer:
        checkpointer.setup()
        print("threads:", checkpointer.list_threads())
    print("exit:", main(["threads", "sqlite:///" + sys.argv[1]]))
    try:
        from saver import PostgresSaver
    except ImportError as exc:
        print("refused:", exc)
    """
)


def test_the_sqlite_savers_and_the_command_line_need_no_postgres_driver(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_POSTGRES, str(tmp_path / "app.db")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "threads: []"
    assert "exit: 0" in lines
    assert lines[-1] == (
        "refused: PostgresSaver needs psycopg: pip install 'langgraph-checkpoint-history[postgres]'"
    )


WITHOUT_ASYNCPG = textwrap.dedent(
    """
    import sys

    sys.modules["asyncpg"] = None  # the [postgres] extra alone: psycopg, no asyncpg
    from saver import *  # noqa: F403
    from saver import AsyncPostgresSaver, PostgresSaver

    print(AsyncPostgresSaver.__name__, PostgresSaver.__name__)
    """
)


def test_the_postgres_savers_need_no_asyncpg() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_ASYNCPG], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["AsyncPostgresSaver", "PostgresSaver"]
