"""A `saver serve` process per backend for a test module, running every test graph; and
Debian's headless Chromium for the page tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.cli.stores import KINDS, make_store
from tests.server.browser import DESKTOP, chromium
from tests.server.serving import Server, graph_options, serving


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_store(request.param, tmp_path_factory.mktemp("store"), request.addfinalizer)


@pytest.fixture(scope="module")
def server(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(store.url, *graph_options(), log_dir=tmp_path_factory.mktemp("logs")) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, one per module (tests/server/browser.py)."""
    with chromium() as found:
        yield found


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page of its own browser context: its own cookies, no test leaks into another."""
    context = browser.new_context(viewport=DESKTOP)
    found = context.new_page()
    found.set_default_timeout(10_000)
    yield found
    context.close()
