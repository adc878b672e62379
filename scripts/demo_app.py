"""The demo: a chat that survives a restart, its history, a replay and a fork, on SQLite.

scripts/demo                 # a fresh temporary file
scripts/demo --db chat.db    # keep the file to look at it afterwards
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import START, MessagesState, StateGraph

from saver import SqliteSaver


def assistant(state: MessagesState) -> dict[str, list[AnyMessage]]:
    """A stand-in model: answers by counting what it has been told."""
    said = [m.content for m in state["messages"] if isinstance(m, HumanMessage)]
    return {"messages": [AIMessage(f"(turn {len(said)}) you said {said[-1]!r}")]}


def build() -> StateGraph:
    builder = StateGraph(MessagesState)
    builder.add_node("assistant", assistant)
    builder.add_edge(START, "assistant")
    return builder


def show(title: str, messages: list[Any]) -> None:
    print(f"\n== {title}")
    for m in messages:
        print(f"   {m.type:>5}: {m.content}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="SQLite file to use (default: a fresh temporary one)")
    args = parser.parse_args()
    path = args.db or str(Path(tempfile.mkdtemp()) / "demo.sqlite")
    config: Any = {"configurable": {"thread_id": "demo-chat"}}
    print(f"SQLite file: {path}")

    with SqliteSaver.from_conn_string(path) as checkpointer:
        graph = build().compile(checkpointer=checkpointer)
        graph.invoke({"messages": [HumanMessage("hello")]}, config)
        graph.invoke({"messages": [HumanMessage("my name is Ada")]}, config)
    print("\n-- the process 'restarts': the saver is closed and opened again on the same file --")

    with SqliteSaver.from_conn_string(path) as checkpointer:
        graph = build().compile(checkpointer=checkpointer)
        out = graph.invoke({"messages": [HumanMessage("what is my name?")]}, config)
        show("conversation after the restart", out["messages"])

        history = list(graph.get_state_history(config))
        print(f"\n== history: {len(history)} checkpoints, newest first")
        for snap in history:
            meta = snap.metadata or {}
            cid = snap.config["configurable"]["checkpoint_id"]
            print(
                f"   step {meta.get('step'):>2}  {meta.get('source'):<6} {cid}  "
                f"messages={len(snap.values.get('messages', []))}  next={snap.next}"
            )

        # Step 3: "my name is Ada" was said, the assistant had not answered yet.
        old = next(s for s in history if s.metadata and s.metadata.get("step") == 3)
        replayed = graph.invoke(None, old.config)
        show("replay from step 3 (the assistant answers again from there)", replayed["messages"])

        fork_config = graph.update_state(
            old.config, {"messages": [HumanMessage("call me Grace instead")]}
        )
        forked = graph.invoke(None, fork_config)
        show("fork at step 3 with update_state", forked["messages"])

        print(f"\n== history now holds {len(list(graph.get_state_history(config)))} checkpoints")
        print("   (the replay and the fork are branches; nothing was overwritten)")
    print(
        "\nSee the fork tree in a browser: .venv/bin/saver serve "
        f"sqlite:///{path}\nthen open http://127.0.0.1:8000/thread/demo-chat"
    )


if __name__ == "__main__":
    main()
