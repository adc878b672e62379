"""`saver serve`: threads, state, history and runs over HTTP, as LangGraph's Agent Server API
(for `langgraph-sdk`) and agentflow's `/v1/threads` endpoints speak them, on your own database.

    from saver.server import create_app
    app = create_app(saver, graph)           # an ASGI app; mount it or run it with uvicorn

Needs the `server` extra: pip install 'langgraph-checkpoint-history[server]'.
"""

from saver.server.app import create_app

__all__ = ["create_app"]
