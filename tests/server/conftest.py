"""A `saver serve` process per backend for a test module, running every test graph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.stores import KINDS, make_store
from tests.server.serving import Server, graph_options, serving


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_store(request.param, tmp_path_factory.mktemp("store"), request.addfinalizer)


@pytest.fixture(scope="module")
def server(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(store.url, *graph_options(), log_dir=tmp_path_factory.mktemp("logs")) as s:
        yield s
