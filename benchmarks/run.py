"""Run every benchmark script, one at a time, and print one table; write all results as JSON.

Each script in ``benchmarks/`` runs in its own subprocess (one after the other, so they do not
compete for the cores) and prints one JSON line; its ``summary`` rows become the table's rows::

    benchmark | ours | reference | ratio | compile s | MFU

``ratio`` is how many times faster ours is than the reference (above 1: ours is faster; for the
batching rows, how many times a training step outlasts producing its batch). Usage::

    python benchmarks/run.py [--quick] [--only train_step gan_step] [--output PATH]

``--quick`` passes ``--quick`` to every script (a few steps: checks that everything runs, the
numbers mean little). The JSON file (default ``benchmarks/results/results.json``, ignored by git)
holds every script's full JSON line, the runner's command line and any failures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
NOT_BENCHMARKS = frozenset({"common", "run"})
DEFAULT_OUTPUT = HERE / "results" / "results.json"
DEFAULT_TIMEOUT_S = 1800
COLUMNS = ("benchmark", "ours", "reference", "ratio", "compile s", "MFU")


def discover(directory: pathlib.Path = HERE) -> list[pathlib.Path]:
    """The benchmark scripts in ``directory``: every ``*.py`` but this runner, ``common.py`` and ``_*``."""
    return sorted(p for p in pathlib.Path(directory).glob("*.py")
                  if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_"))


def last_json_line(stdout: str) -> dict | None:
    """The last line of ``stdout`` that parses as a JSON object, or ``None``."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def run_script(path: pathlib.Path, *, quick: bool, timeout: float) -> dict:
    """Run one script in a subprocess; return its JSON result, or a record of its failure."""
    command = [sys.executable, str(path)] + (["--quick"] if quick else [])
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=path.parent)
    except subprocess.TimeoutExpired:
        return {"benchmark": path.stem, "error": f"timed out after {timeout:.0f} s"}
    seconds = round(time.perf_counter() - started, 1)
    result = last_json_line(done.stdout)
    if done.returncode != 0 or result is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"benchmark": path.stem, "error": f"exit status {done.returncode}: " + " | ".join(tail),
                "wall_seconds": seconds}
    result.setdefault("benchmark", path.stem)
    result["script"] = path.name
    result["wall_seconds"] = seconds
    return result


def _format(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table_rows(results: list[dict]) -> list[tuple[str, ...]]:
    """One row per ``summary`` entry of each result (one per result without any, or on failure)."""
    rows = []
    for result in results:
        if "error" in result:
            rows.append((result["benchmark"], "FAILED", result["error"][:60], "-", "-", "-"))
            continue
        summary = result.get("summary") or [{"name": result["benchmark"], "ours": "see JSON"}]
        for entry in summary:
            mfu = entry.get("mfu")
            rows.append((
                str(entry.get("name", result["benchmark"])), str(entry.get("ours", "-")),
                str(entry.get("reference", "-")), _format(entry.get("ratio"), 2),
                _format(entry.get("compile_s"), 1), "-" if mfu is None else f"{100 * mfu:.1f} %",
            ))
    return rows


def format_table(results: list[dict]) -> str:
    """The results as a Markdown table (readable as plain text too)."""
    rows = [COLUMNS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write the JSON; return 1 if any script failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every script (a few steps)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scripts (names without .py)")
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    parser.add_argument("--directory", type=pathlib.Path, default=HERE, help="where the scripts are")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per script")
    args = parser.parse_args(argv)
    scripts = discover(args.directory)
    if args.only:
        unknown = sorted(set(args.only) - {p.stem for p in scripts})
        if unknown:
            parser.error(f"--only: no such benchmark {', '.join(unknown)}; "
                         f"choose from {', '.join(p.stem for p in scripts)}")
        scripts = [p for p in scripts if p.stem in args.only]
    results = []
    for path in scripts:
        print(f"running {path.name}{' --quick' if args.quick else ''} ...", file=sys.stderr, flush=True)
        results.append(run_script(path, quick=args.quick, timeout=args.timeout))
    print(format_table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"quick": args.quick, "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "scripts": [p.name for p in scripts], "results": results}
    args.output.write_text(json.dumps(record, indent=1) + "\n")
    print(f"results written to {args.output}", file=sys.stderr)
    return int(any("error" in r for r in results))


if __name__ == "__main__":
    sys.exit(main())
