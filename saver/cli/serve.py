"""`saver serve`: the history over HTTP (saver/server), run by uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
from typing import Any

from saver.cli.options import positive_int
from saver.cli.urls import add_url_arguments, url_from
from saver.errors import InvalidConfigError

EXAMPLE = """examples:
  saver serve sqlite:///history.db --graph agent=./graph.py:graph
  SAVER_TOKEN=s3cret saver serve postgresql://db/app --graph my_app.graphs:graph \\
      --host 0.0.0.0 --workers 2

Then open http://127.0.0.1:8000/ for threads, fork trees and approvals, or point
langgraph-sdk at it: get_client(url="http://127.0.0.1:8000").
Without --graph the server shows history but runs nothing. A --host beyond loopback needs a
token (--token or $SAVER_TOKEN), sent as Authorization: Bearer <token>."""
LOOPBACK = ("localhost",)


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "serve",
        help="serve threads, state, history and runs over HTTP (Agent Server API, agentflow)",
        description="Serve threads, state, history and runs over HTTP: LangGraph's Agent\n"
        "Server API (for langgraph-sdk), agentflow's /v1 endpoints, and time travel.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_url_arguments(p)
    p.add_argument(
        "--graph",
        action="append",
        default=[],
        metavar="[NAME=]TARGET",
        help="a graph to run, as package.module:attr or path/to/file.py:attr (a StateGraph, "
        "or a graph compiled without a checkpointer); repeat for several",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token", help="the bearer token every request needs (default $SAVER_TOKEN)")
    p.add_argument("--read-only", action="store_true", help="refuse every route that writes")
    p.add_argument("--workers", type=positive_int, default=1, help="worker processes (default 1)")
    p.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                   help="let pages from ORIGIN call the API (repeat for several)")  # fmt: skip
    p.add_argument("--max-body", type=positive_int, default=10 * 1024 * 1024, metavar="BYTES",
                   help="largest request body accepted (default 10 MiB)")  # fmt: skip
    p.add_argument("--lease", type=float, default=30.0, metavar="SECONDS",
                   help="how long a run holds its thread between renewals; a run of a process "
                   "that died shows as error after this (default 30)")  # fmt: skip
    p.add_argument("--ui-path", default="/", metavar="PATH",
                   help="where the web pages live (default /)")  # fmt: skip
    p.add_argument("--no-ui", action="store_true", help="serve the API only, no web pages")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from saver.server.factory import ENV
        from saver.server.graphs import load_target, parse_graph_options
    except ImportError as e:
        raise InvalidConfigError(
            f"saver serve needs the server extra ({e.name} is missing): "
            "pip install 'langgraph-checkpoint-history[server]'"
        ) from None
    url = url_from(args)
    if args.namespace:
        raise InvalidConfigError("saver serve works in the empty namespace only")
    token = args.token or os.environ.get("SAVER_TOKEN") or None
    if not token and not _loopback(args.host):
        raise InvalidConfigError(
            f"--host {args.host} is reachable from other machines: give a token "
            "(--token or $SAVER_TOKEN)"
        )
    if not args.ui_path.startswith("/"):
        raise InvalidConfigError(f"--ui-path must start with /, got {args.ui_path!r}")
    if args.lease <= 0:
        raise InvalidConfigError("--lease must be a positive number of seconds")
    graphs = parse_graph_options(args.graph)
    for target in graphs.values():
        load_target(target)  # fail here, with a message, rather than in every worker
    asyncio.run(_reachable(url))
    if token:
        os.environ["SAVER_TOKEN"] = token  # the workers read it from there, not from argv
    os.environ[ENV] = json.dumps(
        {
            "url": url,
            "graphs": graphs,
            "token_from_env": bool(token),
            "read_only": args.read_only,
            "cors": args.cors,
            "max_body": args.max_body,
            "lease": args.lease,
            "ui_path": None if args.no_ui else args.ui_path,
        }
    )
    uvicorn.run(
        "saver.server.factory:from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        access_log=False,
    )
    return 0


async def _reachable(url: str) -> None:
    """Open the database once (making the tables if missing): a wrong URL or a database that
    is away is a message and an exit code here, not a stack trace from the server's startup."""
    from saver.server.storage import open_saver

    saver = await open_saver(url)
    await saver.aclose()


def _loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
