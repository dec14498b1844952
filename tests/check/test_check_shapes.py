"""The shape checkers pass the references and diagnose the tutorials' mistakes."""

import math

import pytest

from companion import check
from companion.check import shapes


def stub(*args, **kwargs):
    raise NotImplementedError


def flatten(*, shrink_same=False, ceil=False, channels_too=True):
    """A reader's flatten_size, with one mistake switched on."""

    def size(n, *, blocks, channels, padding):
        for _ in range(blocks):
            if padding == "valid" or shrink_same:
                n -= 2
            n = math.ceil(n / 2) if ceil else n // 2
        return n * n * (channels if channels_too else 1)

    return size


def params(*, conv_bias=True, dense_bias=True):
    def count(n, *, in_channels, widths, classes, padding):
        total, c_in = 0, in_channels
        for width in widths:
            total += 9 * c_in * width + (width if conv_bias else 0)
            c_in = width
        flat = flatten()(n, blocks=len(widths), channels=c_in, padding=padding)
        return total + flat * classes + (classes if dense_bias else 0)

    return count


CHECKERS = {"flatten_size": (check.flatten_size, flatten()), "cnn_params": (check.cnn_params, params())}

WRONG = [
    ("flatten_size", flatten(shrink_same=True), "64*8*8, not 64*6*6"),
    ("flatten_size", flatten(ceil=True), "pooling rounds down"),
    ("flatten_size", flatten(channels_too=False), "channels are missing"),
    ("cnn_params", params(conv_bias=False), "convolution biases are missing"),
    ("cnn_params", params(dense_bias=False), "dense layer's biases are missing"),
]


@pytest.mark.parametrize("name", CHECKERS)
def test_reference_passes(name):
    checker, reference = CHECKERS[name]
    assert checker(reference).passed


@pytest.mark.parametrize("name", CHECKERS)
def test_stub_fails_with_a_friendly_message(name):
    result = CHECKERS[name][0](stub)
    assert not result.passed
    assert "not implemented yet" in result.message


@pytest.mark.parametrize(("name", "wrong", "cause"), WRONG, ids=[f"{w[0]}-{w[2]}" for w in WRONG])
def test_wrong_implementations_are_diagnosed(name, wrong, cause):
    result = CHECKERS[name][0](wrong)
    assert not result.passed
    assert cause in result.message.split("likely cause:")[-1], result.message


def test_the_tutorial_flatten_size_is_64_8_8():
    channels = 64
    assert shapes._flatten_size(32, blocks=2, channels=channels, padding="same") == channels * 8 * 8


def test_float_result_is_reported():
    result = check.flatten_size(lambda n, *, blocks, channels, padding: n / 2**blocks)
    assert not result.passed
    assert "integer" in result.message
