"""Every row of the op table: forward against its NumPy reference, backward against central
differences (every input, random upstream gradient, float64), second order, and float32 in,
float32 out (values and gradients)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.functions.op_table import OPS, Op
from zerograd import Variable
from zerograd.testing import check_backward, check_double_backward


def _listify(y: Any) -> list[Any]:
    return list(y) if isinstance(y, (list, tuple)) else [y]


def _grads(op: Op, xs: list[np.ndarray], gys: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    vs = [Variable(x.copy()) for x in xs]
    ys = _listify(op.fn(*vs))
    total = None
    for y, g in zip(ys, gys):
        term = (y * Variable(g.astype(y.dtype))).sum()
        total = term if total is None else total + term
    total.backward()
    return ys, [v.grad for v in vs]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_op(op: Op) -> None:
    xs = op.inputs()

    # forward against the NumPy reference
    got = _listify(op.fn(*[Variable(x.copy()) for x in xs]))
    want = [np.asarray(w) for w in _listify(op.ref(*[x.copy() for x in xs]))]
    assert len(got) == len(want)
    for y, w in zip(got, want):
        assert y.shape == w.shape, f"{op.name}: shape {y.shape}, reference {w.shape}"
        np.testing.assert_allclose(y.data, w, rtol=op.rtol, atol=op.atol, err_msg=op.name)

    # first order against central differences; second order on ``op(x)**2``, whose second
    # derivative also runs the backward of the op's backward (zero for piecewise-linear ops
    # alone, so a broken double backward would pass unnoticed there)
    check_backward(op.fn, *xs)
    if 2 in op.orders:
        check_double_backward(lambda *vs: [y * y for y in _listify(op.fn(*vs))], *xs)

    # float32 stays float32, values and gradients
    rng = np.random.default_rng(1)
    gys = [rng.standard_normal(w.shape) for w in want]
    _, grads64 = _grads(op, xs, gys)
    ys32, grads32 = _grads(op, [x.astype(np.float32) for x in xs], gys)
    for y, w in zip(ys32, want):
        assert y.dtype == np.float32, f"{op.name}: float32 input gave {y.dtype} output"
        scale = max(1.0, float(np.abs(w).max(initial=0)))
        np.testing.assert_allclose(y.data, w, rtol=op.f32_rtol, atol=op.f32_rtol * scale)
    for i, (g32, g64) in enumerate(zip(grads32, grads64)):
        assert g32 is not None, f"{op.name}: no gradient for input {i}"
        assert g32.dtype == np.float32, f"{op.name}: float32 input {i} got a {g32.dtype} gradient"
        scale = max(1.0, float(np.abs(g64.data).max(initial=0)))
        np.testing.assert_allclose(
            g32.data, g64.data, rtol=op.f32_rtol, atol=op.f32_rtol * scale, err_msg=op.name
        )


def test_table_covers_the_library() -> None:
    """Every differentiable public function has a row (the rest are listed here on purpose)."""
    import zerograd.functions as F

    not_differentiable = {"accuracy", "argmax", "reshape_sum_backward"}
    aliases = {"batch_nrom": "batch_norm_4d"}
    covered = {op.name for op in OPS} | set(aliases)
    missing = set(F.__all__) - not_differentiable - covered
    assert not missing, f"functions without an op-table row: {sorted(missing)}"
