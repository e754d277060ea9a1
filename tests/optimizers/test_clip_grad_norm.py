"""``clip_grad_norm``: torch's ``clip_grad_norm_`` values, ClipGrad's rule, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from zerograd.optimizers import clip_grad_norm

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [1e-3, 0.5, 3.0, 100.0])
def test_equals_torch_clip_grad_norm(dtype: Any, max_norm: float) -> None:
    rng = np.random.default_rng(int(max_norm * 1000))
    shapes = [(3, 4), (5,), (), (2, 1, 3)]
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    params = [zg.Parameter(np.zeros(s, dtype)) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = zg.Variable(g.copy())
    params.append(zg.Parameter(np.zeros(2, dtype)))  # no gradient: skipped
    tparams = [torch.zeros(s, dtype=getattr(torch, np.dtype(dtype).name)) for s in shapes]
    for t, g in zip(tparams, grads):
        t.grad = torch.from_numpy(g.copy())
    norm = clip_grad_norm(params, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(tparams, max_norm)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert isinstance(norm, float)
    assert norm == pytest.approx(float(tnorm), rel=rtol)
    for p, t in zip(params, tparams):
        assert p.grad.data.dtype == dtype
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=0)
    assert params[-1].grad is None


def test_same_rule_as_the_clipgrad_hook_and_takes_a_layer() -> None:
    def model_with_grads() -> zg.Layer:
        model = zg.Layer()
        model.W = zg.Parameter(np.ones((2, 2)))
        model.W.grad = zg.Variable(np.full((2, 2), 3.0))
        return model

    a, b = model_with_grads(), model_with_grads()
    assert clip_grad_norm(a, 2.0) == pytest.approx(6.0)
    O.ClipGrad(2.0)(list(b.params()))
    np.testing.assert_array_equal(a.W.grad.data, b.W.grad.data)
    assert clip_grad_norm(a.W, 10.0) == pytest.approx(2.0, rel=1e-6)  # below: unchanged
    assert clip_grad_norm([], 1.0) == 0.0


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([np.ones(2)], 1.0), TypeError, r"params\[0\] is a ndarray"),
        (([], "1"), TypeError, "max_norm must be a number, got str"),
        (([], 0.0), ValueError, "max_norm must be a positive finite number, got 0.0"),
        (([], float("inf")), ValueError, "positive finite"),
        (([], float("nan")), ValueError, "positive finite"),
    ],
)
def test_bad_input_raises(args: Any, error: Any, message: str) -> None:
    with pytest.raises(error, match=message):
        clip_grad_norm(*args)
