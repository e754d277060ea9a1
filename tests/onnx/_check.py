"""The checks every export test runs: onnxruntime and onnx's reference evaluator against
zerograd at two batch sizes from one file, and export -> import round trips."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import zerograd as zg  # noqa: E402
from zerograd import onnx as zonnx  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


def forward(fn: Callable[..., Any], xs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """zerograd's outputs of ``fn(*xs)`` in test mode, as arrays."""
    with zg.test_mode():
        ys = fn(*[zg.Variable(x) for x in xs])
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    return [y.data for y in ys]


def run_ort(path: str, xs: Sequence[np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, xs)))


def run_reference(path: str, xs: Sequence[np.ndarray]) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(path)
    session = ReferenceEvaluator(model)
    names = [i.name for i in model.graph.input]
    return session.run(None, dict(zip(names, xs)))


def close(
    actual: Sequence[Any],
    expected: Sequence[Any],
    what: str,
    rtol: float = RTOL,
    normwise: bool = False,
) -> None:
    """Each array within ``rtol`` of the expected one, elementwise (``ATOL`` absolute near
    zero), or with ``normwise`` within ``rtol`` of the expected array's largest magnitude:
    the measure for deep float32 networks, whose near-zero outputs carry the rounding of
    every layer before them."""
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected):
        a = np.asarray(a)
        assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
        assert a.dtype == e.dtype, f"{what}: dtype {a.dtype} != {e.dtype}"
        atol = rtol * float(np.abs(e).max(initial=0.0)) if normwise else ATOL
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def check_export(
    fn: Callable[..., Any],
    make: Callable[[int], Sequence[np.ndarray]],
    tmp_path: Any,
    *,
    batches: Sequence[int] = (1, 7),
    trace_batch: int = 3,
    reference: bool = True,
    rtol: float = RTOL,
    normwise: bool = False,
    **options: Any,
) -> str:
    """Export ``fn`` traced at ``trace_batch``; at each of ``batches`` compare onnxruntime
    (and the reference evaluator) with zerograd. Returns the file's path."""
    path = os.path.join(tmp_path, "model.onnx")
    zonnx.export(fn, list(make(trace_batch)), path, **options)
    for batch in batches:
        xs = list(make(batch))
        expected = forward(fn, xs)
        close(run_ort(path, xs), expected, f"onnxruntime, batch {batch}", rtol, normwise)
        if reference:
            close(
                run_reference(path, xs),
                expected,
                f"ReferenceEvaluator, batch {batch}",
                rtol,
                normwise,
            )
    return path


def grads_of(model: Any, fn: Callable[..., Any], xs: Sequence[np.ndarray], seed: int) -> Any:
    """Outputs, parameter gradients and input gradients of ``fn(*xs)`` (test mode) for a
    random upstream gradient."""
    vs = [zg.Variable(x) for x in xs]
    with zg.test_mode():
        ys = fn(*vs)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    rng = np.random.default_rng(seed)
    total = None
    for y in ys:
        term = zg.functions.sum(y * rng.standard_normal(y.shape).astype(y.dtype))
        total = term if total is None else total + term
    params = list(model.params()) if model is not None else []
    for p in params:
        p.grad = None
    total.backward()
    pgrads = [None if p.grad is None else p.grad.data for p in params]
    xgrads = [None if v.grad is None else v.grad.data for v in vs]
    return [y.data for y in ys], pgrads, xgrads


def check_round_trip(
    model: Any,
    fn: Callable[..., Any],
    path: str,
    xs: Sequence[np.ndarray],
    *,
    exact: bool = True,
) -> Any:
    """Import ``path`` and compare outputs and gradients (parameters in order, inputs)
    with the original ``fn`` (of ``model``'s parameters)."""
    imported = zonnx.load(path)
    float_inputs = [x.dtype.kind == "f" for x in xs]
    ys0, pg0, xg0 = grads_of(model, fn, xs, 0)
    ys1, pg1, xg1 = grads_of(imported, imported, xs, 0)
    same = (
        (lambda a, b: np.testing.assert_array_equal(a, b))
        if exact
        else (lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6))
    )
    for a, b in zip(ys0, ys1):
        same(a, b)
    if model is not None:
        # Parameters by name: the export names them with the model's dotted names.
        mine = {n.replace(".", "_"): p for n, p in model.named_params()}
        theirs = dict(imported.named_params())
        assert set(theirs) <= set(mine), (sorted(theirs), sorted(mine))
        assert len(theirs) == len(pg1)
        index = {id(p): i for i, p in enumerate(model.params())}
        for name, p in theirs.items():
            g0 = pg0[index[id(mine[name])]]
            g1 = p.grad.data
            same(g0, g1)
    for is_float, a, b in zip(float_inputs, xg0, xg1):
        if is_float:
            same(a, b)
    return imported
