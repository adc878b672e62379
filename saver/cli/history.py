"""Commands that look at history: threads, history, show, diff, tree, search."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from rich.console import Group
from rich.panel import Panel
from rich.pretty import Pretty
from rich.tree import Tree

from saver.cli import output
from saver.cli.options import positive_int
from saver.cli.urls import add_url_arguments, open_saver, url_from
from saver.core import views
from saver.core.filters import key_values
from saver.core.status import STATUSES
from saver.io import HistorySaver

Run = Callable[[HistorySaver, argparse.Namespace], Any]  # returns the --json document
GUIDE = 4  # how far a Tree indents each level


def add_parser(commands: Any) -> None:
    p = _command(commands, "threads", "list threads, most recently updated first", _threads)
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="match the head's metadata (repeatable; VALUE is read as JSON if it can be)",
    )
    p.add_argument("--prefix", help="only thread ids starting with this (org-1:user-2:)")
    p.add_argument("--search", help="only threads with this text in their id or name")
    p.add_argument("--status", choices=STATUSES, help="only threads in this status")
    p.add_argument("--user", help="only threads put_thread gave to this user id")
    p.add_argument("--limit", type=positive_int, default=100)
    p = _command(commands, "history", "one row per step of a thread", _history, thread=True)
    p.add_argument("--ns", default="", help="a subgraph's checkpoint namespace")
    p = _command(commands, "show", "state, writes and interrupts of a checkpoint", _show, True)
    p.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT", help="default: the head")
    p.add_argument("--ns", default="", help="a subgraph's checkpoint namespace")
    p = _command(commands, "diff", "what changed between two checkpoints", _diff, thread=True)
    p.add_argument("a", metavar="A", help="the earlier checkpoint id")
    p.add_argument("b", metavar="B", help="the later checkpoint id")
    p.add_argument("--ns", default="", help="a subgraph's checkpoint namespace")
    p = _command(commands, "tree", "the fork tree of a thread", _tree, thread=True)
    p.add_argument("--ns", default="", help="a subgraph's checkpoint namespace")
    p = _command(commands, "search", "where a message containing TEXT appeared", _search)
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--thread", help="search this thread only")
    p.add_argument("--limit", type=positive_int, default=20)


def _command(
    commands: Any, name: str, summary: str, body: Run, thread: bool = False
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    add_url_arguments(p)
    if thread:
        p.add_argument("thread", metavar="THREAD")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=lambda args: _run(args, body))
    return p


def _run(args: argparse.Namespace, body: Run) -> int:
    with open_saver(url_from(args), namespace=args.namespace) as saver:
        document = body(saver, args)
    if args.json:
        output.print_json(document)
    return 0


def _config(thread: str, ns: str = "", checkpoint: str | None = None) -> RunnableConfig:
    conf = {"thread_id": thread, "checkpoint_ns": ns}
    if checkpoint:
        conf["checkpoint_id"] = checkpoint
    return {"configurable": conf}


def _steps(saver: HistorySaver, args: argparse.Namespace) -> list[views.Step]:
    steps = saver.history(_config(args.thread, args.ns))
    if not steps:
        raise _no_thread(args)
    return steps


def _no_thread(args: argparse.Namespace) -> LookupError:
    return LookupError(f"no thread {args.thread!r} (namespace {args.ns!r}) in this store")


def _filter(pairs: Sequence[str]) -> dict[str, Any]:
    return key_values(pairs, "--filter")


def _threads(saver: HistorySaver, args: argparse.Namespace) -> Any:
    found = saver.list_threads(
        _filter(args.filter),
        prefix=args.prefix,
        search=args.search,
        status=args.status,
        user_id=args.user,
        limit=args.limit,
    )
    if not args.json:
        rows = []
        for t in found:
            meta = {k: v for k, v in t.metadata.items() if k != "parents"}
            rows.append(
                (
                    t.thread_id,
                    str(t.checkpoints),
                    "interrupt()" if t.waiting else t.status,
                    _time(t.first_at.isoformat()),
                    _time(t.last_at.isoformat()),
                    t.name or "",
                    json.dumps(meta, default=str),
                )
            )
        output.print_table(
            ("thread", "checkpoints", "status", "first", "last", "name", "head metadata"),
            rows,
            whole={"thread"},
            drop=("first", "head metadata", "name", "last"),
        )
    return [t.as_dict() for t in found]


def _time(stamp: str | None) -> str:
    return (stamp or "")[:19].replace("T", " ")


def _history(saver: HistorySaver, args: argparse.Namespace) -> Any:
    steps = _steps(saver, args)
    if not args.json:
        rows = []
        for s in steps:
            writes = "; ".join(f"{node}: {', '.join(chs)}" for node, chs in s.writes.items())
            rows.append(
                (
                    "" if s.step is None else str(s.step),
                    s.checkpoint_id,
                    s.source or "",
                    writes,
                    ", ".join(s.next),
                    ", ".join(map(str, s.interrupts)) + (" (waiting)" if s.waiting else ""),
                    _time(s.created_at),
                )
            )
        output.print_table(
            ("step", "checkpoint", "source", "writes", "next", "interrupt", "time"),
            rows,
            whole={"checkpoint"},
            drop=("time", "writes", "source", "interrupt"),
        )
    return [s.as_dict() for s in steps]


def _show(saver: HistorySaver, args: argparse.Namespace) -> Any:
    t = saver.get_tuple(_config(args.thread, args.ns, args.checkpoint))
    if t is None and args.checkpoint:
        raise LookupError(
            f"no checkpoint {args.checkpoint!r} in thread {args.thread!r} (namespace {args.ns!r})"
        )
    if t is None:
        raise _no_thread(args)
    step = views.step_of(t, {})
    values = {k: v for k, v in t.checkpoint.get("channel_values", {}).items()}
    state = {k: v for k, v in values.items() if not k.startswith(views.BRANCH)}
    writes = [
        {"task_id": task, "channel": ch, "value": views.jsonable(v)}
        for task, ch, v in t.pending_writes or []
    ]
    document = {
        "thread_id": args.thread,
        "checkpoint_ns": args.ns,
        "checkpoint_id": step.checkpoint_id,
        "parent_id": step.parent_id,
        "metadata": views.jsonable(t.metadata),
        "values": views.jsonable(state),
        "pending_writes": writes,
        "next": step.next,
        "interrupts": views.jsonable(step.interrupts),
        "waiting": step.waiting,
    }
    if not args.json:
        head = f"checkpoint {step.checkpoint_id}"
        parts: list[Any] = [Pretty(document["values"], max_length=50, max_string=400)]
        parts.append(output.plain(f"next: {', '.join(step.next) or '(end)'}"))
        if step.interrupts:
            waiting = " (waiting for Command(resume=...))" if step.waiting else ""
            parts.append(output.plain(f"interrupts{waiting}: {document['interrupts']}"))
        # the title is cut to fit the panel, with an ellipsis: never inside the id
        console = output.stdout(at_least=len(head) + 6)
        title = output.plain(f"{head} (step {step.step}, {step.source})")
        console.print(Panel(Group(*parts), title=title, title_align="left"))
        if writes:
            rows = [(w["task_id"], w["channel"], Pretty(w["value"], max_length=20)) for w in writes]
            output.print_table(("task", "channel", "value"), rows, whole={"task"})
    return document


def _diff(saver: HistorySaver, args: argparse.Namespace) -> Any:
    configs = [_config(args.thread, args.ns, cid) for cid in (args.a, args.b)]
    for config, cid in zip(configs, (args.a, args.b), strict=True):
        if saver.get_tuple(config) is None:
            raise LookupError(f"no checkpoint {cid!r} in thread {args.thread!r}, ns {args.ns!r}")
    changes = saver.diff(*configs)
    if not args.json:
        rows: list[tuple[str, str, Any]] = [
            (c.channel, c.kind, Pretty(_details(c), max_length=20, max_string=200)) for c in changes
        ]
        if not changes:
            rows.append(("", "none", "the two checkpoints hold the same values"))
        output.print_table(("channel", "change", "details"), rows)
    return [c.as_dict() for c in changes]


def _details(c: views.Change) -> Any:
    d = c.as_dict()
    if c.kind in ("messages", "appended"):
        return {k: d[k] for k in ("added", "removed", "changed") if d[k]}
    return {k: d[k] for k in ("before", "after") if k in d and (c.kind == "changed" or d[k])}


def _tree(saver: HistorySaver, args: argparse.Namespace) -> Any:
    steps = _steps(saver, args)
    branches = views.fork_tree((s.checkpoint_id, s.parent_id) for s in steps)
    if not args.json:
        by_id = {s.checkpoint_id: s for s in steps}
        root = Tree(output.plain(f"thread {args.thread}"))
        widest = max([len(args.thread)] + [_draw(root, b, by_id, 1) for b in branches])
        output.stdout(at_least=widest).print(root)
    return [b.as_dict() for b in branches]


def _draw(parent: Tree, branch: views.Branch, by_id: dict[str, views.Step], depth: int) -> int:
    """Add `branch` under `parent` (`depth` levels below the root); return how wide the
    terminal must be for each id to fit on its line, after the tree's guides (4 a level)."""
    widest, node = 0, parent
    if branch.parent is not None:
        node = parent.add(output.plain(f"fork from {branch.parent}"))
        widest, depth = GUIDE * depth + len(branch.parent), depth + 1
    forks_at: dict[str, list[views.Branch]] = {}
    for fork in branch.forks:
        forks_at.setdefault(fork.parent or "", []).append(fork)
    for cid in branch.checkpoints:
        s = by_id[cid]
        label = f"{cid}  step {s.step}  {s.source or ''}"
        child = node.add(output.plain(label + ("  (waiting)" if s.waiting else "")))
        widest = max(widest, GUIDE * depth + len(cid))
        for fork in forks_at.get(cid, []):
            widest = max(widest, _draw(child, fork, by_id, depth + 1))
    return widest


def _search(saver: HistorySaver, args: argparse.Namespace) -> Any:
    hits = saver.search_messages(args.text, thread_id=args.thread, limit=args.limit)
    if not args.json:
        rows = [
            (
                h.thread_id,
                h.checkpoint_id,
                "" if h.step is None else str(h.step),
                h.channel,
                getattr(h.message, "type", ""),
                views.text_of(h.message)[:200],
            )
            for h in hits
        ]
        output.print_table(
            ("thread", "checkpoint", "step", "channel", "type", "message"),
            rows,
            whole={"thread", "checkpoint"},
            drop=("channel", "type", "step"),
        )
    return [h.as_dict() for h in hits]
