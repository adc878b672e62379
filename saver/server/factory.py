"""The app of a `saver serve` process, built from what the command line put in the
environment: each worker process of `--workers N` builds its own."""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI

from saver.server.app import create_app
from saver.server.graphs import load_target

ENV = "SAVER_SERVE_CONFIG"


def from_environment() -> FastAPI:
    config: dict[str, Any] = json.loads(os.environ[ENV])
    graphs = {name: load_target(target) for name, target in config.pop("graphs").items()}
    token = os.environ.get("SAVER_TOKEN") if config.pop("token_from_env") else None
    return create_app(config.pop("url"), graphs=graphs, token=token, **config)
