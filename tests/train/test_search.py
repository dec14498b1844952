"""Tests for companion.train.search: grid and random search over a user's trial function."""

import jax
import numpy as np
import pytest

from companion.train import Choice, LogUniform, SearchResults, Trial, Uniform, grid_search, random_search


def quadratic(key, x, y):
    """A trial whose best x is 1 and which ignores its key."""
    return {"score": -(x - 1.0) ** 2 - 0.01 * y, "loss": (x - 1.0) ** 2}


def test_grid_tries_every_combination(key):
    results = grid_search(key, quadratic, {"x": [0.0, 1.0, 2.0], "y": [1, 2]})
    assert len(results) == 6
    assert [t.params for t in results.trials[:2]] == [{"x": 0.0, "y": 1}, {"x": 0.0, "y": 2}]
    assert results.best().params == {"x": 1.0, "y": 1}
    assert results.best("loss", mode="min").params["x"] == 1.0
    assert results.column("x").shape == (6,)


def test_random_search_is_deterministic_and_in_range(key):
    space = {"x": Uniform(-2.0, 3.0), "y": LogUniform(1, 64, integer=True), "z": Choice(("a", "b")),
             "w": [1, 2], "fixed": 7}

    def trial(k, x, y, z, w, fixed):
        return x

    first = random_search(key, trial, space, trials=12)
    again = random_search(key, trial, space, trials=12)
    other = random_search(jax.random.key(5), trial, space, trials=12)
    assert first.rows() == [{**row, "seconds": a["seconds"]} for row, a in zip(again.rows(), first.rows(), strict=True)]
    assert not np.array_equal(first.column("x"), other.column("x"))
    x, y = first.column("x"), first.column("y")
    assert np.all((x >= -2.0) & (x <= 3.0))
    assert np.all((y >= 1) & (y <= 64)) and y.dtype.kind == "i"
    assert set(first.column("z")) <= {"a", "b"} and set(first.column("w")) <= {1, 2}
    assert set(first.column("fixed")) == {7}
    assert len(set(x.tolist())) == 12  # every trial tries a new value of every axis


def test_trials_get_distinct_reproducible_keys(key):
    seen = []

    def trial(k, x):
        seen.append(np.asarray(jax.random.key_data(k)).tolist())
        return 0.0

    grid_search(key, trial, {"x": [1, 2, 3]})
    grid_search(key, trial, {"x": [1, 2, 3]})
    assert seen[:3] == seen[3:]
    assert len({tuple(s) for s in seen[:3]}) == 3


def test_bare_number_becomes_score_and_nan_never_wins(key):
    results = grid_search(key, lambda k, x: float("nan") if x == 0 else x, {"x": [0, 1, 2]})
    assert results.best().params == {"x": 2}
    assert "score" in results.rows()[0]


def test_table_is_markdown():
    results = SearchResults((Trial({"lr": 0.001}, {"score": 0.5}, 1.25),))
    lines = results.table(digits=2).splitlines()
    assert lines[0] == "| lr | score | seconds |"
    assert lines[2] == "| 0.001 | 0.5 | 1.2 |"


def test_log_uniform_covers_decades(key):
    values = LogUniform(1e-4, 1.0).sample(key, 2000)
    fraction_first_decade = np.mean(values < 1e-3)
    assert 0.2 < fraction_first_decade < 0.3


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda k: grid_search(k, quadratic, {}), ValueError, "space"),
        (lambda k: grid_search(k, quadratic, {"x": []}), ValueError, "grid"),
        (lambda k: grid_search(k, "f", {"x": [1]}), TypeError, "trial"),
        (lambda k: grid_search(k, lambda key, x: "bad", {"x": [1]}), TypeError, "number"),
        (lambda k: random_search(k, quadratic, {"x": Uniform(0, 1)}, trials=0), ValueError, "trials"),
        (lambda k: LogUniform(0.0, 1.0), ValueError, "low > 0"),
        (lambda k: Uniform(1.0, 0.0), ValueError, "low < high"),
        (lambda k: Choice(()), ValueError, "at least one"),
        (lambda k: SearchResults(()).column("x"), KeyError, "no column"),
        (lambda k: SearchResults((Trial({}, {"score": 1.0}, 0.0),)).best(mode="up"), ValueError, "mode"),
    ],
)
def test_bad_input(key, call, error, match):
    with pytest.raises(error, match=match):
        call(key)
