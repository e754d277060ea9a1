"""Parity with PyTorch (float64) for every function torch has: values, first-order gradients
and second-order gradients (``create_graph=True`` then a second backward, against
``torch.autograd.grad(..., create_graph=True)``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from tests.functions.op_table import EDGE_KINDS, OPS, Op, edge_inputs, function_names
from zerograd import Variable, test_mode
from zerograd.testing import check_backward

RTOL, ATOL = 1e-9, 1e-11


def _list(y: Any) -> list[Any]:
    return list(y) if isinstance(y, (list, tuple)) else [y]


def parity(
    torch: Any,
    zfn: Callable[..., Any],
    tfn: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    second_order: bool = True,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Compare ``zfn`` (zerograd) and ``tfn`` (torch) on float64 ``inputs``: the outputs, the
    gradients of ``L = sum(c * y**2)`` for random ``c``, and the gradients of ``<dL/dx, v>``
    for random ``v`` (the square makes the second order run every backward's backward)."""
    rng = np.random.default_rng(0)
    zs = [Variable(np.array(x, dtype=np.float64)) for x in inputs]
    ts = [torch.tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    zy, ty = _list(zfn(*zs)), _list(tfn(*ts))
    assert len(zy) == len(ty)
    for a, b in zip(zy, ty):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=atol)
    cs = [rng.standard_normal(a.shape) for a in zy]
    zl = sum((a * a * Variable(c)).sum() for a, c in zip(zy, cs))
    tl = sum((b * b * torch.from_numpy(c)).sum() for b, c in zip(ty, cs))
    zl.backward(create_graph=True)
    tg = torch.autograd.grad(tl, ts, create_graph=True, allow_unused=True)
    zg = [z.grad for z in zs]
    for i, (a, b) in enumerate(zip(zg, tg)):
        want = np.zeros(inputs[i].shape) if b is None else b.detach().numpy()
        got = np.zeros(inputs[i].shape) if a is None else a.data
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"grad {i}")
    if not second_order:
        return
    vs = [rng.standard_normal(np.shape(x)) for x in inputs]
    for z in zs:
        z.cleargrad()
    z2 = sum((g * Variable(v)).sum() for g, v in zip(zg, vs) if g is not None)
    z2.backward()
    t2 = sum((g * torch.from_numpy(v)).sum() for g, v in zip(tg, vs) if g is not None)
    tg2 = torch.autograd.grad(t2, ts, allow_unused=True)
    for i, (z, b) in enumerate(zip(zs, tg2)):
        want = np.zeros(inputs[i].shape) if b is None else b.numpy()
        got = np.zeros(inputs[i].shape) if z.grad is None else z.grad.data
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"2nd-order grad {i}")


def _r(*shape: int, lo: float = -2.0, hi: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + sum(shape)).uniform(lo, hi, shape)


TWINNED = [op for op in OPS if op.twin is not None]


@pytest.mark.parametrize("op", TWINNED, ids=[op.name for op in TWINNED])
def test_op_table_row_matches_torch(torch: Any, op: Op) -> None:
    """Every op-table row with a torch twin, on the row's own inputs."""
    parity(torch, op.fn, lambda *ts: op.twin(torch, *ts), op.inputs())


def test_max_ties_split_like_amax(torch: Any) -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    parity(torch, lambda v: F.max(v, axis=1), lambda t: t.amax(1), [x])
    parity(torch, F.max, lambda t: t.amax(), [x])


def test_linear_and_embed_id(torch: Any) -> None:
    tf = torch.nn.functional
    parity(torch, F.linear, lambda x, W, b: tf.linear(x, W.T, b), [_r(2, 3, 4), _r(4, 5), _r(5)])
    ids = np.array([[0, 2], [2, 1]])
    parity(
        torch,
        lambda W: F.embed_id(ids, W),
        lambda W: tf.embedding(torch.from_numpy(ids), W),
        [_r(3, 4)],
    )


