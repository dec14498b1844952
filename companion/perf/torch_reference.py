"""The PyTorch reference for side-by-side timings: SeedCNN trained with a plain PyTorch CPU loop.

PyTorch is optional (never a runtime dependency of the package): without it the functions here
return ``None``/``False`` so callers can print why a comparison is skipped.
"""

from __future__ import annotations

import importlib.util
import statistics
import time

import numpy as np

from companion.nn.seed import CONV_FEATURES, HIDDEN, KERNEL, POOL

DEFAULT_BATCH = 128
DEFAULT_LEARNING_RATE = 1e-3
IMAGE_RANK = 4


def torch_available() -> bool:
    """Whether PyTorch can be imported here.

    Returns:
        ``True`` when ``import torch`` would succeed.

    Example:
        >>> isinstance(torch_available(), bool)
        True
    """
    return importlib.util.find_spec("torch") is not None


def _check_inputs(pixels: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int, threads: int) -> None:
    pixels, labels = np.asarray(pixels), np.asarray(labels)
    if pixels.ndim != IMAGE_RANK or pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8 (N, H, W, C); got {pixels.dtype}{list(pixels.shape)}")
    if labels.shape != pixels.shape[:1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape ({pixels.shape[0]},); got {labels.dtype}{list(labels.shape)}"
        )
    for name, value, low in (("epochs", epochs, 2), ("batch_size", batch_size, 1), ("threads", threads, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}")
    if len(labels) < batch_size:
        raise ValueError(f"batch_size {batch_size} exceeds the {len(labels)} examples")


def torch_seed_cnn_throughput(
    pixels: np.ndarray, labels: np.ndarray, *, epochs: int, threads: int,
    batch_size: int = DEFAULT_BATCH, learning_rate: float = DEFAULT_LEARNING_RATE, num_classes: int = 10,
) -> dict | None:
    """Train SeedCNN's PyTorch twin with Adam and measure its images per second.

    The network is conv3x3(32)-ReLU-maxpool2-conv3x3(64)-ReLU-maxpool2-dense64-ReLU-dense,
    as :class:`companion.nn.SeedCNN`. Pixels are converted to float32 in [0, 1] (NCHW, PyTorch's
    native layout) once, before timing; each epoch draws a ``randperm``, gathers batches, and runs
    ``zero_grad``/``backward``/``step``, dropping the last incomplete batch. The first epoch is a
    warm-up; the result is the median of the others.

    Args:
        pixels: ``uint8`` images ``(N, H, W, C)``.
        labels: integer labels ``(N,)``.
        epochs: passes over the data, at least 2 (the first is not timed).
        threads: ``torch.set_num_threads`` for the run (restored afterwards).
        batch_size: examples per step.
        learning_rate: Adam's learning rate.
        num_classes: number of logits.

    Returns:
        ``None`` without PyTorch; otherwise a dict with ``images_per_second`` (median),
        ``per_epoch`` (the timed epochs), ``final_loss``, ``version`` and ``threads``.

    Example:
        >>> x = np.zeros((64, 28, 28, 1), np.uint8)
        >>> result = torch_seed_cnn_throughput(x, np.zeros(64, np.int32), epochs=2, threads=1, batch_size=32)
    """
    _check_inputs(pixels, labels, epochs, batch_size, threads)
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        side, channels = pixels.shape[1], pixels.shape[3]
        after_conv1 = (side - KERNEL + 1) // POOL
        flat = ((after_conv1 - KERNEL + 1) // POOL) ** 2 * CONV_FEATURES[1]
        model = nn.Sequential(
            nn.Conv2d(channels, CONV_FEATURES[0], KERNEL), nn.ReLU(), nn.MaxPool2d(POOL),
            nn.Conv2d(CONV_FEATURES[0], CONV_FEATURES[1], KERNEL), nn.ReLU(), nn.MaxPool2d(POOL),
            nn.Flatten(), nn.Linear(flat, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, num_classes),
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        loss_fn = nn.CrossEntropyLoss()
        images = torch.from_numpy(np.asarray(pixels).transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255))
        targets = torch.from_numpy(np.asarray(labels).astype(np.int64))
        steps = len(targets) // batch_size
        rates, loss = [], None
        for _ in range(epochs):
            started = time.perf_counter()
            order = torch.randperm(len(targets))
            for step in range(steps):
                rows = order[step * batch_size : (step + 1) * batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(images[rows]), targets[rows])
                loss.backward()
                optimizer.step()
            final_loss = loss.item()
            rates.append(steps * batch_size / (time.perf_counter() - started))
    finally:
        torch.set_num_threads(before)
    return {"images_per_second": statistics.median(rates[1:]), "per_epoch": rates[1:],
            "final_loss": final_loss, "version": torch.__version__, "threads": threads}
