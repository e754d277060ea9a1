"""Loss-specific behaviour: numerics at extreme logits, label checks, options, accuracy."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable

BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
T = np.array([0, 2])


def _grad(f: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = Variable(x.copy())
    y = f(v)
    y.backward()
    return y.data, v.grad.data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_is_stable_at_1000(dtype: Any) -> None:
    x = BIG.astype(dtype)
    for f in (F.softmax, F.softmax_simple, F.log_softmax, F.logsumexp):
        y, g = _grad(f, x)
        assert np.isfinite(y).all() and np.isfinite(g).all(), f.__name__
    # float32 resolves 1000 only to 6e-5
    atol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(
        F.log_softmax(x).data[1],
        [-2000 - np.log1p(np.exp(-1.0)), -np.log1p(np.exp(-1.0)), -1 - np.log1p(np.exp(-1.0))],
        rtol=1e-7,
        atol=atol,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_at_1000(dtype: Any) -> None:
    loss, g = _grad(lambda v: F.softmax_cross_entropy(v, T), BIG.astype(dtype))
    assert loss.dtype == dtype
    # row 0: right with certainty, loss 0; row 1: logsumexp(-1000, 1000, 999) - 999
    expected = (0.0 + (1000 + np.log1p(np.exp(-1.0)) - 999)) / 2
    atol = 1e-4 if dtype == np.float32 else 1e-9  # float32 resolves 1000 only to 6e-5
    np.testing.assert_allclose(loss, expected, rtol=0, atol=atol)
    p1 = np.array([0.0, 1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))])
    np.testing.assert_allclose(g, np.array([[0, 0, 0], p1 - [0, 0, 1]]) / 2, atol=1e-6)


def test_softmax_cross_entropy_simple_clips_confident_mistakes() -> None:
    loss, g = _grad(lambda v: F.softmax_cross_entropy_simple(v, T), BIG)
    assert np.isfinite(loss) and np.isfinite(g).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_cross_entropy_confident_logits_stay_finite(dtype: Any) -> None:
    x = np.array([[1000.0, -1000.0], [50.0, -50.0]], dtype=dtype)
    t = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    loss, g = _grad(lambda v: F.sigmoid_cross_entropy(v, t), x)
    # confident and right: 0; confident and wrong by 50: 50 each
    np.testing.assert_allclose(loss, 100 / 2, rtol=1e-6)
    np.testing.assert_allclose(g, [[0, 0], [0.5, -0.5]], atol=1e-7)
    assert loss.dtype == dtype and g.dtype == dtype


def test_sigmoid_cross_entropy_takes_integer_labels_of_other_shape() -> None:
    x = np.array([[0.3], [-1.2]])
    loss = F.sigmoid_cross_entropy(x, np.array([1, 0]))
    p = 1 / (1 + np.exp(-x[:, 0]))
    np.testing.assert_allclose(loss.data, -(np.log(p[0]) + np.log(1 - p[1])) / 2)


def test_labels_may_be_a_variable_or_a_column() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3))
    a = F.softmax_cross_entropy(x, T).data
    assert F.softmax_cross_entropy(x, Variable(T)).data == a
    assert F.softmax_cross_entropy(x, T[:, None]).data == a


@pytest.mark.parametrize(
    "t,match",
    [
        (np.array([0, 1, 2]), r"3 label\(s\).*batch of 2"),
        (np.array([0, 3]), r"\[0, 3\).*from 0 to 3"),
        (np.array([-1, 0]), r"\[0, 3\)"),
        (np.array([0.0, 1.0]), "must be integers"),
    ],
)
def test_bad_labels_raise_naming_the_function(t: np.ndarray, match: str) -> None:
    x = np.zeros((2, 3))
    for f in (F.softmax_cross_entropy, F.softmax_cross_entropy_simple):
        with pytest.raises(ValueError, match=f"^{f.__name__}: .*{match}"):
            f(x, t)


def test_softmax_cross_entropy_needs_2d_logits() -> None:
    with pytest.raises(ValueError, match="x must be 2-D"):
        F.softmax_cross_entropy(np.zeros(3), np.array([0]))


def test_ignore_index_drops_rows_from_the_mean() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    v = Variable(x.copy())
    loss = F.softmax_cross_entropy(v, np.array([1, -100, 3]), ignore_index=-100)
    loss.backward()
    kept = F.softmax_cross_entropy(x[[0, 2]], np.array([1, 3]))
    np.testing.assert_allclose(loss.data, kept.data, rtol=1e-12)
    assert not v.grad.data[1].any()
    all_ignored = F.softmax_cross_entropy(x, np.array([-100] * 3), ignore_index=-100)
    assert np.isnan(all_ignored.data)


def test_label_smoothing_range() -> None:
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.softmax_cross_entropy(np.zeros((1, 2)), np.array([0]), label_smoothing=1.5)


def test_mean_squared_error_gradients_keep_input_shapes() -> None:
    """DeZero returned the broadcast shape for both gradients."""
    a, b = Variable(np.ones((3, 4))), Variable(np.zeros((1, 4)))
    F.mean_squared_error(a, b).backward()
    assert a.grad.shape == (3, 4) and b.grad.shape == (1, 4)
    np.testing.assert_allclose(b.grad.data, -np.full((1, 4), 2.0))


def test_loss_shape_errors() -> None:
    with pytest.raises(ValueError, match="mean_squared_error: got shapes"):
        F.mean_squared_error(np.zeros((3, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="sigmoid_cross_entropy"):
        F.sigmoid_cross_entropy(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="binary_cross_entropy"):
        F.binary_cross_entropy(np.zeros((3, 2)), np.zeros((3, 3)))


def test_accuracy() -> None:
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    acc = F.accuracy(y, np.array([1, 1, 1]))
    assert isinstance(acc, Variable)
    np.testing.assert_allclose(acc.data, 2 / 3)
    with pytest.raises(ValueError, match="accuracy"):
        F.accuracy(y, np.array([1, 1]))


def test_softmax_cross_entropy_of_an_empty_batch_is_nan_like_torch() -> None:
    x = Variable(np.zeros((0, 3), np.float32))
    for options in ({}, {"ignore_index": -100}, {"label_smoothing": 0.1}):
        x.cleargrad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NumPy warning about 0/0 either
            loss = F.softmax_cross_entropy(x, np.zeros(0, int), **options)
            loss.backward()
        assert np.isnan(loss.data) and loss.dtype == np.float32
        assert x.grad.shape == (0, 3) and x.grad.dtype == np.float32


def test_big_logits_keep_float32_exact() -> None:
    """Logits of 1e4 in float32: log(1/2) is -0.6931472, not DeZero's -0.6933594."""
    x = np.array([[1e4, 1e4], [-1e4, -1e4], [3.0, 3.0]], np.float32)
    want = np.float32(np.log(0.5))
    np.testing.assert_array_equal(F.log_softmax(x).data, np.full((3, 2), want))
    for t in ([0, 1, 0], [1, 0, 1]):
        loss = F.softmax_cross_entropy(x, np.array(t))
        np.testing.assert_allclose(loss.data, -want, rtol=1e-7)