# -- losses ------------------------------------------------------------------------------------
def test_mean_squared_error(torch: Any) -> None:
    tf = torch.nn.functional
    parity(
        torch,
        F.mean_squared_error,
        lambda a, b: tf.mse_loss(a, b.expand_as(a), reduction="sum") / 3,
        [_r(3, 4), _r(4)],
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"ignore_index": -100},
        {"label_smoothing": 0.2},
        {"ignore_index": 1, "label_smoothing": 0.1},
    ],
)
def test_softmax_cross_entropy(torch: Any, options: dict[str, Any]) -> None:
    t = np.array([0, 2, 1, 2, -100 if options.get("ignore_index") == -100 else 1])
    parity(
        torch,
        lambda x: F.softmax_cross_entropy(x, t, **options),
        lambda x: torch.nn.functional.cross_entropy(x, torch.from_numpy(t), **options),
        [_r(5, 3) * 3],
    )


def test_softmax_cross_entropy_simple(torch: Any) -> None:
    t = np.array([0, 2, 1, 2])
    parity(
        torch,
        lambda x: F.softmax_cross_entropy_simple(x, t),
        lambda x: torch.nn.functional.cross_entropy(x, torch.from_numpy(t)),
        [_r(4, 3)],
    )


def test_sigmoid_and_binary_cross_entropy(torch: Any) -> None:
    tf = torch.nn.functional
    x, t = _r(4, 3, lo=-5, hi=5), _r(4, 3, lo=0, hi=1, seed=1)
    parity(
        torch,
        F.sigmoid_cross_entropy,
        lambda a, b: tf.binary_cross_entropy_with_logits(a, b, reduction="sum") / 4,
        [x, t],
    )
    p = _r(4, 3, lo=0.05, hi=0.95)
    parity(
        torch,
        F.binary_cross_entropy,
        lambda a, b: tf.binary_cross_entropy(a, b, reduction="sum") / 4,
        [p, t],
    )


# -- normalization -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("train", [True, False])
def test_batch_norm(torch: Any, shape: tuple[int, ...], train: bool) -> None:
    tf = torch.nn.functional
    m0, v0 = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    stats: dict[str, Any] = {}

    def zfn(x: Any, g: Any, b: Any) -> Any:
        stats["z"] = (m0.copy(), v0.copy())
        if train:
            return F.batch_norm(x, g, b, *stats["z"], decay=0.9, eps=1e-5)
        with test_mode():
            return F.batch_norm(x, g, b, *stats["z"], decay=0.9, eps=1e-5)

    def tfn(x: Any, g: Any, b: Any) -> Any:
        stats["t"] = (torch.from_numpy(m0.copy()), torch.from_numpy(v0.copy()))
        return tf.batch_norm(x, *stats["t"], g, b, training=train, momentum=0.1, eps=1e-5)

    parity(torch, zfn, tfn, [_r(*shape), _r(3, seed=1), _r(3, seed=2)], rtol=1e-8, atol=1e-10)
    for z, t in zip(stats["z"], stats["t"]):  # the running statistics, updated in place
        np.testing.assert_allclose(z, t.numpy(), rtol=1e-12)


def test_layer_norm(torch: Any) -> None:
    tf = torch.nn.functional
    parity(
        torch,
        F.layer_norm,
        lambda x, g, b: tf.layer_norm(x, (3, 4), g, b, eps=1e-5),
        [_r(2, 3, 4), _r(3, 4, seed=1), _r(3, 4, seed=2)],
        rtol=1e-8,
        atol=1e-10,
    )


def test_dropout_test_mode_is_identity(torch: Any) -> None:
    def zfn(x: Any) -> Any:
        with test_mode():
            return F.dropout(x, 0.3)

    parity(torch, zfn, lambda x: torch.nn.functional.dropout(x, 0.3, training=False), [_r(3, 4)])


# -- convolution and pooling ---------------------------------------------------------------------
@pytest.mark.parametrize("stride,pad", [(1, 0), (1, 1), (2, 1), ((2, 1), (0, 1))])
def test_conv2d(torch: Any, stride: Any, pad: Any) -> None:
    parity(
        torch,
        lambda x, W, b: F.conv2d(x, W, b, stride=stride, pad=pad),
        lambda x, W, b: torch.nn.functional.conv2d(x, W, b, stride=stride, padding=pad),
        [_r(2, 3, 5, 6), _r(4, 3, 3, 3, seed=1), _r(4, seed=2)],
    )


