"""Every optimizer and hook against the real DeZero 0.0.13, bit for bit, over 1,000 steps.

DeZero's ``Linear`` is float32, so float64 data gives float32 parameters with float64
gradients: DeZero computes each update's intermediates in the dtypes NumPy gives its
expressions (``p -= lr * g`` subtracts a float64 step and rounds once). The same program runs
under DeZero (in a subprocess) and zerograd, for every pair of parameter and gradient dtypes.
The gradient depends on the parameter (a quadratic loss), so one different bit anywhere
changes the rest of the trajectory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from tests.compat.dezero_ref import run_dezero_code

# Shared by both sides: ``O`` is the optimizers module, ``P``/``V`` Parameter and Variable.
PROGRAM = """
import numpy as np

CONFIGS = {
    "SGD": (lambda O: O.SGD(lr=0.01), []),
    "MomentumSGD": (lambda O: O.MomentumSGD(lr=0.01, momentum=0.9), []),
    "AdaGrad": (lambda O: O.AdaGrad(lr=0.05), []),
    "AdaDelta": (lambda O: O.AdaDelta(rho=0.9), []),
    "Adam": (lambda O: O.Adam(alpha=0.01), []),
    "SGD+WeightDecay": (lambda O: O.SGD(lr=0.01), [lambda O: O.WeightDecay(0.01)]),
    "Adam+ClipGrad": (lambda O: O.Adam(alpha=0.01), [lambda O: O.ClipGrad(2.0)]),
    "MomentumSGD+WeightDecay+ClipGrad": (
        lambda O: O.MomentumSGD(lr=0.01),
        [lambda O: O.WeightDecay(0.003), lambda O: O.ClipGrad(1.5)],
    ),
}
DTYPES = [("float32", "float64"), ("float32", "float32"), ("float64", "float64"),
          ("float64", "float32")]
SHAPES = [(4, 3), (3,), (2, 1, 5)]

class Target:  # DeZero's setup takes anything with params()
    def __init__(self, params):
        self._p = params
    def params(self):
        return iter(self._p)

def run(O, P, V, steps):
    out = {}
    for name, (make, hooks) in CONFIGS.items():
        for pd, gd in DTYPES:
            rng = np.random.default_rng(7)
            params = [P(rng.standard_normal(s).astype(pd)) for s in SHAPES]
            targets = [rng.standard_normal(s) * 3 for s in SHAPES]
            opt = make(O).setup(Target(params))
            for h in hooks:
                opt.add_hook(h(O))
            for step in range(steps):
                for p, t in zip(params, targets):
                    noise = rng.standard_normal(p.data.shape)
                    p.grad = V(((p.data - t) * 1.7 + noise).astype(gd))
                opt.update()
                if step == 0:
                    for i, p in enumerate(params):
                        out[f"{name}|{pd}|{gd}|first{i}"] = p.data.copy()
            for i, p in enumerate(params):
                out[f"{name}|{pd}|{gd}|{i}"] = p.data
    return out
"""
STEPS = 1000


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    path = tmp_path_factory.mktemp("dezero_optimizers") / "out.npz"
    code = (
        f"exec({PROGRAM!r})\n"
        "from dezero import Parameter, Variable, optimizers\n"
        f"np.savez({str(path)!r}, **run(optimizers, Parameter, Variable, {STEPS}))\n"
    )
    run_dezero_code(code, path.parent, timeout=300)
    with np.load(path) as data:
        return dict(data)


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    scope: dict[str, Any] = {}
    exec(PROGRAM, scope)
    return scope["run"](O, zg.Parameter, zg.Variable, STEPS)


def _configs() -> list[str]:
    scope: dict[str, Any] = {}
    exec(PROGRAM, scope)
    return list(scope["CONFIGS"])


def test_every_optimizer_and_hook_is_covered() -> None:
    names = "+".join(_configs()).split("+")
    optimizers = {n for n in O.__all__ if isinstance(getattr(O, n), type)}
    optimizers -= {"Optimizer", "AdamW", "FreezeParam"}  # no DeZero counterpart that works
    assert optimizers <= set(names)


@pytest.mark.parametrize("name", _configs())
def test_bitwise_equal_to_dezero(
    reference: dict[str, np.ndarray], ours: dict[str, Any], name: str
) -> None:
    keys = [k for k in reference if k.split("|")[0] == name]
    assert len(keys) == 4 * 3 * 2
    differ = []
    for key in keys:
        got, want = ours[key], reference[key]
        _, pd, _, _ = key.split("|")
        assert got.dtype == want.dtype == np.dtype(pd), key
        if not np.array_equal(got, want):
            err = np.abs(got.astype(np.float64) - want).max()
            differ.append(f"{key}: max difference {err:.3g}")
    assert not differ, "\n".join(differ)
    # the parameters moved
    assert not np.array_equal(
        ours[f"{name}|float32|float64|0"], ours[f"{name}|float32|float64|first0"]
    )
