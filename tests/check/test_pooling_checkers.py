"""check.max_pool2d, check.avg_pool2d and check.max_pool2d_grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion import check, formulas


def _stub(*args, **kwargs):
    raise NotImplementedError


def _assert_diagnosis(result, fragment):
    assert not result.passed
    assert fragment in result.message, result.message


def loop_pool(x, size, *, stride=None, reduce=np.max, ceil=False):
    """Reader-style NumPy pooling loop."""
    x = np.asarray(x)
    kh, kw = (size, size) if isinstance(size, int) else size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    if ceil:
        h_out, w_out = -(-(x.shape[0] - kh) // sh) + 1, -(-(x.shape[1] - kw) // sw) + 1
    else:
        h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, x.shape[2]), np.float32)
    for u in range(h_out):
        for v in range(w_out):
            out[u, v] = reduce(x[u * sh : u * sh + kh, v * sw : v * sw + kw], axis=(0, 1))
    return out


@pytest.mark.parametrize(
    ("checker", "reference", "reduce"),
    [
        (check.max_pool2d, formulas.max_pool2d, np.max),
        (check.avg_pool2d, formulas.avg_pool2d, np.mean),
    ],
)
def test_references_and_loops_pass(checker, reference, reduce):
    assert checker(reference, verbose=False).passed
    assert checker(lambda x, size, *, stride=None: loop_pool(x, size, stride=stride, reduce=reduce), verbose=False)


@pytest.mark.parametrize("checker", [check.max_pool2d, check.avg_pool2d, check.max_pool2d_grad])
def test_stubs_fail_friendly(checker):
    _assert_diagnosis(checker(_stub, verbose=False), "not implemented yet")


def _single_pixel(x, size, *, stride=None):
    step = size if stride is None else stride
    kh = size if isinstance(size, int) else size[0]
    kw = size if isinstance(size, int) else size[1]
    sh, sw = (step, step) if isinstance(step, int) else step
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    return np.asarray(x)[0 : sh * h_out : sh, 0 : sw * w_out : sw]


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda x, size, *, stride=None: loop_pool(x, size, stride=stride, reduce=np.mean), "you averaged"),
        (_single_pixel, "single pixel"),
        (lambda x, size, *, stride=None: loop_pool(x, size), "ignored the stride"),
        (lambda x, size, *, stride=None: loop_pool(x, size, stride=stride, ceil=True), "ceil mode"),
        (lambda x, size, *, stride=None: loop_pool(x, size, stride=stride).max(axis=-1), "over the channels"),
        (lambda x, size, *, stride=None: loop_pool(np.abs(x), size, stride=stride), "absolute values"),
        (lambda x, size, stride=None: loop_pool(x, size, stride=stride)[:-1], "off by one"),
    ],
)
def test_max_pool_mistakes(wrong, fragment):
    _assert_diagnosis(check.max_pool2d(wrong, verbose=False), fragment)


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda x, size, *, stride=None: loop_pool(x, size, stride=stride, reduce=np.max), "you took the maximum"),
        (lambda x, size, *, stride=None: loop_pool(x, size, stride=stride, reduce=np.sum), "you summed"),
        (
            lambda x, size, *, stride=None: loop_pool(x, size, stride=stride, reduce=np.sum) / size,
            "divided by the window side",
        ),
        (lambda x, size, *, stride=None: loop_pool(x, size, stride=None, reduce=np.mean), "ignored the stride"),
    ],
)
def test_avg_pool_mistakes(wrong, fragment):
    _assert_diagnosis(check.avg_pool2d(wrong, verbose=False), fragment)


def loop_max_pool_grad(x, grad_out, size, *, stride=None, tie="first", accumulate=True):
    x, g = np.asarray(x), np.asarray(grad_out)
    step = size if stride is None else stride
    grad = np.zeros_like(x)
    for u in range(g.shape[0]):
        for v in range(g.shape[1]):
            for c in range(x.shape[2]):
                window = x[u * step : u * step + size, v * step : v * step + size, c]
                flat = window.ravel()
                index = int(np.argmax(flat)) if tie == "first" else len(flat) - 1 - int(np.argmax(flat[::-1]))
                i, j = divmod(index, size)
                if accumulate:
                    grad[u * step + i, v * step + j, c] += g[u, v, c]
                else:
                    grad[u * step + i, v * step + j, c] = g[u, v, c]
    return grad


def test_max_pool_grad_reference_loop_and_autodiff_pass():
    assert check.max_pool2d_grad(formulas.max_pool2d_grad, verbose=False).passed
    assert check.max_pool2d_grad(loop_max_pool_grad, verbose=False).passed

    def by_autodiff(x, grad_out, size, *, stride=None):
        return jax.vjp(lambda x: formulas.max_pool2d(x, size, stride=stride), x)[1](grad_out)[0]

    assert check.max_pool2d_grad(by_autodiff, verbose=False).passed


def _split_by_jnp_max(x, grad_out, size, *, stride=None):
    step = size if stride is None else stride
    grad = jnp.zeros_like(x)
    for u in range(grad_out.shape[0]):
        for v in range(grad_out.shape[1]):
            window = x[u * step : u * step + size, v * step : v * step + size]
            share = jax.grad(lambda w, u=u, v=v: jnp.sum(w.max(axis=(0, 1)) * grad_out[u, v]))(window)
            grad = grad.at[u * step : u * step + size, v * step : v * step + size].add(share)
    return grad


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (_split_by_jnp_max, "split the gradient"),
        (lambda x, g, size, *, stride=None: loop_max_pool_grad(x, g, size, stride=stride, tie="last"), "last maximum"),
        (
            lambda x, g, size, *, stride=None: loop_max_pool_grad(x, g, size, stride=stride, accumulate=False),
            "overwrote",
        ),
        (
            lambda x, g, size, *, stride=None: formulas.avg_pool2d_grad(g, x.shape[:2], size, stride=stride),
            "as average pooling does",
        ),
    ],
)
def test_max_pool_grad_mistakes(wrong, fragment):
    _assert_diagnosis(check.max_pool2d_grad(wrong, verbose=False), fragment)
