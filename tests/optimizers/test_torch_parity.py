"""Every optimizer against PyTorch's on the same gradients, step by step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from tests.conftest import require_torch

SHAPES = [(3, 4), (4,), (2, 3, 2)]
STEPS = 6


def _run_zerograd(make: Callable[[], O.Optimizer], params0: list[np.ndarray], grads: list) -> list:
    params = [zg.Parameter(p.copy()) for p in params0]
    opt = make().setup(params)
    history = []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = zg.Variable(g.copy())
        opt.update()
        history.append([p.data.copy() for p in params])
    return history


def _run_torch(make: Callable[[Any], Any], params0: list[np.ndarray], grads: list) -> list:
    torch = require_torch()
    params = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
    opt = make(params)
    history = []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g.copy())
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


# (name, zerograd factory, torch factory, rtol): torch's formulas differ from DeZero's only
# in rounding (MomentumSGD keeps -lr*v instead of v; Adam adds eps after the bias correction
# of sqrt(v)), so float64 trajectories agree to ~1e-12 (Adam: eps-sized differences).
CASES = [
    ("SGD", lambda: O.SGD(lr=0.1), lambda ps: _t().optim.SGD(ps, lr=0.1), 1e-12),
    (
        "MomentumSGD",
        lambda: O.MomentumSGD(lr=0.05, momentum=0.8),
        lambda ps: _t().optim.SGD(ps, lr=0.05, momentum=0.8),
        1e-10,
    ),
    (
        "AdaGrad",
        lambda: O.AdaGrad(lr=0.1, eps=1e-8),
        lambda ps: _t().optim.Adagrad(ps, lr=0.1, eps=1e-8),
        1e-10,
    ),
    (
        "AdaDelta",
        lambda: O.AdaDelta(rho=0.9, eps=1e-6),
        lambda ps: _t().optim.Adadelta(ps, lr=1.0, rho=0.9, eps=1e-6),
        1e-10,
    ),
    (
        "AdaDelta-lr",
        lambda: O.AdaDelta(rho=0.95, eps=1e-6, lr=0.5),
        lambda ps: _t().optim.Adadelta(ps, lr=0.5, rho=0.95, eps=1e-6),
        1e-10,
    ),
    (
        "Adam",
        lambda: O.Adam(alpha=0.01, beta1=0.8, beta2=0.99, eps=1e-8),
        lambda ps: _t().optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-8),
        1e-6,
    ),
    (
        "Adam-no-eps",
        lambda: O.Adam(alpha=0.01, eps=0.0),
        lambda ps: _t().optim.Adam(ps, lr=0.01, eps=0.0),
        1e-12,
    ),
    (
        "AdamW",
        lambda: O.AdamW(alpha=0.01, weight_decay=0.1, eps=0.0),
        lambda ps: _t().optim.AdamW(ps, lr=0.01, weight_decay=0.1, eps=0.0),
        1e-12,
    ),
]


def _t() -> Any:
    return require_torch()


@pytest.mark.parametrize(("name", "ours", "theirs", "rtol"), CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name: str, ours: Any, theirs: Any, rtol: float) -> None:
    require_torch()
    rng = np.random.default_rng(0)
    params0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    got = _run_zerograd(ours, params0, grads)
    expected = _run_torch(theirs, params0, grads)
    for step, (g, e) in enumerate(zip(got, expected)):
        for i, (a, b) in enumerate(zip(g, e)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"step {step} p{i}")
    # The parameters did move (a no-op optimizer would fail the comparison anyway).
    assert not np.allclose(got[-1][0], params0[0])


@pytest.mark.parametrize(("name", "ours", "theirs", "rtol"), CASES, ids=[c[0] for c in CASES])
def test_float32_stays_float32(name: str, ours: Any, theirs: Any, rtol: float) -> None:
    rng = np.random.default_rng(1)
    params0 = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(2)]
    got = _run_zerograd(ours, params0, grads)
    assert all(p.dtype == np.float32 for p in got[-1])
