"""Datasets: download, verify, cache and parse; image folders; batching."""

from companion.data.dataset import Dataset

__all__ = ["Dataset"]
