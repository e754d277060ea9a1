"""Reduction behaviour: the max/min tie rule, argmax, var, axis checks."""

from __future__ import annotations

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable


def test_max_ties_share_the_gradient_equally() -> None:
    """Documented rule: tied maxima split the gradient; the total is never double counted."""
    x = Variable(np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]]))
    y = F.max(x, axis=1)
    y.grad = Variable(np.array([1.0, 8.0]))
    y.backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0.5, 0.5, 0], [2, 2, 2, 2]])


def test_min_ties_and_full_reduction() -> None:
    x = Variable(np.array([[1.0, -1.0], [-1.0, 5.0]]))
    F.min(x).backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0.5], [0.5, 0]])


def test_max_keepdims_and_methods() -> None:
    x = Variable(np.arange(24.0).reshape(2, 3, 4))
    assert F.max(x, axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert x.max(axis=[0, 2]).shape == (3,)
    np.testing.assert_array_equal(x.min(axis=1).data, x.data.min(axis=1))
    np.testing.assert_allclose(x.mean(axis=1).data, x.data.mean(axis=1))
    np.testing.assert_array_equal(abs(-x).data, x.data)


def test_argmax_is_a_constant() -> None:
    x = Variable(np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 1.0]]))
    i = F.argmax(x, axis=1)
    np.testing.assert_array_equal(i.data, [1, 0])
    assert i.creator is None and not i.requires_grad
    assert F.argmax(x).data == 3
    assert F.argmax(x, axis=0, keepdims=True).shape == (1, 3)


def test_var_ddof() -> None:
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(F.var(x, axis=0, ddof=1).data, x.var(axis=0, ddof=1))
    np.testing.assert_allclose(F.var(x).data, x.var())
    with pytest.raises(ValueError, match="no degrees of freedom"):
        F.var(x, axis=1, ddof=3)


def test_logsumexp_keepdims_and_axis_none() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(F.logsumexp(x, axis=None).data, np.log(np.exp(x).sum()))
    assert F.logsumexp(x, axis=0, keepdims=True).shape == (1, 4)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: F.sum(x, axis=2),
        lambda x: F.max(x, axis=-3),
        lambda x: F.min(x, axis=(0, 0)),
        lambda x: F.mean(x, axis=5),
        lambda x: F.softmax(x, axis=2),
        lambda x: F.log_softmax(x, axis=3),
        lambda x: F.logsumexp(x, axis=2),
        lambda x: F.argmax(x, axis=2),
    ],
)
def test_bad_axis_is_a_value_error(call: object) -> None:
    with pytest.raises(ValueError, match="axis"):
        call(np.zeros((2, 3)))  # type: ignore[operator]


def test_max_of_empty_array() -> None:
    with pytest.raises(ValueError, match="max: got an empty array"):
        F.max(np.zeros((0, 3)))
