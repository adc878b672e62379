"""Debian's headless Chromium, driven by Playwright (never a browser of Playwright's own
download), for the page tests; and where those tests leave their screenshots."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from tests.server.serving import ROOT

CHROMIUM = "/usr/bin/chromium"
# Chromium as root, headless, without the calls home this machine's closed network refuses.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE = ROOT / ".cache" / "ui-tools" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"no {CHROMIUM}: scripts/install installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Page, name: str, full: bool = False) -> Path:
    """A screenshot of the page as it is, kept for people to look at (build/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core (from the npm registry, scripts/install) finds wrong on the page."""
    if not AXE.exists():
        raise RuntimeError(f"no {AXE}: scripts/install installs axe-core from npm")
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return found


def backend(store: Any) -> str:
    """sqlite or postgres: a screenshot's name says which."""
    return "sqlite" if store.schema is None else "postgres"
