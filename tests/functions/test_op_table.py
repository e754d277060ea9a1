"""Every row of the op table: forward against its NumPy reference, backward against central
differences (every input, random upstream gradient, float64), second order, and float32 in,
float32 out (values and gradients)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from tests.functions.op_table import EDGE_KINDS, OPS, Op, edge_inputs, function_names
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
    bases = {"UnaryElementwise"}  # a class to write functions on, not a function
    missing = set(F.__all__) - not_differentiable - bases - covered
    assert not missing, f"functions without an op-table row: {sorted(missing)}"


def _on_0d(op: Op, dtype: Any = np.float64) -> Any:
    """``op`` on 0-d inputs (the first element of each), or None if it needs dimensions."""
    try:
        return op.fn(*[Variable(np.asarray(x.flat[0], dtype)) for x in op.inputs()])
    except (ValueError, TypeError, IndexError):
        return None


ZERO_D = [op for op in OPS if _on_0d(op) is not None]
# The rows whose last function is ``elementwise`` (the scalar fast path).
ELEMENTWISE = [
    op
    for op in ZERO_D
    if getattr(_on_0d(op).creator, "elementwise", False) and _on_0d(op).shape == ()
]


@pytest.mark.parametrize("op", ZERO_D, ids=[op.name for op in ZERO_D])
def test_0d_float32_stays_float32_to_second_order(op: Op) -> None:
    """0-d float32 values meet Python constants inside forward and backward formulas, where
    NumPy 1 would promote them to float64 (value-based casting) unless the constant is typed."""
    vs = [Variable(np.asarray(x.flat[0], np.float32)) for x in op.inputs()]
    ys = _listify(op.fn(*vs))
    assert all(y.dtype == np.float32 for y in ys), [y.dtype for y in ys]
    total = ys[0] * 1.0
    for y in ys[1:]:
        total = total + y
    total.backward(create_graph=True)
    grads = [v.grad for v in vs if v.grad is not None]
    assert grads and all(g.dtype == np.float32 for g in grads), [g.dtype for g in grads]
    vs[0].cleargrad()
    grads[0].backward()
    assert vs[0].grad is None or vs[0].grad.dtype == np.float32


def test_elementwise_rows_include_the_operators_and_unary_functions() -> None:
    names = {op.name for op in ELEMENTWISE}
    assert {"add", "sub", "mul", "div", "neg", "sin", "tanh", "exp"} <= names
    assert {"relu", "sigmoid", "maximum", "clip"} <= names


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("op", ELEMENTWISE, ids=[op.name for op in ELEMENTWISE])
def test_elementwise_op_on_0d_inputs_matches_the_array_path(op: Op, dtype: Any) -> None:
    """On NumPy 2 a 0-d float input reaches forward (and backward's saved inputs) as a NumPy
    scalar: values, dtypes and gradients must be exactly those of a 1-element array."""
    xs = op.inputs()
    for k in range(4):
        firsts = [np.asarray(x.flat[k % x.size], dtype=dtype) for x in xs]
        vs0 = [Variable(x.copy()) for x in firsts]
        vs1 = [Variable(x.reshape(1)) for x in firsts]
        y0, y1 = op.fn(*vs0), op.fn(*vs1)
        assert isinstance(y0.data, np.ndarray) and y0.shape == ()
        assert y0.dtype == y1.dtype == dtype
        np.testing.assert_array_equal(y0.data, y1.data.ravel()[0])
        y0.backward(create_graph=True)
        y1.backward(create_graph=True)
        for v0, v1 in zip(vs0, vs1):
            assert isinstance(v0.grad.data, np.ndarray) and v0.grad.shape == ()
            assert v0.grad.dtype == dtype
            np.testing.assert_array_equal(v0.grad.data, v1.grad.data[0])
    if dtype == np.float64:  # and against central differences, to second order, on leaves
        # and on intermediates (whose Variables the functions do not keep)
        check_backward(op.fn, *[x.copy() for x in firsts])
        if 2 in op.orders:
            check_double_backward(lambda *vs: op.fn(*vs) * op.fn(*vs), *firsts)
            check_double_backward(lambda *vs: op.fn(*[v * 1.0 for v in vs]) ** 2, *firsts)


# -- the edge dimension (torch's values: test_torch_parity.test_op_table_edges_match_torch) --
EDGES = [
    (op, kind)
    for op in OPS
    for kind in EDGE_KINDS
    if kind != "huge" and edge_inputs(op, kind) is not None
]


@pytest.mark.parametrize("op,kind", EDGES, ids=[f"{op.name}-{kind}" for op, kind in EDGES])
def test_edge_inputs_give_a_result_or_an_error_naming_the_function(op: Op, kind: str) -> None:
    """Every row on every edge kind, without torch: an error is a ValueError, TypeError or
    IndexError whose message starts with the function's name; a result has the shape of the
    NumPy reference (and its values on 0-d and zero-size inputs), and gradients of the inputs'
    shapes and dtypes to second order; in float32 as in float64."""
    xs = edge_inputs(op, kind)
    assert xs is not None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        vs = [Variable(x.copy()) for x in xs]
        try:
            ys = _listify(op.fn(*vs))
        except (ValueError, TypeError, IndexError) as e:
            names = function_names(op)
            assert any(str(e).startswith(n + ":") for n in names), f"{op.name}: {e!r}"
            return
        try:
            want = [np.asarray(w) for w in _listify(op.ref(*[x.copy() for x in xs]))]
        except (ValueError, TypeError, IndexError):
            want = None  # NumPy refuses where PyTorch computes (a 0-d softmax over axis 0)
        if want is not None:
            assert [y.shape for y in ys] == [w.shape for w in want], op.name
            if kind in ("0d", "empty_batch", "empty_axis"):
                for y, w in zip(ys, want):
                    np.testing.assert_allclose(y.data, w, rtol=1e-7, atol=1e-9, err_msg=op.name)
        total = sum((y * y).sum() for y in ys)
        total.backward(create_graph=True)
        grads = [v.grad for v in vs]
        for v, g in zip(vs, grads):
            assert g is None or (g.shape == v.shape and g.dtype == v.dtype), op.name
        second = [(g * g).sum() for g in grads if g is not None and g.creator is not None]
        if second:
            for v in vs:
                v.cleargrad()
            sum(second).backward()
            for v in vs:
                assert v.grad is None or v.grad.shape == v.shape, op.name
        # and float32 stays float32 at the edges too, values and gradients
        vs = [Variable(x.astype(np.float32)) for x in xs]
        ys = _listify(op.fn(*vs))
        assert all(y.dtype == np.float32 for y in ys), [y.dtype for y in ys]
        sum((y * y).sum() for y in ys).backward()
        assert all(v.grad is None or v.grad.dtype == np.float32 for v in vs), op.name
