"""benchmarks/run.py: discovery, subprocess runs, the table and the JSON file, on tiny fake scripts."""

import importlib.util
import json
import pathlib
import textwrap

import pytest

BENCHMARKS = pathlib.Path(__file__).parents[2] / "benchmarks"


def load_runner():
    spec = importlib.util.spec_from_file_location("benchmark_runner", BENCHMARKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = load_runner()

GOOD = """
import json, sys
quick = "--quick" in sys.argv
print("some log line")
print(json.dumps({"benchmark": "good", "quick": quick, "summary": [
    {"name": "fake step vs reference", "ours": "2.0 ms", "reference": "4.0 ms", "ratio": 2.0,
     "compile_s": 1.25, "mfu": 0.125}]}))
"""
BARE = 'import json\nprint(json.dumps({"value": 1}))\n'
BAD = 'import sys\nprint("boom", file=sys.stderr)\nsys.exit(3)\n'


@pytest.fixture
def scripts(tmp_path):
    for name, text in (("good", GOOD), ("bare", BARE), ("bad", BAD), ("common", BAD), ("_private", BAD)):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    return tmp_path


def test_discover_skips_the_runner_common_and_private_files(scripts):
    assert [p.stem for p in runner.discover(scripts)] == ["bad", "bare", "good"]


def test_the_real_benchmarks_are_discovered_and_take_quick():
    names = [p.stem for p in runner.discover(BENCHMARKS)]
    assert {"augment", "batching", "gan_step", "train_step"} <= set(names)
    for name in names:
        assert "common.parser(" in (BENCHMARKS / f"{name}.py").read_text(), f"{name}.py lacks --quick"


def test_last_json_line_ignores_logs():
    assert runner.last_json_line('log\n{"a": 1}\n{broken\n') == {"a": 1}
    assert runner.last_json_line("no json here") is None


def test_quick_run_prints_a_table_and_writes_json(scripts, tmp_path, capsys):
    output = tmp_path / "out" / "results.json"
    status = runner.main(["--quick", "--directory", str(scripts), "--output", str(output)])
    assert status == 1  # bad.py failed
    table = capsys.readouterr().out
    header, _rule, *rows = table.strip().splitlines()
    assert [c.strip() for c in header.strip("|").split("|")] == list(runner.COLUMNS)
    assert any("fake step vs reference" in r and "2.00" in r and "12.5 %" in r for r in rows)
    assert any(r.startswith("| bad") and "FAILED" in r and "exit status 3" in r for r in rows)
    assert any(r.startswith("| bare") and "see JSON" in r for r in rows)
    record = json.loads(output.read_text())
    assert record["quick"] is True
    good = next(r for r in record["results"] if r["benchmark"] == "good")
    assert good["quick"] is True and good["script"] == "good.py"


def test_only_selects_and_rejects_unknown_names(scripts, tmp_path, capsys):
    output = tmp_path / "only.json"
    assert runner.main(["--only", "good", "--directory", str(scripts), "--output", str(output)]) == 0
    assert [r["benchmark"] for r in json.loads(output.read_text())["results"]] == ["good"]
    with pytest.raises(SystemExit):
        runner.main(["--only", "nope", "--directory", str(scripts), "--output", str(output)])
