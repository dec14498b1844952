"""check.conv2d, check.convolve2d and check.conv_output_size: references pass, mistakes are named."""

import jax.numpy as jnp
import numpy as np
import pytest

from companion import check, formulas


def _stub(*args, **kwargs):
    raise NotImplementedError


def _assert_diagnosis(result, fragment):
    assert not result.passed
    assert fragment in result.message, result.message


# conv_output_size -------------------------------------------------------------------------


def test_conv_output_size_reference_passes():
    assert check.conv_output_size(formulas.conv_output_size, verbose=False).passed


def test_conv_output_size_stub_fails_friendly():
    _assert_diagnosis(check.conv_output_size(_stub, verbose=False), "not implemented yet")


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (
            lambda n, k, *, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1) - 1) // stride,
            "forgot the + 1",
        ),
        (lambda n, k, *, stride=1, padding=0, dilation=1: (n + 2 * padding - k) // stride + 1, "ignored the dilation"),
        (
            lambda n, k, *, stride=1, padding=0, dilation=1: (n + padding - dilation * (k - 1) - 1) // stride + 1,
            "n + 2p",
        ),
        (
            lambda n, k, *, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1) - 1) / stride + 1,
            "use // (floor division)",
        ),
        (
            lambda n, k, *, stride=1, padding=0, dilation=1: (
                -(-(n + 2 * padding - dilation * (k - 1) - 1) // stride) + 1
            ),
            "rounded up",
        ),
        (
            lambda n, k, *, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1)) // stride + 1,
            "subtract d(k - 1) + 1",
        ),
        (lambda n, k: n - k + 1, "signature"),
    ],
)
def test_conv_output_size_mistakes(wrong, fragment):
    _assert_diagnosis(check.conv_output_size(wrong, verbose=False), fragment)


# conv2d -----------------------------------------------------------------------------------


def loop_conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, flip=False, use_bias=True, pad_one_side=False):
    """A reader-style NumPy loop implementation, with switches for typical mistakes."""
    x, w = np.asarray(x), np.asarray(w)
    if flip:
        w = w[::-1, ::-1]
    pads = ((0, 2 * padding), (0, 2 * padding), (0, 0)) if pad_one_side else ((padding, padding),) * 2 + ((0, 0),)
    xp = np.pad(x, pads)
    kh, kw, _, c_out = w.shape
    h_out = (xp.shape[0] - dilation * (kh - 1) - 1) // stride + 1
    w_out = (xp.shape[1] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((h_out, w_out, c_out), np.float32)
    for u in range(h_out):
        for v in range(w_out):
            for i in range(kh):
                for j in range(kw):
                    out[u, v] += xp[stride * u + dilation * i, stride * v + dilation * j] @ w[i, j]
    if use_bias and b is not None:
        out += np.asarray(b)
    return out


def test_conv2d_reference_and_loop_pass():
    assert check.conv2d(formulas.conv2d, verbose=False).passed
    assert check.conv2d(loop_conv2d, verbose=False).passed


def test_conv2d_stub_fails_friendly():
    _assert_diagnosis(check.conv2d(_stub, verbose=False), "not implemented yet")


def _no_stride(x, w, b=None, *, stride=1, padding=0, dilation=1):
    return loop_conv2d(x, w, b, stride=1, padding=padding, dilation=dilation)


def _no_padding(x, w, b=None, *, stride=1, padding=0, dilation=1):
    return loop_conv2d(x, w, b, stride=stride, padding=0, dilation=dilation)


def _no_dilation(x, w, b=None, *, stride=1, padding=0, dilation=1):
    return loop_conv2d(x, w, b, stride=stride, padding=padding, dilation=1)


def _short(x, w, b=None, **kwargs):
    return loop_conv2d(x, w, b, **kwargs)[:-1]


def _first_channel(x, w, b=None, **kwargs):
    return loop_conv2d(np.asarray(x)[..., :1], np.asarray(w)[:, :, :1], b, **kwargs)


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda x, w, b=None, **kw: loop_conv2d(x, w, b, flip=True, **kw), "you computed a true convolution"),
        (lambda x, w, b=None, **kw: loop_conv2d(x, w, b, use_bias=False, **kw), "forgot to add the bias"),
        (_no_stride, "ignored the stride"),
        (_no_padding, "ignored the padding"),
        (_no_dilation, "ignored the dilation"),
        (lambda x, w, b=None, **kw: loop_conv2d(x, w, b, pad_one_side=True, **kw), "one side only"),
        (_short, "off by one"),
        (_first_channel, "first input channel"),
        (lambda x, w, b=None, **kw: jnp.round(loop_conv2d(x, w, b, **kw)).astype(jnp.int32), "floating"),
        (lambda x, w, b=None, **kw: loop_conv2d(x, w, b, **kw) / 0, "NaN or inf"),
    ],
)
def test_conv2d_mistakes(wrong, fragment):
    _assert_diagnosis(check.conv2d(wrong, verbose=False), fragment)


# convolve2d -------------------------------------------------------------------------------


def loop_convolve2d(x, k, *, flip=(True, True), mode="valid"):
    x, k = np.asarray(x), np.asarray(k)
    if flip[0]:
        k = k[::-1]
    if flip[1]:
        k = k[:, ::-1]
    if mode == "full":
        x = np.pad(x, ((k.shape[0] - 1,) * 2, (k.shape[1] - 1,) * 2))
    out = np.zeros((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1), np.float32)
    for u in range(out.shape[0]):
        for v in range(out.shape[1]):
            out[u, v] = np.sum(x[u : u + k.shape[0], v : v + k.shape[1]] * k)
    return out


def test_convolve2d_reference_and_loop_pass():
    assert check.convolve2d(formulas.convolve2d, verbose=False).passed
    assert check.convolve2d(loop_convolve2d, verbose=False).passed


def test_convolve2d_stub_fails_friendly():
    _assert_diagnosis(check.convolve2d(_stub, verbose=False), "not implemented yet")


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda x, k: loop_convolve2d(x, k, flip=(False, False)), "you computed a cross-correlation"),
        (lambda x, k: loop_convolve2d(x, k, flip=(True, False)), "one axis only"),
        (lambda x, k: loop_convolve2d(x, np.asarray(k).T, flip=(False, False)), "transposed the kernel"),
        (lambda x, k: loop_convolve2d(x, k, mode="full"), "'full'"),
        (lambda x, k: loop_convolve2d(x, k)[:, :-1], "off by one"),
    ],
)
def test_convolve2d_mistakes(wrong, fragment):
    _assert_diagnosis(check.convolve2d(wrong, verbose=False), fragment)


def test_report_shows_inputs_expected_got_and_cause(capsys):
    result = check.convolve2d(lambda x, k: loop_convolve2d(x, k, flip=(False, False)))
    printed = capsys.readouterr().out
    assert printed.strip() == result.message
    for part in ("FAIL: convolve2d, case 1 of", "inputs:", "x:", "k:", "expected:", "got:", "likely cause:"):
        assert part in printed
