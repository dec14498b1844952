"""Datasets: download, verify, cache and parse; image folders; batching.

``load`` reads MNIST, Fashion-MNIST and CIFAR-10 from local copies or verified downloads,
``load_image_folder`` reads ``<class>/<image>`` trees from folders and zips, and ``batches`` and
``to_float`` feed them to a model.
"""

from companion.data.batching import batches, to_float
from companion.data.dataset import Dataset
from companion.data.errors import ChecksumError, DatasetNotFoundError, DownloadError, UnsafeArchiveError
from companion.data.folder import load_image_folder
from companion.data.imbalance import (
    balanced_resample,
    class_counts,
    effective_number_weights,
    imbalanced_indices,
    inverse_frequency_weights,
    long_tail_fractions,
)
from companion.data.load import load
from companion.data.sources import DATASETS, DatasetInfo, info
from companion.data.splits import stratified_kfold
from companion.data.validation import split_indices, stratified_subset, train_validation_split

__all__ = [
    "DATASETS",
    "ChecksumError",
    "Dataset",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DownloadError",
    "UnsafeArchiveError",
    "balanced_resample",
    "batches",
    "class_counts",
    "effective_number_weights",
    "imbalanced_indices",
    "info",
    "inverse_frequency_weights",
    "load",
    "load_image_folder",
    "long_tail_fractions",
    "split_indices",
    "stratified_kfold",
    "stratified_subset",
    "to_float",
    "train_validation_split",
]
