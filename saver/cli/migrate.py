"""`saver migrate`: import every thread from a database LangGraph's own saver wrote."""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from saver.cli import output
from saver.cli.urls import ENV_URL, FORMS, open_saver, split_schema, sqlite_path, url_from
from saver.errors import InvalidConfigError, StorageError
from saver.importer import MigrateReport, migrate
from saver.io.errors import open_error, postgres_errors, redact
from saver.io.urls import scheme_of

EXAMPLE = """example:
  saver migrate --from sqlite:///checkpoints.sqlite --to sqlite:///history.db

The source is only read. Threads the target already has are skipped, not merged."""

ProgressCallback = Callable[[int, int], None]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "migrate",
        help="import the threads LangGraph's own SqliteSaver or PostgresSaver wrote",
        description=(
            "Import every thread (or those named) from a database LangGraph's own SqliteSaver\n"
            "or PostgresSaver wrote, keeping thread and checkpoint ids, parents, metadata,\n"
            "channel values and pending writes."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="the database LangGraph's saver wrote: sqlite:///path or postgresql://...",
    )
    p.add_argument(
        "--to",
        dest="url",  # the name url_from() reads, as the other commands' URL positional
        metavar="URL",
        help=f"where to import to: {FORMS}; default ${ENV_URL}",
    )
    p.add_argument(
        "--namespace",
        default="",
        help="the saver namespace to import into (default: the empty namespace)",
    )
    p.add_argument(
        "--thread",
        dest="threads",
        action="append",
        metavar="ID",
        help="import only this thread (repeat for more; default: every thread)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    url = url_from(args)
    # The source first: a bad one fails before a new target file or schema is created.
    with (
        open_source(args.source) as source,
        open_saver(url, namespace=args.namespace, create=True) as target,
        progress_bar() as shown,
    ):
        target.setup()  # a new database gets its tables; an existing one is brought up to date
        report = migrate(source, target, args.threads, shown)
    if args.json:
        output.print_json(report.as_dict())
    else:
        console = output.stdout()
        console.print(summary(report))
        if report.skipped_threads:
            names = ", ".join(report.skipped_threads)
            console.print(Text(f"skipped, already in the target: {names}"))
    return 0


@contextmanager
def open_source(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    """LangGraph's own saver for `url`, on a read-only connection: migrate never writes there."""
    scheme = scheme_of(url)
    if scheme == "sqlite":
        opened = _sqlite_source(url)
    elif scheme in ("postgresql", "postgres"):
        opened = _postgres_source(url)
    else:
        raise InvalidConfigError(
            f"cannot read {redact(url)!r}: expected a LangGraph saver's database, {FORMS}"
        )
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, *postgres_errors())
    try:
        with opened as source:
            yield source
    except errors as exc:  # the driver's text may hold a password
        raise StorageError(f"cannot read {redact(url)!r}: {redact(str(exc))}") from None


@contextmanager
def _sqlite_source(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    path = Path(sqlite_path(url))
    if not path.is_file():
        raise StorageError(f"no SQLite database at {str(path)!r} (from {url!r})")
    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
    except ImportError:
        raise InvalidConfigError(
            "reading sqlite:/// sources needs LangGraph's SQLite saver: "
            "pip install langgraph-checkpoint-sqlite (or 'langgraph-checkpoint-history[migrate]')"
        ) from None
    # mode=ro: SQLite itself refuses any write, whatever the official saver tries.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'"
        if conn.execute(found).fetchone() is None:
            raise StorageError(_no_table(url))
        source = SqliteSaver(conn)
        # Its setup() would switch the journal mode and add a column: skip it, and say
        # whether `writes` has the task_path column, as setup() would have found out.
        source.is_setup = True
        columns = {row[1] for row in conn.execute("PRAGMA table_info(writes)")}
        source._has_task_path = "task_path" in columns
        yield source
    finally:
        conn.close()


@contextmanager
def _postgres_source(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    conn_string, schema = split_schema(url)
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import sql
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.rows import dict_row
    except ImportError:
        raise InvalidConfigError(
            "reading postgresql:// sources needs LangGraph's PostgreSQL saver: "
            "pip install langgraph-checkpoint-postgres (or 'langgraph-checkpoint-history[migrate]')"
        ) from None
    try:
        conninfo_to_dict(conn_string)  # a malformed URL is a usage error, not a lost server
        # The settings PostgresSaver.from_conn_string uses, on a connection opened here so
        # that it can be made read-only before the saver sees it.
        conn = psycopg.Connection.connect(
            conn_string, autocommit=True, prepare_threshold=0, row_factory=dict_row
        )
    except (psycopg.Error, ValueError) as exc:
        raise open_error(conn_string, exc) from None
    with conn:
        conn.execute("SET default_transaction_read_only = on")
        if schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        row = conn.execute("SELECT to_regclass('checkpoints') IS NOT NULL AS found").fetchone()
        if row is None or not row["found"]:
            raise StorageError(_no_table(url))
        yield PostgresSaver(conn)


def _no_table(url: str) -> str:
    return (
        f"no LangGraph checkpoints table at {redact(url)!r}: --from takes a database "
        "LangGraph's SqliteSaver or PostgresSaver wrote"
    )


@contextmanager
def progress_bar() -> Iterator[ProgressCallback | None]:
    """A live bar on stderr when it is a terminal; else no callback at all."""
    if not output.interactive():
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("migrate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("threads"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.stderr(), transient=True) as bar:
        task = bar.add_task("migrate", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield show


def summary(report: MigrateReport) -> Table:
    table = Table(title="migrate", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = (
        ("threads imported", f"{report.threads:,}"),
        ("checkpoints", f"{report.checkpoints:,}"),
        ("pending writes", f"{report.writes:,}"),
        ("threads skipped", f"{len(report.skipped_threads):,}"),
    )
    for row in rows:
        table.add_row(*row)
    return table
