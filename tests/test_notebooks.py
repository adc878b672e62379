"""The notebooks in notebooks/ run top to bottom in a fresh kernel of this venv (so they cannot
rot), and are committed clean: no outputs, no execution counts."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode
from traitlets import default

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = [
    "01_time_travel.ipynb",
    "02_approval_across_restart.ipynb",
    "03_retention.ipynb",
]
FOUND = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


class ThisInterpreterSpecs(KernelSpecManager):
    """Only one kernel, "python3", and it is this interpreter (`sys.executable`): no kernel.json
    is read from or written to ~/.local/share/jupyter, the venv or the system, so a user-level
    "python3" kernel of another Python can never be picked instead."""

    def find_kernel_specs(self) -> dict[str, str]:
        return {"python3": ""}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != "python3":
            raise NoSuchKernel(kernel_name)
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (this venv)",
            language="python",
        )


class ThisInterpreterKernel(AsyncKernelManager):
    """nbclient's default kernel manager, with kernel specs from ThisInterpreterSpecs."""

    @default("kernel_spec_manager")
    def _this_interpreter_specs(self) -> KernelSpecManager:
        return ThisInterpreterSpecs()


@pytest.fixture
def run_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`run_notebook(nb)` executes `nb` in place, in a kernel started in a temporary directory;
    the kernel's IPython profile and connection file stay in tmp_path too."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    workdir = tmp_path / "work"
    workdir.mkdir()

    def run(nb: NotebookNode) -> NotebookNode:
        client = NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            kernel_manager_class=ThisInterpreterKernel,
            resources={"metadata": {"path": str(workdir)}},
        )
        return client.execute()

    return run


def read(name: str) -> NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_exactly_the_three_notebooks_exist() -> None:
    assert FOUND == EXPECTED


def test_the_kernel_runs_this_venv(run_notebook) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import sys\nimport saver\nprint(sys.prefix)\nprint(saver.__file__)"
        )
    )
    run_notebook(nb)
    prefix, saver_file = nb.cells[0].outputs[0]["text"].splitlines()
    assert prefix == sys.prefix
    assert Path(saver_file).resolve().is_relative_to(ROOT / "saver")


@pytest.mark.parametrize("name", FOUND)
def test_notebook_runs(name: str, run_notebook) -> None:
    nb = read(name)
    try:
        run_notebook(nb)
    except CellExecutionError as err:
        failed = [
            i
            for i, cell in enumerate(nb.cells, start=1)
            if any(out.get("output_type") == "error" for out in cell.get("outputs", []))
        ]
        where = f"cell {failed[0]} of {len(nb.cells)}" if failed else "a cell"
        trace = ANSI.sub("", str(err))
        pytest.fail(f"{name}: {where} raised {err.ename}: {err.evalue}\n{trace}", pytrace=False)


@pytest.mark.parametrize("name", FOUND)
def test_notebook_is_committed_clean(name: str) -> None:
    nb = read(name)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells, start=1)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{name}: cells {dirty} have outputs or execution counts; clear them"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
