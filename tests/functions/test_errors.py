"""Bad input raises a ValueError at the call, naming the function, the shapes and what was
expected (never a bare NumPy error from deep inside a backward)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd.functions as F

CASES = [
    (
        lambda: F.matmul(np.zeros((2, 3)), np.zeros((4, 5))),
        r"^matmul: got shapes \(2, 3\) float64, \(4, 5\) float64",
    ),
    (
        lambda: F.linear(np.zeros((2, 3)), np.zeros((4, 5))),
        r"^linear: got shapes \(2, 3\) float64, \(4, 5\) float64",
    ),
    (lambda: F.linear(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4)), r"^linear: .*b \(5,\)"),
    (lambda: F.linear(np.zeros((2, 3)), np.zeros(3)), r"^linear: .*W \(I, O\)"),
    (
        lambda: F.maximum(np.zeros((2, 3)), np.zeros(2)),
        r"^maximum: got shapes \(2, 3\) float64, \(2,\) float64",
    ),
    (lambda: F.minimum(np.zeros((2, 3)), np.zeros(2)), r"^minimum: got shapes"),
    (lambda: F.where(np.ones(4, bool), np.zeros((2, 3)), 0.0), r"^where: got shapes"),
    (lambda: F.mean_squared_error(np.zeros(3), np.zeros(4)), r"^mean_squared_error: got shapes"),
    (lambda: F.softmax(np.zeros((2, 3)), axis=2), r"^softmax: axis 2 is out of range"),
    (lambda: F.softplus(np.zeros(2), beta=0), r"^softplus: beta must be positive"),
    (lambda: F.gelu(np.zeros(2), approximate="erf"), r"^gelu: approximate must be"),
    (
        lambda: F.sigmoid_cross_entropy(np.zeros((3, 4)), np.zeros(3)),
        r"^sigmoid_cross_entropy: got shapes \(3, 4\) float64, \(3,\) float64",
    ),
    (lambda: F.binary_cross_entropy(np.zeros((3, 4)), np.zeros(5)), r"^binary_cross_entropy: "),
    (
        lambda: F.conv2d(np.zeros((2, 0, 4, 4)), np.zeros((3, 0, 3, 3))),
        r"^conv2d: .*at least one input channel",
    ),
    (lambda: F.clip(np.zeros(0), np.zeros((3, 1)), np.ones(4)), r"^clip: got shapes"),
    (lambda: F.linear_simple(np.zeros((2, 3)), np.zeros((4, 5))), r"^linear_simple: "),
    (lambda: F.mean_squared_error_simple(np.zeros(()), np.zeros(())), r"^mean_squared_error_s"),
    (lambda: F.softmax_cross_entropy_simple(np.zeros(3), np.zeros(3, int)), r"^softmax_cross"),
    (lambda: F.max(np.zeros((3, 0)), axis=1), r"^max: got an empty array \(3, 0\)"),
    (
        lambda: F.batch_norm(*[np.zeros((0, 3))] + [np.ones(3)] * 4),
        r"^batch_norm: .*at least one value per channel",
    ),
]


@pytest.mark.parametrize("call,match", CASES)
def test_value_error_names_the_function(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_errors_surface_in_forward_not_backward() -> None:
    """A conv whose channels disagree fails at the call, before any graph exists."""
    x = np.zeros((1, 3, 4, 4))
    with pytest.raises(ValueError, match="conv2d"):
        F.conv2d(x, np.zeros((2, 2, 3, 3)))