def test_conv2d_without_bias(torch: Any) -> None:
    parity(
        torch,
        lambda x, W: F.conv2d(x, W, stride=2),
        lambda x, W: torch.nn.functional.conv2d(x, W, stride=2),
        [_r(2, 3, 5, 5), _r(4, 3, 2, 2, seed=1)],
    )


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (3, 1)])
def test_deconv2d(torch: Any, stride: int, pad: int) -> None:
    parity(
        torch,
        lambda x, W, b: F.deconv2d(x, W, b, stride=stride, pad=pad),
        lambda x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, stride=stride, padding=pad),
        [_r(2, 3, 4, 3), _r(3, 2, 3, 3, seed=1), _r(2, seed=2)],
    )


def test_deconv2d_outsize(torch: Any) -> None:
    # outsize picks one of the sizes that convolve back to the input (torch: output_padding)
    parity(
        torch,
        lambda x, W: F.deconv2d(x, W, stride=2, pad=1, outsize=(8, 6)),
        lambda x, W: torch.nn.functional.conv_transpose2d(
            x, W, stride=2, padding=1, output_padding=(1, 1)
        ),
        [_r(1, 2, 4, 3), _r(2, 3, 3, 3, seed=1)],
    )


@pytest.mark.parametrize(
    "kernel,stride,pad", [(2, 2, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 0))]
)
def test_pooling(torch: Any, kernel: Any, stride: Any, pad: Any) -> None:
    tf = torch.nn.functional
    x = [_r(2, 3, 6, 7)]
    parity(
        torch,
        lambda v: F.pooling(v, kernel, stride, pad),
        lambda t: tf.max_pool2d(t, kernel, stride, pad),
        x,
    )
    parity(
        torch,
        lambda v: F.average_pooling(v, kernel, stride, pad),
        lambda t: tf.avg_pool2d(t, kernel, stride, pad, count_include_pad=True),
        x,
    )


# -- the op table's edge dimension ---------------------------------------------------------------
EDGE_CASES = [
    (op, kind)
    for op in OPS
    if op.twin is not None
    for kind in EDGE_KINDS
    if edge_inputs(op, kind) is not None
]


def _names_the_function(op: Op, e: Exception) -> bool:
    return any(str(e).startswith(name + ":") for name in function_names(op))


#: Where zerograd's derivative is finite and torch's NaN, by design (each with its reason).
BETTER_THAN_TORCH = {
    # d/dx of c x**(c-1) at x = c = 0: x**0 is constant, so 0; torch's masked branch is 0 * inf
    ("pow_var", "zeros"),
}
#: Deliberate differences from torch on special values (each with its reason): skipped.
DIFFERENT_BY_DESIGN = {
    # relu's mask is ``y > 0`` (one pass, the engine's hot path): 0 at NaN, torch passes gy
    ("relu", "nan"): "relu's gradient is 0 at NaN",
    # var is a composition (x - mean)**2: with inf entries the value is NaN in both, and the
    # gradient NaN where torch's closed form gives inf
    ("var", "infs"): "var's gradient is NaN with inf entries",
    # DeZero's softmax -> clip(1e-15) -> log: a -inf logit stops the gradient at the clip
    ("softmax_cross_entropy_simple", "infs"): "DeZero's clipped composition",
    # torch's fused eval batch norm (x * scale + shift) turns an inf gamma into a NaN column
    ("batch_norm_test", "infs"): "torch's fused formula gives NaN, ours inf",
}


