"""conv2d forward + backward (issue 3): 3x3 filters, stride 1, pad 1, float32, single thread.

The baseline (``baseline="numpy"``) is a hand-written NumPy im2col convolution of the kind a
course or a from-scratch framework has: im2col into ``(N, C, KH, KW, OH, OW)`` one kernel tap
at a time, a transposing reshape to ``(N*OH*OW, C*KH*KW)``, one matrix product, and for the
backward pass two matrix products and a col2im that adds one tap at a time (no ``np.add.at``),
with the columns cached from the forward pass. torch runs beside it. Each step computes the
gradients of the input, the weights and the bias from one fixed upstream gradient; the three
are checked against each other before anything is timed, and take turns while being timed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from benchmarks._common import Row, interleaved_medians, limit_threads, optional_import

# (N, C, H, W), out channels - the two layers; smoke mode runs a tiny one.
FULL = [((32, 3, 32, 32), 16), ((64, 16, 28, 28), 32)]
SMOKE = [((2, 3, 8, 8), 4)]
K, STRIDE, PAD = 3, 1, 1

Grads = tuple[np.ndarray, np.ndarray, np.ndarray]


def _data(shape: tuple[int, ...], oc: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    N, C, H, W = shape
    x = rng.standard_normal(shape).astype(np.float32)
    Wt = (rng.standard_normal((oc, C, K, K)) * np.sqrt(1 / (C * K * K))).astype(np.float32)
    b = rng.standard_normal(oc).astype(np.float32)
    OH = (H + 2 * PAD - K) // STRIDE + 1
    OW = (W + 2 * PAD - K) // STRIDE + 1
    gy = rng.standard_normal((N, oc, OH, OW)).astype(np.float32)
    return x, Wt, b, gy


# -- the baseline: NumPy by hand ------------------------------------------------------------
def numpy_step(x: np.ndarray, W: np.ndarray, b: np.ndarray, gy: np.ndarray) -> Grads:
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    s, p = STRIDE, PAD
    OH, OW = (H + 2 * p - KH) // s + 1, (Wd + 2 * p - KW) // s + 1
    # forward: im2col, one matrix product
    img = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    col = np.empty((N, C, KH, KW, OH, OW), dtype=x.dtype)
    for j in range(KH):
        for i in range(KW):
            col[:, :, j, i] = img[:, :, j : j + s * OH : s, i : i + s * OW : s]
    col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, -1)
    W2 = W.reshape(OC, -1)
    y = col @ W2.T
    y += b
    y = y.reshape(N, OH, OW, OC).transpose(0, 3, 1, 2)
    # backward: two matrix products and col2im
    g2 = gy.transpose(0, 2, 3, 1).reshape(-1, OC)
    gb = g2.sum(axis=0)
    gW = (g2.T @ col).reshape(W.shape)
    gcol = (g2 @ W2).reshape(N, OH, OW, C, KH, KW).transpose(0, 3, 4, 5, 1, 2)
    gimg = np.zeros((N, C, H + 2 * p, Wd + 2 * p), dtype=x.dtype)
    for j in range(KH):
        for i in range(KW):
            gimg[:, :, j : j + s * OH : s, i : i + s * OW : s] += gcol[:, :, j, i]
    gx = gimg[:, :, p : p + H, p : p + Wd]
    return gx, gW, gb


# -- zerograd --------------------------------------------------------------------------------
def zerograd_step() -> Callable[..., Grads]:
    import zerograd as zg
    import zerograd.functions as F

    def step(x: np.ndarray, W: np.ndarray, b: np.ndarray, gy: np.ndarray) -> Grads:
        xv, Wv, bv = zg.Variable(x), zg.Parameter(W), zg.Parameter(b)
        y = F.conv2d(xv, Wv, bv, stride=STRIDE, pad=PAD)
        y.grad = zg.Variable(gy)
        y.backward()
        return xv.grad.data, Wv.grad.data, bv.grad.data

    return step


# -- torch -------------------------------------------------------------------------------------
def torch_step(torch: Any) -> Callable[..., Grads]:
    def step(x: np.ndarray, W: np.ndarray, b: np.ndarray, gy: np.ndarray) -> Grads:
        xt = torch.from_numpy(x).requires_grad_()
        Wt = torch.from_numpy(W).requires_grad_()
        bt = torch.from_numpy(b).requires_grad_()
        y = torch.nn.functional.conv2d(xt, Wt, bt, stride=STRIDE, padding=PAD)
        y.backward(torch.from_numpy(gy))
        return xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()

    return step


def _check(name: str, got: Grads, want: Grads) -> None:
    for label, a, e in zip(("gx", "gW", "gb"), got, want):
        scale = float(np.abs(e).max()) or 1.0
        err = float(np.abs(np.asarray(a) - e).max()) / scale
        if err > 1e-4:
            raise AssertionError(f"conv benchmark: {name} {label} differs from NumPy by {err:.2e}")


def run(smoke: bool) -> list[Row]:
    limit_threads()
    torch = optional_import("torch")
    rows: list[Row] = []
    repeats = 1 if smoke else 15
    for shape, oc in SMOKE if smoke else FULL:
        args = _data(shape, oc)
        params = f"x={shape} W=({oc},{shape[1]},{K},{K}) s={STRIDE} p={PAD} float32"
        impls: dict[str, Callable[..., Grads]] = {"numpy": numpy_step, "zerograd": zerograd_step()}
        if torch is not None:
            impls["torch"] = torch_step(torch)
        want = numpy_step(*args)
        for name, step in impls.items():
            _check(name, step(*args), want)
        times = interleaved_medians(
            {name: (lambda step=step: step(*args)) for name, step in impls.items()}, repeats
        )
        for name, t in times.items():
            extra: dict[str, Any] = {}
            if name == "zerograd" and not smoke:  # the target is set for the sizes
                extra.update(target_ratio=1.2, target="<= 1.2x numpy")
            if "torch" in times:
                extra["vs_torch"] = round(t / times["torch"], 3)
            rows.append(
                Row(
                    case="conv2d fwd+bwd",
                    impl=name,
                    metric="time",
                    value=t * 1e3,
                    unit="ms",
                    params=params,
                    baseline="numpy",
                    extra=extra,
                )
            )
    return rows


if __name__ == "__main__":  # python -m benchmarks.cases.conv [--smoke]
    import sys

    for row in run("--smoke" in sys.argv):
        ratio = row.extra.get("vs_torch", "")
        print(f"{row.params:45s} {row.impl:9s} {row.value:8.2f} ms  vs torch {ratio}")
