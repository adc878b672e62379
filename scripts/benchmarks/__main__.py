"""Ours against LangGraph's savers on the same chat graph, in one run, as ratios.

    scripts/bench [--backend sqlite|postgres|retention|storage|drivers|server|pages|all] [--turns N] [--quick]
                  [--json PATH] [--plot PATH] [--same-sync]
    scripts/bench --scale [--backend sqlite|postgres|all] [--levels 1000,100000,1000000]
                  [--calls 30] [--json PATH]

(scripts/bench is `python -m scripts.benchmarks`.) `--backend sqlite` (or the default, `all`)
runs chat.py; `--backend postgres` (or `all`) postgres.py; `--backend retention` (or `all`)
retention.py: cleanup on both databases; `--backend storage` (or `all`) storage.py;
`--backend drivers` (or `all`) drivers.py: asyncpg against psycopg, CPU per turn; `--backend
server` (or `all`) server.py: `saver serve` under 32 clients against `langgraph dev`; `--backend
pages` (or `all`) pages.py: the web pages' time to first render. `--scale`
runs scale.py instead of all of these. `--json` writes {backend: its numbers}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scripts.benchmarks import chat, drivers, pages, postgres, retention, scale, server, storage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    backends = ("sqlite", "postgres", "retention", "storage", "drivers", "server", "pages", "all")
    parser.add_argument("--backend", choices=backends, default="all", help="default: all")
    parser.add_argument("--turns", type=int, help="SQLite: user turns in the chat (default 200)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    json_help = "also write the numbers here, as {backend: {info, metrics}}"
    parser.add_argument("--json", type=Path, metavar="PATH", help=json_help)
    plot_help = "storage: write the bytes-against-turns plot (PNG) here"
    parser.add_argument("--plot", type=Path, metavar="PATH", help=plot_help)
    scale_help = "cost at 10^3, 10^5, 10^6 checkpoints (scripts/benchmarks/scale.py) instead"
    parser.add_argument("--scale", action="store_true", help=scale_help)
    levels_help = "--scale: comma-separated checkpoint counts (default 1000,100000,1000000)"
    parser.add_argument("--levels", help=levels_help)
    calls_help = f"--scale: timed calls per round, per operation (default {scale.CALLS})"
    parser.add_argument("--calls", type=int, default=scale.CALLS, help=calls_help)
    sync_help = "SQLite: give LangGraph's saver synchronous=NORMAL too: no fsync per put"
    parser.add_argument("--same-sync", action="store_true", help=sync_help)
    args = parser.parse_args(argv)
    if args.turns is not None and args.turns < 1:
        parser.error("--turns must be at least 1")
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    out: dict[str, Any] = {}
    if args.scale:
        levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else None
        chosen = ("sqlite", "postgres") if args.backend == "all" else (args.backend,)
        if not set(chosen) <= {"sqlite", "postgres"}:
            parser.error("--scale runs on --backend sqlite, postgres or all")
        out["scale"] = scale.run(chosen, levels or scale.LEVELS, args.calls)
        args.backend = "none"
    if args.backend in ("sqlite", "all"):
        print("=== SQLite ===", flush=True)
        out["sqlite"] = chat.run_sqlite(args)
    if args.backend in ("postgres", "all"):
        print("\n=== PostgreSQL ===" if out else "=== PostgreSQL ===", flush=True)
        out["postgres"] = postgres.run(quick=args.quick)
    if args.backend in ("retention", "all"):
        print("\n=== Retention ===" if out else "=== Retention ===", flush=True)
        out["retention"] = retention.run(quick=args.quick)
    if args.backend in ("storage", "all"):
        print("\n=== Storage ===" if out else "=== Storage ===", flush=True)
        out["storage"] = storage.run(args.turns or 200, args.quick, args.plot)
    if args.backend in ("drivers", "all"):
        print("\n=== PostgreSQL drivers ===" if out else "=== PostgreSQL drivers ===", flush=True)
        out["drivers"] = drivers.run(quick=args.quick)
    if args.backend in ("server", "all"):
        print("\n=== saver serve ===" if out else "=== saver serve ===", flush=True)
        out["server"] = server.run(quick=args.quick, turns=args.turns or 200)
    if args.backend in ("pages", "all"):
        print("\n=== web pages ===" if out else "=== web pages ===", flush=True)
        out["pages"] = pages.run(quick=args.quick)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
