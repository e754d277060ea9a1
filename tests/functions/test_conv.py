"""Convolution and pooling specifics: argument checks, adjointness of im2col/col2im, third
order, float32, the DeZero import paths."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable
from zerograd.testing import check_backward


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3))), r"channels"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3))), r"W of 4 dim"),
        (lambda: F.conv2d(np.zeros((3, 5, 5)), np.zeros((2, 3, 3, 3))), r"4-D"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), np.zeros(3)), r"b of"),
        (lambda: F.conv2d(np.zeros((1, 3, 2, 2)), np.zeros((2, 3, 3, 3))), r"empty output"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), stride=0), r"stride"),
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), pad=-1), r"pad"),
        (
            lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), stride=(1, 2, 3)),
            r"pair",
        ),
        (lambda: F.deconv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3))), r"channels"),
        (
            lambda: F.deconv2d(np.zeros((1, 2, 3, 3)), np.zeros((2, 3, 3, 3)), stride=2, outsize=9),
            r"convolve back",
        ),
        (lambda: F.pooling(np.zeros((1, 1, 2, 2)), 3), r"empty output"),
        (lambda: F.pooling(np.zeros((1, 1, 4, 4)), 2, pad=2), r"pad .* smaller than kernel"),
        (lambda: F.average_pooling(np.zeros((1, 1, 4)), 2), r"4-D"),
        (lambda: F.im2col(np.zeros((1, 1, 2, 2)), 3), r"im2col: .*empty output"),
        (lambda: F.col2im(np.zeros((4, 5)), (1, 1, 3, 3), 2), r"col2im: columns of shape"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_function(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert str(info.value).split(":")[0] in {
        "conv2d",
        "deconv2d",
        "pooling",
        "average_pooling",
        "im2col",
        "col2im",
    }


@pytest.mark.parametrize("to_matrix", [True, False])
def test_col2im_is_the_adjoint_of_im2col(to_matrix: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    col = F.im2col(x, (3, 2), (2, 1), (1, 0), to_matrix=to_matrix).data
    c = rng.standard_normal(col.shape)
    back = F.col2im(c, x.shape, (3, 2), (2, 1), (1, 0), to_matrix=to_matrix).data
    np.testing.assert_allclose((col * c).sum(), (x * back).sum(), rtol=1e-12)


def test_third_order_through_conv2d_and_pooling() -> None:
    """Backward of backward of backward: every backward is itself differentiable."""
    rng = np.random.default_rng(0)
    x, W = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))

    def f(x: Any, W: Any) -> Any:
        y = F.pooling(F.conv2d(x, W, pad=1), 2, 2)
        return (y * y * y).sum()

    xv, Wv = Variable(x), Variable(W)
    f(xv, Wv).backward(create_graph=True)
    gx = xv.grad
    xv.cleargrad()
    Wv.cleargrad()
    (gx * gx).sum().backward(create_graph=True)
    gW2 = Wv.grad
    xv.cleargrad()
    Wv.cleargrad()
    (gW2 * gW2).sum().backward()
    assert xv.grad is not None and Wv.grad is not None

    def second(x: Any, W: Any) -> Any:  # the quantity differentiated last, checked numerically
        x.cleargrad()
        f(x, W).backward(create_graph=True)
        g = x.grad
        x.cleargrad()
        W.cleargrad()
        (g * g).sum().backward(create_graph=True)
        return (W.grad * W.grad).sum()

    check_backward(second, x, W, rtol=1e-4, atol=1e-5)


def test_float32_stays_float32_through_conv_backward() -> None:
    rng = np.random.default_rng(0)
    x = Variable(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    W = Variable(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    b = Variable(np.zeros(4, np.float32))
    y = F.average_pooling(F.pooling(F.conv2d(x, W, b, 1, 1), 2, 2), 1)
    y = F.deconv2d(y, rng.standard_normal((4, 2, 2, 2)).astype(np.float32), stride=2)
    y.backward(create_graph=True)
    for v in (y, x.grad, W.grad, b.grad):
        assert v.dtype == np.float32


def test_conv2d_on_non_contiguous_input() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6, 2, 3)).transpose(2, 3, 0, 1)  # (2, 3, 5, 6), strided
    W = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(
        F.conv2d(x, W).data, F.conv2d(np.ascontiguousarray(x), W).data, rtol=1e-12
    )


def test_dezero_import_paths() -> None:
    fc = importlib.import_module("zerograd.functions_conv")
    utils = importlib.import_module("zerograd.utils")
    for name in ("conv2d", "conv2d_simple", "deconv2d", "pooling", "pooling_simple"):
        assert getattr(fc, name) is getattr(F, name)
    for name in ("average_pooling", "im2col", "col2im", "im2col_array", "col2im_array"):
        assert hasattr(fc, name)
    assert utils.get_conv_outsize(28, 3, 1, 1) == 28
    assert utils.get_deconv_outsize(14, 4, 2, 1) == 28
    assert utils.pair(3) == (3, 3) and utils.pair((1, 2)) == (1, 2)
    with pytest.raises(ValueError):
        utils.pair("3")


def test_batch_slicing_changes_no_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """conv2d, deconv2d and the weight gradient work on batch slices sized for the cache;
    forcing many small slices gives the same values (bit for bit for the forward passes)."""
    from zerograd.functions import _im2col

    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((7, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3)), np.ones(4)
    Wd = rng.standard_normal((3, 2, 2, 2))

    def run() -> list[np.ndarray]:
        xv, Wv = Variable(x), Variable(W)
        y = F.conv2d(xv, Wv, b, stride=(1, 2), pad=1)
        y.backward()
        return [y.data, F.deconv2d(x, Wd, stride=2, pad=1).data, xv.grad.data, Wv.grad.data]

    whole = run()
    monkeypatch.setattr(_im2col, "_CHUNK_BYTES", 64)
    assert len(_im2col.batch_slices(np, 7, 100)) == 7
    sliced = run()
    np.testing.assert_array_equal(sliced[0], whole[0])
    np.testing.assert_array_equal(sliced[1], whole[1])
    np.testing.assert_allclose(sliced[2], whole[2], rtol=1e-12)
    np.testing.assert_allclose(sliced[3], whole[3], rtol=1e-12)
