import subprocess
import sys

import jax
import pytest

from companion.perf import use_cpu_devices


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
