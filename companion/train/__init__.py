"""JIT-compiled training and evaluation: ``fit``, ``evaluate``, metrics and checkpoints."""

from companion.train.calibration import (
    ReliabilityBins,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
)
from companion.train.checkpoint import checkpoint_exists, restore_checkpoint, save_checkpoint
from companion.train.evaluate import evaluate, predict
from companion.train.fit import fit
from companion.train.history import History
from companion.train.inputs import batch_to_float
from companion.train.lr_finder import LRRangeTest, lr_range_test
from companion.train.metrics import (
    accuracy,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)
from companion.train.model_state import parameter_count
from companion.train.recipes import airbench_optimizer
from companion.train.search import Choice, LogUniform, SearchResults, Trial, Uniform, grid_search, random_search
from companion.train.sharding import data_mesh
from companion.train.steps import cross_entropy

__all__ = [
    "Choice",
    "History",
    "LRRangeTest",
    "LogUniform",
    "ReliabilityBins",
    "SearchResults",
    "Trial",
    "Uniform",
    "accuracy",
    "airbench_optimizer",
    "batch_to_float",
    "checkpoint_exists",
    "confusion_matrix",
    "cross_entropy",
    "data_mesh",
    "evaluate",
    "expected_calibration_error",
    "fit",
    "fit_temperature",
    "grid_search",
    "lr_range_test",
    "negative_log_likelihood",
    "parameter_count",
    "precision_recall_f1",
    "predict",
    "random_search",
    "reliability_bins",
    "restore_checkpoint",
    "save_checkpoint",
    "top_k_accuracy",
]
