"""batch_norm's running statistics and modes, dropout's mask and modes, layer_norm's checks."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable, test_mode


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_updates_running_statistics_in_place(shape: Any, dtype: Any) -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    mean, var = np.zeros(3, dtype), np.ones(3, dtype)
    ids = id(mean), id(var)
    y = F.batch_norm(Variable(x), np.ones(3, dtype), np.zeros(3, dtype), mean, var, decay=0.8)
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    m = x.size // 3
    np.testing.assert_allclose(mean, 0.2 * x.mean(axis=axes), rtol=1e-5)
    np.testing.assert_allclose(var, 0.8 + 0.2 * x.var(axis=axes) * m / (m - 1), rtol=1e-5)
    assert (id(mean), id(var)) == ids and mean.dtype == var.dtype == dtype
    assert y.dtype == dtype
    # normalized: zero mean, unit variance per channel
    np.testing.assert_allclose(y.data.mean(axis=axes), 0, atol=1e-5)


def test_batch_norm_test_mode_uses_running_statistics() -> None:
    x = np.arange(6.0).reshape(3, 2)
    mean, var = np.array([1.0, 2.0]), np.array([4.0, 9.0])
    with test_mode():
        y = F.batch_norm(x, np.array([2.0, 1.0]), np.array([0.5, 0.0]), mean, var, eps=0.0)
    np.testing.assert_allclose(y.data, (x - [1, 2]) / [2, 3] * [2, 1] + [0.5, 0])
    np.testing.assert_array_equal(mean, [1.0, 2.0])  # not updated


def test_batch_norm_accepts_variables_and_bumps_their_version() -> None:
    mean, var = Variable(np.zeros(2)), Variable(np.ones(2))
    F.batch_norm(
        np.random.default_rng(0).standard_normal((4, 2)), np.ones(2), np.zeros(2), mean, var
    )
    assert mean._version == 1 and var._version == 1
    assert mean.data.any()


def test_batch_norm_errors() -> None:
    with pytest.raises(ValueError, match="2-D .* or 4-D"):
        F.batch_norm(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"batch_norm: .*gamma of shape \(3,\)"):
        F.batch_norm(np.zeros((2, 3)), np.ones(4), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"var of shape \(3,\)"):
        F.batch_norm(np.zeros((2, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(2))


def test_batch_norm_alias() -> None:
    assert F.batch_nrom is F.batch_norm


def test_dropout_draws_dezero_mask_from_the_global_rng() -> None:
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    np.random.seed(42)
    y = F.dropout(x, 0.25)
    np.random.seed(42)
    mask = np.random.rand(4, 5) > 0.25
    np.testing.assert_array_equal(y.data, x * mask / np.float32(0.75))
    assert y.dtype == np.float32


def test_dropout_in_test_mode_is_the_identity() -> None:
    x = Variable(np.ones((2, 3)))
    state = np.random.get_state()[1].copy()
    with test_mode():
        assert F.dropout(x, 0.9) is x
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # no draw


def test_dropout_edges() -> None:
    x = np.ones((3, 3))
    np.testing.assert_array_equal(F.dropout(x, 0.0).data, x)
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="dropout_ratio must be in"):
        F.dropout(x, 1.5)


def test_layer_norm_without_affine_and_errors() -> None:
    x = np.random.default_rng(0).standard_normal((2, 5))
    y = F.layer_norm(x).data
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1 / (1 + 1e-5 / x.var(axis=-1)), rtol=1e-9)
    with pytest.raises(ValueError, match=r"layer_norm: .*gamma of x's trailing shape"):
        F.layer_norm(x, np.ones(4))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1, 1)])
def test_batch_norm_refuses_one_value_per_channel_in_training(shape: tuple[int, ...]) -> None:
    """As torch: the batch variance would be 0, the output zeros, the running var dragged
    to 0."""
    import zerograd.layers as L

    x = np.ones(shape)
    mean, var = np.zeros(3), np.ones(3)
    with pytest.raises(
        ValueError,
        match=rf"^batch_norm: expected more than 1 value per channel when training, "
        rf"got input of shape {re.escape(str(shape))}",
    ):
        F.batch_norm(x, np.ones(3), np.zeros(3), mean, var)
    np.testing.assert_array_equal(var, np.ones(3))
    layer = L.BatchNorm()
    with pytest.raises(ValueError, match=r"^BatchNorm: expected more than 1 value per channel"):
        layer(x)
    assert layer.avg_var.data is None  # nothing was created or updated
    with test_mode():  # the running statistics serve a single example
        assert F.batch_norm(x, np.ones(3), np.zeros(3), mean, var).shape == shape
        assert layer(x).shape == shape
    # two values per channel are enough, in either layout
    for ok in ((2, 3), (1, 3, 2, 1), (1, 3, 1, 2)):
        assert layer(np.arange(np.prod(ok), dtype=float).reshape(ok)).shape == ok
