"""The function library on every array backend (``xp``: NumPy always, CuPy under ``-m gpu``):
values, first- and second-order gradients on ``xp`` arrays agree with NumPy float64."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from tests.functions.op_table import OPS
from zerograd import Variable, cuda, test_mode

_T = np.array([0, 2, 1, 2])


def _bn_test(x: Any, g: Any, b: Any) -> Any:
    xp = cuda.get_array_module(x)
    with test_mode():
        return F.batch_norm(x, g, b, xp.full(3, 0.1, x.dtype), xp.full(3, 2.0, x.dtype))


def _bn_train(x: Any, g: Any, b: Any) -> Any:
    xp = cuda.get_array_module(x)
    return F.batch_norm(x, g, b, xp.zeros(3, x.dtype), xp.ones(3, x.dtype))


def _labels(x: Any, t: np.ndarray) -> Any:
    return cuda.get_array_module(x).asarray(t)


CASES: list[tuple[str, Any, list[tuple[int, ...]]]] = [
    ("conv2d", lambda x, W, b: F.conv2d(x, W, b, 2, 1), [(2, 3, 6, 5), (4, 3, 3, 3), (4,)]),
    ("deconv2d", lambda x, W: F.deconv2d(x, W, stride=2, pad=1), [(2, 3, 3, 3), (3, 2, 3, 3)]),
    ("pooling", lambda x: F.pooling(x, 3, 2, 1), [(2, 3, 6, 5)]),
    ("average_pooling", lambda x: F.average_pooling(x, 2, 1, 1), [(2, 3, 4, 5)]),
    ("im2col", lambda x: F.im2col(x, 3, 1, 1), [(1, 2, 4, 4)]),
    ("batch_norm", _bn_train, [(2, 3, 4, 4), (3,), (3,)]),
    ("batch_norm_test", _bn_test, [(5, 3), (3,), (3,)]),
    ("layer_norm", F.layer_norm, [(3, 4), (4,), (4,)]),
    ("softmax_cross_entropy", lambda x: F.softmax_cross_entropy(x, _labels(x, _T)), [(4, 3)]),
    (
        "softmax_cross_entropy_options",
        lambda x: F.softmax_cross_entropy(
            x, _labels(x, np.array([0, -1, 1, 2])), ignore_index=-1, label_smoothing=0.1
        ),
        [(4, 3)],
    ),
    ("sigmoid_cross_entropy", F.sigmoid_cross_entropy, [(4, 3), (4, 3)]),
    ("log_softmax", F.log_softmax, [(3, 4)]),
    ("logsumexp", F.logsumexp, [(3, 4)]),
    ("gelu", F.gelu, [(3, 4)]),
    ("leaky_relu", F.leaky_relu, [(3, 4)]),
    ("max", lambda x: F.max(x, axis=1), [(3, 4)]),
    ("abs_clip", lambda x: F.clip(F.abs(x), 0.2, 1.5), [(3, 4)]),
    ("where", lambda a, b: F.where(a.data > 0, a, b), [(3, 4), (4,)]),
    ("split_concat", lambda x: F.concat(F.split(x, [1, 3], axis=1)[::-1], axis=1), [(3, 4)]),
    ("linear", F.linear, [(3, 4), (4, 5), (5,)]),
    ("embed_id", lambda W: F.embed_id(_labels(W, np.array([[0, 2], [2, 2]])), W), [(3, 4)]),
]


def _run(xp: ModuleType, f: Any, inputs: list[np.ndarray], seed: int = 1) -> list[np.ndarray]:
    """Outputs, gradients of <y, c> and gradients of <grad, v>, all as NumPy arrays."""
    rng = np.random.default_rng(seed)
    vs = [Variable(xp.asarray(x)) for x in inputs]
    y = f(*vs)
    c = rng.standard_normal(y.shape).astype(y.dtype)
    (y * y * xp.asarray(c)).sum().backward(create_graph=True)
    grads = [v.grad for v in vs]
    for v in vs:
        v.cleargrad()
    total = sum((g * xp.asarray(rng.standard_normal(g.shape).astype(g.dtype))).sum() for g in grads)
    total.backward()
    arrays = [y.data, *[g.data for g in grads], *[v.grad.data for v in vs]]
    for a in arrays:
        assert isinstance(a, xp.ndarray), type(a)
    return [cuda.as_numpy(a) for a in arrays]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_backend_matches_numpy_float64(xp: ModuleType, case: Any) -> None:
    _, f, shapes = case
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-2, 2, s) for s in shapes]
    want = _run(np, f, inputs)
    got = _run(xp, f, [x.astype(np.float32) for x in inputs])
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * scale)


def test_dropout_on_backend(xp: ModuleType) -> None:
    x = Variable(xp.ones((200, 50), dtype=np.float32))
    y = F.dropout(x, 0.3)
    y.backward()
    data, grad = cuda.as_numpy(y.data), cuda.as_numpy(x.grad.data)
    assert isinstance(y.data, xp.ndarray) and y.dtype == np.float32
    kept = data != 0
    np.testing.assert_allclose(data[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(grad, data)  # the same mask and scale
    assert 0.6 < kept.mean() < 0.8


# Rows whose function closes over NumPy arrays (labels, conditions, running statistics; a CPU
# array meeting a GPU array is an error by design) or draws random numbers (dropout's mask
# comes from the backend's RNG): ``CASES`` and ``test_dropout_on_backend`` cover them on
# device arrays.
_HOST_CONSTANT_ROWS = {
    "where",
    "softmax_cross_entropy",
    "softmax_cross_entropy_options",
    "batch_norm",
    "batch_norm_4d",
    "batch_norm_test",
    "dropout",
}


def _table_run(xp: ModuleType, op: Any, xs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs, first-order gradients of <y*y, c> and second-order gradients, on ``xp``."""
    rng = np.random.default_rng(1)
    vs = [Variable(xp.asarray(x)) for x in xs]
    ys = op.fn(*vs)
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    total = sum((y * y * xp.asarray(rng.standard_normal(y.shape))).sum() for y in ys)
    total.backward(create_graph=True)
    grads = [v.grad for v in vs]
    for v in vs:
        v.cleargrad()
    terms = [(g * xp.asarray(rng.standard_normal(g.shape))).sum() for g in grads if g is not None]
    if terms and 2 in op.orders:
        sum(terms).backward()
    arrays = [y.data for y in ys] + [g.data for g in grads if g is not None]
    arrays += [v.grad.data for v in vs if v.grad is not None]
    return [cuda.as_numpy(a) for a in arrays]


@pytest.mark.gpu
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_op_table_on_cupy(op: Any) -> None:
    """Every row of the op table on CuPy: values, first and second order equal NumPy's."""
    cp = pytest.importorskip("cupy")
    if not cuda.gpu_enable:
        pytest.skip("no CUDA GPU")
    if op.name in _HOST_CONSTANT_ROWS:
        pytest.skip("the row closes over host arrays; CASES above runs it with device arrays")
    xs = op.inputs()
    want = _table_run(np, op, xs)
    got = _table_run(cp, op, xs)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        scale = max(1.0, float(np.abs(b).max(initial=0)))
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * scale, err_msg=op.name)
