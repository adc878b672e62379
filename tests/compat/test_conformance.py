"""LangGraph's official conformance suite, run against every saver class."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from tests.support import ALL_CLASSES, ASYNCPG, opener


@pytest.mark.parametrize("class_name", [*ALL_CLASSES, ASYNCPG])
async def test_every_capability_passes(
    class_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    open_saver = opener(class_name, tmp_path, request)

    async def factory():  # type: ignore[no-untyped-def]
        cm = open_saver()
        if inspect.isasyncgen(getattr(cm, "gen", None)) or hasattr(cm, "__aenter__"):
            async with cm as s:
                yield s
        else:
            with cm as s:
                yield s

    report = await validate(checkpointer_test(name=class_name)(factory))
    failures = {cap: result.failures for cap, result in report.results.items() if not result.passed}
    assert failures == {}
    assert {cap for cap, r in report.results.items() if r.detected} == {
        c.value for c in ALL_CAPABILITIES
    }
