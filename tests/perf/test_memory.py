"""keep_freed_memory: applied where the C library is glibc, and freed blocks are then reused."""

import platform
import subprocess
import sys

import pytest

from companion.perf import keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
REUSE_SCRIPT = """
import resource, numpy as np
from companion.perf import keep_freed_memory
assert keep_freed_memory()
def cycle():
    block = np.empty(4 * 2**20, np.float32)  # 16 MiB, far above glibc's default mmap threshold
    block.fill(1.0)
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    cycle()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def test_applied_exactly_where_the_c_library_is_glibc():
    assert keep_freed_memory() is GLIBC


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_a_freed_16_mib_block_is_reused_without_page_faults():
    # in a fresh process, so the rest of the test session's allocations do not interfere
    out = subprocess.run([sys.executable, "-c", REUSE_SCRIPT], capture_output=True, text=True, check=True)
    pages = 16 * 2**20 // 4096
    assert float(out.stdout) < 0.01 * pages  # about 13% of the pages if only M_TOP_PAD were set


@pytest.mark.parametrize("bad", [-1, 2**31, 1.5, True])
def test_bad_pad_names_the_range(bad):
    with pytest.raises(ValueError, match=r"top_pad_bytes must be an int in \[0, 2147483647\]"):
        keep_freed_memory(bad)
