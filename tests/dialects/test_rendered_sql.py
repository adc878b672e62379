"""docs/sql/<dialect>.sql shows every statement as the dialect runs it: kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_rendered_statements_in_docs_sql_are_current() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/render_sql.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
