"""The `saver` command line.

Each command is a module with `add_parser(commands)`, which adds its subparser and sets
`run(args) -> exit code` as its default; `main` parses, runs, and turns errors into exit codes:
0 done, 1 the storage failed (`StorageError`), 2 a usage error (bad option, URL or config),
3 no such thread or checkpoint, 4 damaged rows found (`saver doctor`; `saver cleanup`, which
skips the threads holding them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from saver.cli import cleanup, doctor, history, migrate, serve, transfer
from saver.cli.exits import FAILURE, INTERRUPTED, NOT_FOUND, OK, USAGE
from saver.cli.options import place_positionals
from saver.errors import InvalidConfigError, StorageError

COMMANDS = (history, transfer, migrate, cleanup, doctor, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saver",
        description="Inspect, move and maintain the checkpoints a langgraph-checkpoint-history saver wrote.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The subparser of command `name`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise KeyError(name)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse like `parser.parse_args`, but a usage error within a command is reported with
    that command's usage (argparse hands unknown options up to the top-level parser, which
    would print its own)."""
    args, extras = parser.parse_known_args(argv)
    command = subcommand(parser, args.command)
    if extras:
        words = list(sys.argv[1:] if argv is None else argv)
        first = words.index(args.command)
        at_top = extras[0] in words[:first]  # `saver --bogus history ...`
        (parser if at_top else command).error(f"unrecognized arguments: {' '.join(extras)}")
    place_positionals(command, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parse(parser, argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else (OK if exc.code is None else USAGE)
    name = f"{parser.prog} {args.command}"
    try:
        return int(args.run(args))
    except InvalidConfigError as exc:  # before StorageError: it is a subclass
        return _fail(name, exc, USAGE)
    except StorageError as exc:
        return _fail(name, exc, FAILURE)
    except LookupError as exc:
        return _fail(name, exc.args[0] if exc.args else exc, NOT_FOUND)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `saver export ... | head`: the reader stopped, nothing is wrong
        # Python flushes stdout at exit, which would fail again: point it at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return FAILURE


def _fail(name: str, exc: object, code: int) -> int:
    print(f"{name}: error: {exc}", file=sys.stderr)
    return code


def _version() -> str:
    try:
        return version("langgraph-checkpoint-history")
    except PackageNotFoundError:
        return "(not installed)"
