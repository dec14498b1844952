"""Re-execute book notebooks in place under a run profile (default ``cpu``) and save their outputs.

Usage::

    python scripts/execute_notebooks.py book/setup.ipynb            # one notebook
    python scripts/execute_notebooks.py book                        # every notebook under book/
    python scripts/execute_notebooks.py --profile quick book/x.ipynb  # a fast dry run

Datasets are found through ``$COMPANION_DATA_DIR`` as usual.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

import nbformat
from nbclient import NotebookClient


def notebooks_under(paths: list[str]) -> list[pathlib.Path]:
    found: list[pathlib.Path] = []
    for raw in paths:
        path = pathlib.Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.suffix == ".ipynb" and path.exists():
            found.append(path)
        else:
            raise SystemExit(f"not a notebook or folder: {raw}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="notebooks or folders holding them")
    parser.add_argument("--profile", default="cpu", choices=("quick", "cpu", "gpu"))
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args()
    os.environ["COMPANION_PROFILE"] = args.profile
    for path in notebooks_under(args.paths):
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(notebook, path)
        print(f"{path}: executed under {args.profile} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
