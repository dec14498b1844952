"""Build a notebook from a percent-format script (``# %%`` code cells, ``# %% [markdown]`` prose).

The canonical Colab install cell (``scripts/colab_cell.py``) is inserted as the first code cell,
so every notebook starts the same way. Usage::

    python scripts/new_notebook.py chapter.py book/part/chapter.ipynb
"""

from __future__ import annotations

import pathlib
import re
import sys

import nbformat

COLAB_CELL = (pathlib.Path(__file__).parent / "colab_cell.py").read_text().strip()
_MARKER = re.compile(r"^# %%( \[markdown\])?(.*)$")


def cells_from_script(text: str) -> list[nbformat.NotebookNode]:
    cells, kind, lines, tags = [], None, [], []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            cell = nbformat.v4.new_code_cell(body)
            if tags:
                cell.metadata["tags"] = tags
            cells.append(cell)

    for line in text.splitlines():
        match = _MARKER.match(line)
        if match:
            flush()
            kind = "markdown" if match.group(1) else "code"
            tags = re.findall(r'tags=\[([^\]]*)\]', match.group(2))
            tags = [t.strip(" '\"") for t in tags[0].split(",")] if tags else []
            lines = []
        else:
            lines.append(line)
    flush()
    return cells


def build(script: pathlib.Path) -> nbformat.NotebookNode:
    cells = cells_from_script(script.read_text())
    first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    colab_cell = nbformat.v4.new_code_cell(COLAB_CELL)
    colab_cell.metadata["tags"] = ["hide-cell"]  # collapsed in the book; it only matters on Colab
    cells.insert(first_code, colab_cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


if __name__ == "__main__":
    source, target = map(pathlib.Path, sys.argv[1:3])
    nbformat.write(build(source), target)
    print(f"wrote {target}")
