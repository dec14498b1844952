"""Hyperparameter search: a grid or random draws, each trial a call of your own function.

``grid_search`` tries every combination of the listed values; ``random_search`` draws each
hyperparameter independently from a distribution (:class:`LogUniform`, :class:`Uniform`,
:class:`Choice`). Both call ``trial(key, **params)``, which trains and evaluates a model and
returns a number or a dict of numbers (e.g. the validation accuracy), and both return a
:class:`SearchResults` table. Given the same key the same trials run with the same keys, so a
search is reproducible. Bergstra and Bengio (2012) showed why random draws usually beat a grid
of the same size: each draw tries a new value of *every* hyperparameter, so the few that matter
are explored at as many values as there are trials.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

__all__ = ["Choice", "LogUniform", "SearchResults", "Trial", "Uniform", "grid_search", "random_search"]

SCORE = "score"  # the metric name of a trial function that returns a bare number
SAMPLE_STREAM, TRIAL_STREAM = 0, 1


def _check_range(low, high, *, positive: bool) -> None:
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if not low < high:
        raise ValueError(f"need low < high; got low={low}, high={high}")
    if positive and low <= 0:
        raise ValueError(f"a log-uniform range needs low > 0; got low={low}")


@dataclasses.dataclass(frozen=True)
class LogUniform:
    """Values whose logarithm is uniform on ``[log low, log high]`` (for rates and sizes).

    Args:
        low: the smallest value, > 0.
        high: the largest value.
        integer: round the draws to integers (e.g. batch sizes).

    Example:
        >>> LogUniform(1e-4, 1e-1).sample(jax.random.key(0), 3).shape
        (3,)
    """

    low: float
    high: float
    integer: bool = False

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, positive=True)

    def sample(self, key: jax.Array, n: int) -> np.ndarray:
        """Draw ``n`` values; returns a ``(n,)`` float64 (or int64) array."""
        u = np.asarray(jax.random.uniform(key, (n,)), np.float64)
        values = np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return np.rint(values).astype(np.int64) if self.integer else values


@dataclasses.dataclass(frozen=True)
class Uniform:
    """Values uniform on ``[low, high]``.

    Args:
        low: the smallest value.
        high: the largest value.

    Example:
        >>> float(Uniform(0.0, 0.5).sample(jax.random.key(0), 1)[0]) <= 0.5
        True
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, positive=False)

    def sample(self, key: jax.Array, n: int) -> np.ndarray:
        """Draw ``n`` values; returns a ``(n,)`` float64 array."""
        u = np.asarray(jax.random.uniform(key, (n,)), np.float64)
        return self.low + u * (self.high - self.low)


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of a few values, each equally likely.

    Args:
        values: the candidates (numbers, strings, anything).

    Example:
        >>> Choice(("adam", "sgd")).sample(jax.random.key(0), 2).shape
        (2,)
    """

    values: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise ValueError("Choice needs at least one value; got none")

    def sample(self, key: jax.Array, n: int) -> np.ndarray:
        """Draw ``n`` values; returns a ``(n,)`` object array."""
        picks = np.asarray(jax.random.randint(key, (n,), 0, len(self.values)))
        out = np.empty(n, dtype=object)
        out[:] = [self.values[i] for i in picks]
        return out


@dataclasses.dataclass(frozen=True)
class Trial:
    """One trial of a search: its hyperparameters, what it measured, and how long it took.

    Attributes:
        params: the hyperparameters passed to the trial function.
        metrics: the numbers it returned (``{"score": value}`` for a bare number).
        seconds: wall-clock seconds of the call.

    Example:
        >>> Trial({"lr": 0.1}, {"score": 0.9}, 1.0).row()
        {'lr': 0.1, 'score': 0.9, 'seconds': 1.0}
    """

    params: dict[str, Any]
    metrics: dict[str, float]
    seconds: float

    def row(self) -> dict[str, Any]:
        """The params, then the metrics, then ``seconds``, as one flat dict."""
        return {**self.params, **self.metrics, "seconds": self.seconds}


@dataclasses.dataclass(frozen=True)
class SearchResults:
    """The table of a search, one :class:`Trial` per row, in the order they ran.

    Attributes:
        trials: the trials, in the order they ran.

    Example:
        >>> results = SearchResults((Trial({"lr": 0.1}, {"score": 0.5}, 1.0),
        ...                          Trial({"lr": 0.01}, {"score": 0.7}, 1.0)))
        >>> results.best("score").params
        {'lr': 0.01}
    """

    trials: tuple[Trial, ...]

    def __len__(self) -> int:
        return len(self.trials)

    def column(self, name: str) -> np.ndarray:
        """One hyperparameter, metric or ``"seconds"`` over the trials, shape ``(T,)``."""
        rows = [trial.row() for trial in self.trials]
        if not rows or name not in rows[0]:
            known = sorted(rows[0]) if rows else []
            raise KeyError(f"no column {name!r}; the columns are {known}")
        return np.asarray([row[name] for row in rows])

    def best(self, metric: str = SCORE, *, mode: str = "max") -> Trial:
        """The trial with the highest (``mode="max"``) or lowest (``"min"``) ``metric``; NaN never wins."""
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min'; got {mode!r}")
        values = self.column(metric).astype(np.float64)
        values = np.where(np.isnan(values), -np.inf if mode == "max" else np.inf, values)
        return self.trials[int(np.argmax(values) if mode == "max" else np.argmin(values))]

    def rows(self) -> list[dict[str, Any]]:
        """Every trial as a flat dict (see :meth:`Trial.row`)."""
        return [trial.row() for trial in self.trials]

    def table(self, *, digits: int = 4) -> str:
        """The results as a Markdown table, numbers rounded to ``digits`` significant digits."""
        rows = self.rows()
        if not rows:
            return ""
        names = list(rows[0])

        def cell(value):
            if isinstance(value, float | np.floating):
                return f"{value:.{digits}g}"
            return str(value)

        lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        lines += ["| " + " | ".join(cell(row[n]) for n in names) + " |" for row in rows]
        return "\n".join(lines)


def _run(key: jax.Array, trial: Callable, settings: list[dict[str, Any]]) -> SearchResults:
    trial_key = jax.random.fold_in(key, TRIAL_STREAM)
    trials = []
    for index, params in enumerate(settings):
        started = time.perf_counter()
        out = trial(jax.random.fold_in(trial_key, index), **params)
        seconds = time.perf_counter() - started
        if isinstance(out, Mapping):
            metrics = {str(k): float(v) for k, v in out.items()}
        elif isinstance(out, int | float | np.number) or (hasattr(out, "shape") and out.shape == ()):
            metrics = {SCORE: float(out)}
        else:
            raise TypeError(
                f"trial must return a number or a dict of numbers; got {type(out).__name__}"
            )
        trials.append(Trial(dict(params), metrics, seconds))
    return SearchResults(tuple(trials))


def _check_call(trial, space) -> None:
    if not callable(trial):
        raise TypeError(f"trial must be a function trial(key, **params); got {type(trial).__name__}")
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"the search space must be a non-empty dict of name -> values; got {space!r}")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def grid_search(key: jax.Array, trial: Callable[..., Any], grid: Mapping[str, Sequence]) -> SearchResults:
    """Try every combination of the values in ``grid``.

    Trial ``i`` (in the order of ``itertools.product`` over the grid's values) gets the key
    ``fold_in(fold_in(key, 1), i)``, as in :func:`random_search`.

    Args:
        key: a ``jax.random.key``, split into one key per trial.
        trial: ``trial(key, **params) -> float | dict[str, float]``.
        grid: hyperparameter name -> the values to try.

    Returns:
        A :class:`SearchResults` of ``prod(len(values))`` trials.

    Raises:
        ValueError: an empty grid or an empty list of values.
        TypeError: ``trial`` is not callable, or returns something other than numbers.

    Example:
        >>> results = grid_search(jax.random.key(0), lambda key, x, y: -(x - 1) ** 2 - y,
        ...                       {"x": [0, 1, 2], "y": [0, 1]})
        >>> len(results), results.best().params
        (6, {'x': 1, 'y': 0})
    """
    _check_call(trial, grid)
    for name, values in grid.items():
        if len(values) == 0:
            raise ValueError(f"grid[{name!r}] must list at least one value; got none")
    names = list(grid)
    settings = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]
    return _run(key, trial, settings)


def random_search(
    key: jax.Array, trial: Callable[..., Any], space: Mapping[str, Any], *, trials: int,
) -> SearchResults:
    """Draw ``trials`` settings at random from ``space`` and try each.

    Each hyperparameter is drawn independently with ``fold_in(fold_in(key, 0), position)``,
    where ``position`` is its place in ``space``; a plain list or tuple means
    ``Choice(values)``, and any other value is held fixed. Trial ``i`` gets the key
    ``fold_in(fold_in(key, 1), i)``.

    Args:
        key: a ``jax.random.key``; the same key draws the same settings and trial keys.
        trial: ``trial(key, **params) -> float | dict[str, float]``.
        space: hyperparameter name -> a distribution (:class:`LogUniform`, :class:`Uniform`,
            :class:`Choice`), a list of values, or a fixed value.
        trials: how many settings to draw and try.

    Returns:
        A :class:`SearchResults` of ``trials`` trials.

    Raises:
        ValueError: an empty space or ``trials < 1``.
        TypeError: ``trial`` is not callable, or returns something other than numbers.

    Example:
        >>> results = random_search(jax.random.key(0), lambda key, lr: -abs(np.log10(lr) + 2),
        ...                         {"lr": LogUniform(1e-4, 1.0)}, trials=5)
        >>> len(results)
        5
    """
    _check_call(trial, space)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be an int >= 1; got {trials!r}")
    sample_key = jax.random.fold_in(key, SAMPLE_STREAM)
    columns = {}
    for position, (name, spec) in enumerate(space.items()):
        if isinstance(spec, list | tuple):
            spec = Choice(tuple(spec))
        if hasattr(spec, "sample"):
            columns[name] = spec.sample(jax.random.fold_in(sample_key, position), trials)
        else:
            columns[name] = [spec] * trials
    settings = [{name: _plain(columns[name][i]) for name in space} for i in range(trials)]
    return _run(key, trial, settings)
