"""The notebook policy of DESIGN.md, checked on every notebook of the book."""

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
COLAB_CELL = (ROOT / "scripts" / "colab_cell.py").read_text().strip()
MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024
REPOSITORY_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def code_cells(path: pathlib.Path) -> list[dict]:
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def toc_files() -> set[str]:
    return set(re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text()))


def test_there_are_notebooks():
    assert NOTEBOOKS, "book/ holds no notebook"


def test_colab_cell_installs_this_repository():
    assert REPOSITORY_URL in COLAB_CELL, "scripts/colab_cell.py must install from _config.yml's repository url"
    assert "keep-jax" in COLAB_CELL and "google.colab" in COLAB_CELL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
class TestNotebook:
    def test_first_code_cell_is_the_colab_install_cell(self, path):
        assert "".join(code_cells(path)[0]["source"]).strip() == COLAB_CELL

    def test_last_code_cell_prints_the_environment_stamp(self, path):
        assert "environment_stamp()" in "".join(code_cells(path)[-1]["source"])

    def test_committed_with_outputs(self, path):
        cells = code_cells(path)
        unexecuted = [i for i, c in enumerate(cells) if c.get("execution_count") is None]
        assert not unexecuted, f"code cells {unexecuted} were never executed: run scripts/execute_notebooks.py"
        assert cells[-1]["outputs"], "the environment stamp has no output"

    def test_no_errors_in_outputs(self, path):
        errors = [o for c in code_cells(path) for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"committed outputs hold errors: {[e['ename'] for e in errors]}"

    def test_is_small(self, path):
        assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is over 2 MB: shrink its figures"

    def test_is_in_the_table_of_contents(self, path):
        assert str(path.relative_to(ROOT).with_suffix("")) in toc_files()

    def test_names_no_path_of_this_machine(self, path):
        assert str(ROOT.parent) + "/" not in path.read_text(), "an output shows a local path"
