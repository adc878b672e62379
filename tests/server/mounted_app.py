"""A user's own FastAPI app with the server mounted in it, the saver opened in the app's
lifespan as seed 004 does (run by uvicorn in test_mounted.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from saver import AsyncSqliteSaver
from saver.server import create_app
from tests.server.graphs import echo


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with AsyncSqliteSaver.from_conn_string(os.environ["MOUNTED_DB"]) as saver:
        await saver.setup()
        app.mount("/agent", create_app(saver, graph=echo))
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    return {"ok": True}
