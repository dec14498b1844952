"""companion.perf: timings, the matmul peak, the cost model and the PyTorch reference."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion import perf
from companion.formulas import conv_flops


def test_median_seconds_counts_calls_and_is_positive():
    calls = []

    def fn():
        calls.append(1)
        return jnp.ones(3)

    seconds = perf.median_seconds(fn, repeats=5, warmup=2)
    assert seconds >= 0.0
    assert len(calls) == 7


@pytest.mark.parametrize("repeats", [0, 4, 2.5, True])
def test_median_seconds_rejects_too_few_repeats(repeats):
    with pytest.raises(ValueError, match="repeats"):
        perf.median_seconds(lambda: None, repeats=repeats)


def test_timing_rejects_non_callables():
    with pytest.raises(TypeError, match="fn"):
        perf.median_seconds(3)
    with pytest.raises(TypeError, match="fn"):
        perf.first_call_seconds(None)


def test_first_call_seconds_waits_for_the_result():
    assert perf.first_call_seconds(lambda: jax.jit(jnp.sin)(jnp.ones(8))) > 0.0


def test_seed_cnn_flops_match_the_formula_by_layer():
    conv1 = conv_flops(26, 26, 3, 3, 1, 32)
    conv2 = conv_flops(11, 11, 3, 3, 32, 64)
    dense = 2 * (5 * 5 * 64 * 64 + 64 * 10)
    assert perf.seed_cnn_forward_flops() == conv1 + conv2 + dense
    assert perf.seed_cnn_forward_flops(in_channels=3) > perf.seed_cnn_forward_flops()


def test_seed_cnn_flops_reject_bad_sizes():
    with pytest.raises(ValueError, match="image_size"):
        perf.seed_cnn_forward_flops(image_size=0)


def test_xla_cost_counts_a_matmul():
    cost = perf.xla_cost(jnp.dot, jax.ShapeDtypeStruct((4, 8), jnp.float32), jnp.ones((8, 2)))
    assert cost["flops"] == 2 * 4 * 8 * 2
    assert cost["bytes_accessed"] > 0 or math.isnan(cost["bytes_accessed"])


def test_mfu_is_a_ratio_and_checks_its_peak():
    assert perf.mfu(5.0, 20.0) == 0.25
    with pytest.raises(ValueError, match="peak"):
        perf.mfu(1.0, 0.0)


def test_matmul_peak_is_positive():
    assert perf.matmul_peak_flops(size=64, repeats=5) > 0
    with pytest.raises(ValueError, match="size"):
        perf.matmul_peak_flops(size=0)


def test_torch_reference_checks_inputs_before_importing_torch():
    with pytest.raises(ValueError, match="pixels"):
        perf.torch_seed_cnn_throughput(np.zeros((4, 28, 28, 1), np.float32), np.zeros(4, np.int32),
                                       epochs=2, threads=1)
    with pytest.raises(ValueError, match="epochs"):
        perf.torch_seed_cnn_throughput(np.zeros((4, 28, 28, 1), np.uint8), np.zeros(4, np.int32),
                                       epochs=1, threads=1, batch_size=2)


def test_torch_reference_trains_when_torch_is_installed():
    if not perf.torch_available():
        pytest.skip("PyTorch is not installed (pip install torch): no reference to time")
    pixels = np.random.default_rng(0).integers(0, 256, (32, 28, 28, 1), dtype=np.uint8)
    result = perf.torch_seed_cnn_throughput(pixels, np.zeros(32, np.int32), epochs=2, threads=1, batch_size=16)
    assert result["images_per_second"] > 0
    assert result["threads"] == 1
    assert perf.torch_matmul_peak_flops(size=64, repeats=5) > 0
