"""`saver cleanup`: apply a retention policy to a store, from a shell or from cron."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from saver.cli import exits, output
from saver.cli.options import duration, positive_int
from saver.cli.urls import add_url_arguments, open_saver, url_from
from saver.errors import InvalidConfigError
from saver.retention.job import CleanupReport
from saver.retention.policy import RetentionPolicy

EXAMPLE = """example:
  saver cleanup sqlite:////srv/app/history.db --keep-last 20 --max-age 30d --thread-ttl 90d

Durations are a number and a unit s, m, h, d or w (30d, 12h, 1d12h). A thread's latest
checkpoint is only ever deleted with its whole thread, by --thread-ttl."""

ProgressCallback = Callable[[CleanupReport], None]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "cleanup",
        help="delete old checkpoints and idle threads by a retention policy",
        description="Delete old checkpoints and idle threads by a retention policy.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_url_arguments(p)
    rules = p.add_argument_group("retention rules (give at least one)")
    rules.add_argument(
        "--keep-last",
        type=positive_int,
        metavar="N",
        help="keep the newest N checkpoints of each thread (per subgraph namespace)",
    )
    rules.add_argument(
        "--max-age",
        type=duration,
        metavar="DURATION",
        help="delete checkpoints older than this (never a thread's latest)",
    )
    rules.add_argument(
        "--thread-ttl",
        type=duration,
        metavar="DURATION",
        help="delete whole threads with no checkpoint newer than this",
    )
    rules.add_argument(
        "--keep-interrupted",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="--thread-ttl spares threads waiting on an interrupt() (default), or not",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=1000,
        metavar="N",
        help="about N checkpoints per transaction (default: %(default)s)",
    )
    p.add_argument("--thread", metavar="ID", help="clean only this thread")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = RetentionPolicy(
        keep_last=args.keep_last,
        max_age=args.max_age,
        thread_ttl=args.thread_ttl,
        spare_interrupted=args.keep_interrupted,
    )
    if policy.is_empty:
        raise InvalidConfigError("give at least one rule: --keep-last, --max-age or --thread-ttl")
    url = url_from(args)
    with open_saver(url, namespace=args.namespace) as saver, progress_bar(args.dry_run) as shown:
        report = saver.cleanup(
            policy,
            dry_run=args.dry_run,
            batch_size=args.batch_size,
            thread_id=args.thread,
            progress=shown,
        )
    if args.json:
        output.print_json(report.as_dict())
    else:
        output.stdout().print(summary(report))
        if report.skipped:
            print_skipped(report.skipped)
    return exits.DAMAGED if report.skipped else exits.OK


@contextmanager
def progress_bar(dry_run: bool) -> Iterator[ProgressCallback | None]:
    """A live bar on stderr when it is a terminal; else no callback at all."""
    if not output.interactive():
        yield None
        return
    verb = "to delete" if dry_run else "deleted"
    columns = (
        SpinnerColumn(),
        TextColumn("cleanup"),
        BarColumn(),
        TextColumn("{task.fields[threads]:,} threads examined"),
        TextColumn(f"{{task.fields[checkpoints]:,}} checkpoints {verb}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.stderr(), transient=True) as bar:
        task = bar.add_task("cleanup", total=None, threads=0, checkpoints=0)

        def show(report: CleanupReport) -> None:
            bar.update(
                task, threads=report.threads_examined, checkpoints=report.checkpoints_deleted
            )

        yield show


def summary(report: CleanupReport) -> Table:
    title = "cleanup: dry run, nothing deleted" if report.dry_run else "cleanup"
    verb = "to delete" if report.dry_run else "deleted"
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = (
        ("threads examined", f"{report.threads_examined:,}"),
        (f"threads {verb}", f"{report.threads_deleted:,}"),
        (f"checkpoints {verb}", f"{report.checkpoints_deleted:,}"),
        (f"writes {verb}", f"{report.writes_deleted:,}"),
        (f"blobs {verb}", f"{report.blobs_deleted:,}"),
        (
            "bytes to free" if report.dry_run else "bytes freed",
            output.human_bytes(report.bytes_freed),
        ),
        ("threads skipped (damaged)", f"{len(report.skipped):,}"),
        ("batches", f"{report.batches:,}"),
        ("seconds", f"{report.seconds:.2f}"),
        ("dry run", "yes" if report.dry_run else "no"),
    )
    for row in rows:
        table.add_row(*row)
    return table


SKIPPED = ("thread_id", "checkpoint_ns", "checkpoint_id", "problem")


def print_skipped(skipped: list[dict[str, str]]) -> None:
    output.stdout().print("skipped, as a row of each cannot be read (see `saver doctor`):")
    rows = [[entry[c] for c in SKIPPED] for entry in skipped]
    output.print_table(SKIPPED, rows, whole=("thread_id", "checkpoint_id"), drop=("checkpoint_ns",))
