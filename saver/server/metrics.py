"""Prometheus metrics: requests by route and status with their latency, saver operations
with theirs, runs by how they ended. One registry per process (as prometheus-client keeps)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "saver_http_requests",
    "HTTP requests answered",
    ["method", "route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "saver_http_request_seconds", "Time to answer an HTTP request", ["method", "route"],
    registry=REGISTRY,
)  # fmt: skip
SAVER_SECONDS = Histogram(
    "saver_operation_seconds", "Time of a saver operation the server ran", ["operation"],
    registry=REGISTRY,
)  # fmt: skip
RUNS = Counter("saver_runs", "Runs finished, by how they ended", ["status"], registry=REGISTRY)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def run_finished(status: str) -> None:
    RUNS.labels(status).inc()


@asynccontextmanager
async def timed(operation: str) -> AsyncIterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        SAVER_SECONDS.labels(operation).observe(time.perf_counter() - started)


def generate() -> bytes:
    return _generate(REGISTRY)
