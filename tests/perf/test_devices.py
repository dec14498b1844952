import subprocess
import sys

import jax
import pytest

from companion.perf import available_cores, devices_for_batch, use_cpu_devices


def test_fresh_process_gets_the_requested_cpu_devices():
    code = ("import jax; from companion.perf import use_cpu_devices; use_cpu_devices(3); "
            "print(len(jax.devices('cpu')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "3"


def test_after_jax_started_it_explains_what_to_do():
    jax.devices()
    with pytest.raises(RuntimeError, match="right after `import jax`"):
        use_cpu_devices(2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="count must be an int >= 1"):
        use_cpu_devices(bad)


@pytest.mark.parametrize(("batch", "most", "expected"), [(128, 2, 2), (128, 6, 4), (100, 3, 2), (7, 4, 1),
                                                          (3, 8, 3), (1, 1, 1)])
def test_devices_for_batch_is_the_largest_divisor_within_reach(batch, most, expected):
    assert devices_for_batch(batch, most) == expected


def test_devices_for_batch_defaults_to_the_cores():
    assert devices_for_batch(2 * 3 * 4 * 5 * 7) == max(
        d for d in range(1, available_cores() + 1) if 840 % d == 0)


@pytest.mark.parametrize(("batch", "most", "name"), [(0, 2, "batch_size"), (128, 0, "max_devices"),
                                                     (12.0, 2, "batch_size"), (128, True, "max_devices")])
def test_devices_for_batch_rejects_bad_sizes(batch, most, name):
    with pytest.raises(ValueError, match=f"{name} must be an int >= 1"):
        devices_for_batch(batch, most)
