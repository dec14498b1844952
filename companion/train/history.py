"""``History``: what ``fit`` measured, epoch by epoch."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass
class History:
    """Per-epoch training record returned by ``companion.train.fit``.

    Attributes:
        train_loss: mean training loss of each epoch (over its steps, as the weights changed).
        train_accuracy: fraction of training examples classified correctly during each epoch.
        eval_accuracy: accuracy on the evaluation data after each epoch (``nan`` without any).
        eval_loss: mean cross-entropy on the evaluation data after each epoch (``nan`` without).
        images_per_second: training throughput of each epoch (evaluation excluded).
        epoch_seconds: wall-clock seconds of each epoch's training steps.
        compile_seconds: time spent compiling the training program, before the first epoch.
        best_epoch: index of the epoch with the best monitored value (eval accuracy, else
            training loss), or ``None`` before any epoch.
        stopped_early: whether early stopping ended the run before ``epochs``.

    Example:
        >>> history = History()
        >>> history.epochs
        0
    """

    train_loss: list[float] = dataclasses.field(default_factory=list)
    train_accuracy: list[float] = dataclasses.field(default_factory=list)
    eval_accuracy: list[float] = dataclasses.field(default_factory=list)
    eval_loss: list[float] = dataclasses.field(default_factory=list)
    images_per_second: list[float] = dataclasses.field(default_factory=list)
    epoch_seconds: list[float] = dataclasses.field(default_factory=list)
    compile_seconds: float = 0.0
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """The number of completed epochs."""
        return len(self.train_loss)

    @property
    def has_eval(self) -> bool:
        """Whether evaluation accuracies were recorded."""
        return any(not math.isnan(a) for a in self.eval_accuracy)

    def to_dict(self) -> dict:
        """A JSON-serialisable copy (``nan`` stays a float; ``json`` writes it as ``NaN``).

        Returns:
            A dict of the fields.

        Example:
            >>> History().to_dict()["train_loss"]
            []
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields: dict) -> History:
        """Rebuild a History from :meth:`to_dict`'s output.

        Args:
            fields: the dict.

        Returns:
            The History.

        Example:
            >>> History.from_dict(History().to_dict()).epochs
            0
        """
        return cls(**fields)
