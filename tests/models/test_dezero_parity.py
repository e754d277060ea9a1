"""Seeded DeZero programs print the same numbers on zerograd: the layers draw their weights
from NumPy's global RNG at the same points, and a book-style training loop follows DeZero's
losses step by step. DeZero itself runs in a subprocess (it needs NumPy aliases back)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
import zerograd.layers as L
import zerograd.optimizers as O
from tests.compat.dezero_ref import run_dezero_code
from tests.models._dezero_program import program
from zerograd.models import MLP

_DEZERO_MAIN = """
import sys
import numpy as np
import dezero.layers as L, dezero.functions as F, dezero.optimizers as O
from dezero.models import MLP
sys.path.insert(0, {here!r})
from _dezero_program import program
np.savez("dezero.npz", **program(L, F, O, MLP))
"""


@pytest.fixture(scope="module")
def dezero_out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    path = tmp_path_factory.mktemp("dezero_layers")
    run_dezero_code(_DEZERO_MAIN.format(here=str(Path(__file__).parent)), path)
    with np.load(path / "dezero.npz") as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return program(L, F, O, MLP)


@pytest.mark.parametrize(
    "key",
    ["linear_W", "lazy_W", "conv_W", "lazy_conv_W", "deconv_W", "embed_W", "rnn_h", "lstm_h"],
)
def test_weights_drawn_like_dezero(dezero_out: dict, ours: dict, key: str) -> None:
    # DeZero's float32 weights turn float64 on NumPy 2 (a float64 scale); ours stay float32,
    # so the values agree to float32 rounding.
    np.testing.assert_allclose(ours[key], dezero_out[key], rtol=1e-6, atol=1e-7)
    if key != "embed_W":
        assert ours[key].dtype == np.float32


def test_same_number_of_draws(dezero_out: dict, ours: dict) -> None:
    np.testing.assert_array_equal(ours["after_layers"], dezero_out["after_layers"])


@pytest.mark.parametrize("key", ["mlp_losses", "adam_losses"])
def test_training_follows_dezero(dezero_out: dict, ours: dict, key: str) -> None:
    np.testing.assert_allclose(ours[key], dezero_out[key], rtol=1e-4)
    assert ours[key][-1] < ours[key][0]


def test_sgd_regression_is_bitwise_dezero_where_its_weights_are_float32(
    dezero_out: dict, ours: dict
) -> None:
    """The book's sine regression: DeZero's float32 ``Linear`` on float64 data gives float64
    gradients on float32 weights, and every SGD step must round as DeZero's does. (On NumPy 2
    DeZero's weights are float64, so only the tolerance above applies.)"""
    if dezero_out["linear_W"].dtype != np.float32:
        pytest.skip("DeZero draws float64 weights on NumPy 2")
    np.testing.assert_array_equal(ours["mlp_losses"], dezero_out["mlp_losses"])
