"""`saver doctor`: read every row of a store back, report what cannot be read, and with
--repair move it to quarantine. Reports as PostgreSQL's pg_amcheck and SQLite's
`PRAGMA integrity_check` do: one line per problem, and an exit code that says whether any
was found."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from saver.cli import exits, output
from saver.cli.options import positive_int
from saver.cli.urls import add_url_arguments, open_saver, url_from
from saver.core.doctor import DoctorReport, ProgressCallback

EXAMPLE = """example:
  saver doctor sqlite:////srv/app/history.db
  saver doctor postgresql://app@db/app --repair --json

Checks that each row decodes whole, each delta chain is whole, no blob or write is
orphaned, and lists checkpoints whose parent is gone from the middle of a history.
--repair moves damaged rows, and the checkpoints that cannot be read without them, to the
table history_quarantine (never deletes them) and deletes orphans. Exit code: 0 clean,
4 damaged or orphaned rows found (repaired or not); a missing parent alone is not one
(delete_for_runs leaves them)."""

COLUMNS = ("thread_id", "checkpoint_ns", "checkpoint_id", "table", "row", "kind", "problem")
NARROW_FIRST = ("checkpoint_ns", "table")  # left out first on a narrow terminal


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "doctor",
        help="find rows that cannot be read back, and quarantine them",
        description="Read every row back and report what cannot be read; repair on request.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_url_arguments(p)
    p.add_argument("--thread", metavar="ID", help="check only this thread")
    p.add_argument(
        "--repair",
        action="store_true",
        help="move damaged rows to history_quarantine and delete orphaned ones",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=100,
        metavar="N",
        help="thread ids read at a time (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    url = url_from(args)
    with open_saver(url, namespace=args.namespace) as saver, progress_bar() as shown:
        report = saver.doctor(
            thread_id=args.thread,
            repair=args.repair,
            batch_size=args.batch_size,
            progress=shown,
        )
    if args.json:
        output.print_json(report.as_dict())
    else:
        print_report(report)
    return exits.DAMAGED if report.problems else exits.OK


def print_report(report: DoctorReport) -> None:
    if report.findings:
        columns = (*COLUMNS, "action") if report.repaired else COLUMNS
        rows = [[str(getattr(f, c)) for c in columns] for f in report.findings]
        output.print_table(columns, rows, whole=("thread_id", "checkpoint_id"), drop=NARROW_FIRST)
    counts = Counter(f.kind for f in report.findings)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    said = f"{len(report.problems)} problems" if report.problems else "no problems"
    if report.findings:
        said += f" ({kinds})"
    output.stdout().print(
        f"doctor: {said} in {report.rows_checked:,} rows of {report.threads_checked:,} "
        f"threads, {report.seconds:.2f}s",
        markup=False,
    )


@contextmanager
def progress_bar() -> Iterator[ProgressCallback | None]:
    """A live count on stderr when it is a terminal; else no callback at all."""
    if not output.interactive():
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("doctor"),
        TextColumn("{task.fields[threads]:,} threads, {task.fields[rows]:,} rows read"),
        TextColumn("{task.fields[problems]:,} problems"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.stderr(), transient=True) as bar:
        task = bar.add_task("doctor", total=None, threads=0, rows=0, problems=0)

        def show(report: DoctorReport) -> None:
            bar.update(
                task,
                threads=report.threads_checked,
                rows=report.rows_checked,
                problems=len(report.findings),
            )

        yield show
