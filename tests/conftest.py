"""Options for the whole suite: `--long` runs the full fault campaign (tests/faults)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="run the full fault campaign in tests/faults (200 kills per backend), not the "
        "handful the default suite runs",
    )


def long_run(config: pytest.Config) -> bool:
    """Whether the run was started with --long."""
    return bool(config.getoption("--long"))


@pytest.fixture
def long_campaign(request: pytest.FixtureRequest) -> bool:
    """True under --long: a test runs its full campaign rather than its default handful."""
    return long_run(request.config)
