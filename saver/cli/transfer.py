"""Commands that move history: export, import, copy (also between SQLite and PostgreSQL)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import IO, Any

from saver.cli import output
from saver.cli.urls import add_url_arguments, open_saver, url_from
from saver.core import threads
from saver.errors import CorruptRowError, InvalidConfigError


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "export",
        help="write a thread as JSON lines (to stdout, or --output)",
        description="Write a thread, every row exactly as stored, as JSON lines.",
    )
    add_url_arguments(p)
    p.add_argument("thread", metavar="THREAD")
    p.add_argument("--output", "-o", help="a file to write instead of stdout")
    p.add_argument(
        "--json",
        action="store_true",
        help="the export is JSON lines either way; with --output, also print a one-line "
        "JSON report on stdout",
    )
    p.set_defaults(run=_export)
    p = commands.add_parser(
        "import",
        help="store a thread written by `saver export` (from stdin, or --input)",
        description="Store a thread written by `saver export`; an existing thread is refused.",
    )
    add_url_arguments(p)
    p.add_argument("--input", "-i", help="a file to read instead of stdin")
    p.add_argument("--thread", help="store it under this thread id (default: its own)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=_import)
    p = commands.add_parser(
        "copy",
        help="copy a thread to a new id, in the same store or another (--to)",
        description="Copy a thread to a new thread id, in the same store or in --to.",
    )
    add_url_arguments(p)
    p.add_argument("thread", metavar="THREAD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--to", help="another store's URL (created if need be)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=_copy)


def _export(args: argparse.Namespace) -> int:
    with open_saver(url_from(args), namespace=args.namespace) as saver:
        data = _exported(saver, args.thread)
    lines = threads.to_lines(data)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.writelines(line + "\n" for line in lines)
        except OSError as exc:
            raise InvalidConfigError(f"cannot write {args.output}: {exc.strerror}") from None
        if args.json:
            report = {"exported": args.thread, "to": args.output, "checkpoints": data.checkpoints}
            output.print_json(report)
    else:
        sys.stdout.writelines(line + "\n" for line in lines)
    return 0


def _exported(saver: Any, thread: str) -> threads.ThreadRows:
    try:
        data: threads.ThreadRows = saver.export_thread(thread)
    except InvalidConfigError as exc:
        raise LookupError(str(exc)) from None
    return data


def _import(args: argparse.Namespace) -> int:
    if args.input:
        try:
            with open(args.input, "rb") as f:
                data = _read_export(f, args.input)
        except OSError as exc:
            raise InvalidConfigError(f"cannot read {args.input}: {exc.strerror}") from None
    else:
        if sys.stdin.isatty():
            raise InvalidConfigError("import reads an export from stdin: pipe one in or --input")
        data = _read_export(sys.stdin.buffer, "stdin")
    with open_saver(url_from(args), namespace=args.namespace, create=True) as saver:
        saver.setup()
        stored = saver.import_thread(data, args.thread)
    _report(args, "imported", data.thread_id, args.thread or data.thread_id, stored)
    return 0


def _read_export(stream: IO[bytes], where: str) -> threads.ThreadRows:
    """An export read from `stream`; input that is not one is a usage error (exit 2) naming
    `where` and, when it can, the line."""
    try:
        return threads.from_lines(_text_lines(stream, where), where)
    except CorruptRowError as exc:
        raise InvalidConfigError(str(exc)) from None
    except InvalidConfigError:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # a field of the right name, wrong value
        raise InvalidConfigError(
            f"{where}: not a thread export ({type(exc).__name__}: {exc})"
        ) from None


def _text_lines(stream: IO[bytes], where: str) -> Iterator[str]:
    for n, raw in enumerate(stream, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidConfigError(f"{where}:{n}: not UTF-8 text, not a thread export") from None


def _copy(args: argparse.Namespace) -> int:
    url = url_from(args)
    with open_saver(url, namespace=args.namespace) as source:
        if args.to is None:
            if source.get_tuple({"configurable": {"thread_id": args.thread}}) is None:
                raise LookupError(f"no thread {args.thread!r} here")
            source.copy_thread(args.thread, args.new)
            stored = sum(1 for _ in source.list({"configurable": {"thread_id": args.new}}))
        else:
            data = _exported(source, args.thread)
            with open_saver(args.to, namespace=args.namespace, create=True) as target:
                target.setup()
                target.import_thread(data, args.new)
            stored = data.checkpoints
    _report(args, "copied", args.thread, args.new, stored)
    return 0


def _report(args: argparse.Namespace, verb: str, source: str, target: str, count: int) -> None:
    if args.json:
        output.print_json({verb: source, "to": target, "checkpoints": count})
        return
    output.print_table(
        ("thread", "stored as", "checkpoints"),
        [(source, target, str(count))],
        whole={"thread", "stored as"},
    )