@pytest.mark.parametrize(
    "op,kind", EDGE_CASES, ids=[f"{op.name}-{kind}" for op, kind in EDGE_CASES]
)
def test_op_table_edges_match_torch(torch: Any, op: Op, kind: str) -> None:
    """Every op-table row on edge inputs (``op_table.EDGE_KINDS``) against its torch twin:
    values, first and second derivatives where torch computes them (NaN where torch has NaN),
    and an error naming the function where torch refuses the input."""
    if (op.name, kind) in DIFFERENT_BY_DESIGN:
        pytest.skip(DIFFERENT_BY_DESIGN[op.name, kind])
    xs = edge_inputs(op, kind)
    assert xs is not None
    f32 = kind == "huge"
    rtol, atol = (1e-5, 1e-6) if f32 else (1e-9, 1e-11)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NumPy's and torch's warnings about inf and NaN
        ts = [torch.tensor(x, requires_grad=True) for x in xs]
        try:
            ty = _list(op.twin(torch, *ts))
        except (RuntimeError, IndexError, ValueError, TypeError):
            ty = None
        zs = [Variable(x.copy()) for x in xs]
        try:
            zy = _list(op.fn(*zs))
        except (ValueError, TypeError, IndexError) as e:
            assert _names_the_function(op, e), f"{op.name} ({kind}): unnamed error {e!r}"
            undefined = ty is not None and all(
                bool(torch.isnan(t).any()) or t.numel() == 0 for t in ty
            )
            assert ty is None or undefined, f"{op.name} ({kind}): torch computes it, got {e!r}"
            return
        if ty is None:  # torch refuses (a 0-d x with larger clamp bounds): NumPy decides
            want = _list(op.ref(*[x.copy() for x in xs]))
            for a, w in zip(zy, want):
                np.testing.assert_allclose(a.data, w, rtol=rtol, atol=atol, err_msg=op.name)
            return
        assert len(zy) == len(ty)
        for a, b in zip(zy, ty):
            assert a.shape == tuple(b.shape), f"{op.name} ({kind}): shape {a.shape}"
            np.testing.assert_allclose(
                a.data, b.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{op.name} value"
            )
        cs = [rng.standard_normal(a.shape).astype(a.dtype) for a in zy]
        zl = sum((a * Variable(c)).sum() for a, c in zip(zy, cs))
        tl = sum((b * torch.from_numpy(c)).sum() for b, c in zip(ty, cs))
        zl.backward(create_graph=not f32)
        try:
            tg = torch.autograd.grad(tl, ts, create_graph=not f32, allow_unused=True)
        except RuntimeError:  # torch's backward fails (clamp of a 0-d x by larger bounds)
            check_backward(op.fn, *xs)
            return
        _compare_grads(op, kind, [z.grad for z in zs], tg, xs, rtol, atol, "grad")
        if f32:
            return
        vs = [rng.standard_normal(np.shape(x)) for x in xs]
        zg = [z.grad for z in zs]
        z2 = [(g * Variable(v)).sum() for g, v in zip(zg, vs) if g is not None]
        t2 = [(g * torch.from_numpy(v)).sum() for g, v in zip(tg, vs) if g is not None]
        for z in zs:
            z.cleargrad()
        if z2:
            sum(z2).backward()
        t2_total = sum(t2)
        tg2 = (
            torch.autograd.grad(t2_total, ts, allow_unused=True)
            if t2 and t2_total.requires_grad
            else [None] * len(ts)
        )
        _compare_grads(op, kind, [z.grad for z in zs], tg2, xs, rtol, atol, "2nd-order grad")


def _compare_grads(
    op: Op, kind: str, got: Any, want: Any, xs: Any, rtol: float, atol: float, what: str
) -> None:
    for i, (a, b) in enumerate(zip(got, want)):
        g = np.zeros(xs[i].shape, xs[i].dtype) if a is None else a.data
        w = np.zeros(xs[i].shape, xs[i].dtype) if b is None else b.detach().numpy(force=True)
        assert g.shape == w.shape, f"{op.name} ({kind}): {what} {i} has shape {g.shape}"
        if (op.name, kind) in BETTER_THAN_TORCH:  # a finite value where torch has NaN is fine
            w = np.where(np.isnan(w) & ~np.isnan(g), g, w)
        np.testing.assert_allclose(
            g, w, rtol=rtol, atol=atol, err_msg=f"{op.name} ({kind}): {what} {i}"
        )
