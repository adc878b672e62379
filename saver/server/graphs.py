"""The graphs a server runs, one assistant each: loaded from `package.module:attr` or
`path/to/file.py:attr` (as `langgraph.json` names them), compiled with the server's saver."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from saver.errors import InvalidConfigError

# The Agent Server's namespace for the assistant made for each graph: the same graph id gives
# the same assistant id there and here.
NAMESPACE_GRAPH = UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
STARTED = datetime.now(timezone.utc).isoformat()


@dataclass
class Assistant:
    graph_id: str
    graph: Pregel
    assistant_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.assistant_id = str(uuid5(NAMESPACE_GRAPH, self.graph_id))

    def as_dict(self) -> dict[str, Any]:
        return {
            "assistant_id": self.assistant_id,
            "graph_id": self.graph_id,
            "config": {},
            "context": {},
            "metadata": {"created_by": "system"},
            "name": self.graph_id,
            "created_at": STARTED,
            "updated_at": STARTED,
            "version": 1,
            "description": None,
        }


def with_saver(graph: Any, checkpointer: Any) -> Pregel:
    """A graph that keeps its steps in `checkpointer`: a StateGraph builder is compiled with
    it; a compiled graph is copied with it (a graph compiled with a saver of its own keeps
    writing there, which a server over this database would never show)."""
    if isinstance(graph, StateGraph):
        return graph.compile(checkpointer=checkpointer)
    if isinstance(graph, Pregel):
        return graph.copy(update={"checkpointer": checkpointer})
    raise InvalidConfigError(
        f"expected a StateGraph or a compiled graph, got {type(graph).__name__}"
    )


def load_target(target: str) -> Any:
    """The object `target` names: `package.module:attr` or `path/to/file.py:attr`."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise InvalidConfigError(
            f"cannot load {target!r}: expected package.module:attr or path/to/file.py:attr"
        )
    if where.endswith(".py"):
        path = Path(where).resolve()
        if not path.is_file():
            raise InvalidConfigError(f"cannot load {target!r}: no file {str(path)!r}")
        name = f"saver_graph_{path.stem}_{abs(hash(str(path)))}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))  # so the file's own imports of its neighbours work
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise InvalidConfigError(f"cannot load {target!r}: {e}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InvalidConfigError(f"cannot load {target!r}: no {attr!r} in it") from None


def parse_graph_options(options: list[str]) -> dict[str, str]:
    """`--graph TARGET` or `--graph NAME=TARGET`, each given graph id -> target. A graph
    without a name is called after its attribute."""
    out: dict[str, str] = {}
    for option in options:
        name, sep, target = option.partition("=")
        if not sep:
            name, target = option.rpartition(":")[2], option
        if not name or name in out:
            raise InvalidConfigError(f"--graph {option!r}: give each graph a distinct name")
        out[name] = target
    return out


def assistants(graphs: Mapping[str, Any], checkpointer: Any) -> dict[str, Assistant]:
    return {gid: Assistant(gid, with_saver(g, checkpointer)) for gid, g in graphs.items()}
