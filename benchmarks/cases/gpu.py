"""GPU cases (issue 6): an MLP training step and conv2d forward+backward, zerograd on CuPy vs
torch on CUDA, same run. Skipped (no rows) where CuPy or a CUDA GPU is missing."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from benchmarks._common import Row, median_time, optional_import


def _gpu() -> Any | None:
    from zerograd import cuda

    if not cuda.gpu_enable:
        return None
    import cupy

    return cupy


def _mlp_rows(cp: Any, torch: Any | None, smoke: bool) -> list[Row]:
    import zerograd.functions as F
    from zerograd import Parameter

    sizes = (784, 100, 10) if smoke else (784, 1000, 1000, 10)
    batch = 32 if smoke else 512
    repeats = 2 if smoke else 30
    rng = np.random.default_rng(0)
    weights = [
        (
            rng.standard_normal((i, o)).astype(np.float32) * np.float32(np.sqrt(1 / i)),
            np.zeros(o, np.float32),
        )
        for i, o in itertools.pairwise(sizes)
    ]
    x_host = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    t_host = rng.integers(0, sizes[-1], batch)
    params = [(Parameter(cp.asarray(W)), Parameter(cp.asarray(b))) for W, b in weights]
    x, t = cp.asarray(x_host), cp.asarray(t_host)
    lr = 0.01

    def zg_step() -> None:
        h = x
        for k, (W, b) in enumerate(params):
            h = F.linear(h, W, b)
            if k < len(params) - 1:
                h = F.relu(h)
        loss = F.softmax_cross_entropy(h, t)
        for W, b in params:
            W.cleargrad()
            b.cleargrad()
        loss.backward()
        for W, b in params:
            W.data -= lr * W.grad.data
            b.data -= lr * b.grad.data
        cp.cuda.Device().synchronize()

    label = "-".join(map(str, sizes)) + f" batch {batch}"
    rows = [
        Row(
            "gpu_mlp_step",
            "zerograd",
            "time",
            median_time(zg_step, repeats) * 1e3,
            "ms",
            label,
            extra={"target": "<= 1.3x torch"},
        )
    ]
    if torch is not None:
        dev = torch.device("cuda")
        tparams = [
            (
                torch.tensor(W, device=dev, requires_grad=True),
                torch.tensor(b, device=dev, requires_grad=True),
            )
            for W, b in weights
        ]
        tx = torch.tensor(x_host, device=dev)
        tt = torch.tensor(t_host, device=dev)

        def torch_step() -> None:
            h = tx
            for k, (W, b) in enumerate(tparams):
                h = h @ W + b
                if k < len(tparams) - 1:
                    h = torch.relu(h)
            loss = torch.nn.functional.cross_entropy(h, tt)
            for W, b in tparams:
                W.grad = None
                b.grad = None
            loss.backward()
            with torch.no_grad():
                for W, b in tparams:
                    W -= lr * W.grad
                    b -= lr * b.grad
            torch.cuda.synchronize()

        rows.append(
            Row(
                "gpu_mlp_step", "torch", "time", median_time(torch_step, repeats) * 1e3, "ms", label
            )
        )
    return rows


def _conv_rows(cp: Any, torch: Any | None, smoke: bool) -> list[Row]:
    import zerograd.functions as F
    from zerograd import Parameter, Variable

    shape, oc = ((8, 16, 14, 14), 8) if smoke else ((64, 16, 28, 28), 32)
    repeats = 2 if smoke else 30
    rng = np.random.default_rng(1)
    x_host = rng.standard_normal(shape).astype(np.float32)
    W_host = rng.standard_normal((oc, shape[1], 3, 3)).astype(np.float32) * np.float32(0.1)
    b_host = np.zeros(oc, np.float32)
    x = Variable(cp.asarray(x_host))
    W, b = Parameter(cp.asarray(W_host)), Parameter(cp.asarray(b_host))
    gy = cp.asarray(rng.standard_normal((shape[0], oc, shape[2], shape[3])).astype(np.float32))

    def zg_step() -> None:
        for v in (x, W, b):
            v.cleargrad()
        y = F.conv2d(x, W, b, stride=1, pad=1)
        y.grad = Variable(gy)
        y.backward()
        cp.cuda.Device().synchronize()

    label = f"{shape} x {oc} 3x3, pad 1"
    rows = [
        Row(
            "gpu_conv2d_fwd_bwd",
            "zerograd",
            "time",
            median_time(zg_step, repeats) * 1e3,
            "ms",
            label,
            extra={"target": "<= 2x torch"},
        )
    ]
    if torch is not None:
        dev = torch.device("cuda")
        tx = torch.tensor(x_host, device=dev, requires_grad=True)
        tW = torch.tensor(W_host, device=dev, requires_grad=True)
        tb = torch.tensor(b_host, device=dev, requires_grad=True)
        tgy = torch.tensor(cp.asnumpy(gy), device=dev)

        def torch_step() -> None:
            for v in (tx, tW, tb):
                v.grad = None
            y = torch.nn.functional.conv2d(tx, tW, tb, stride=1, padding=1)
            y.backward(tgy)
            torch.cuda.synchronize()

        rows.append(
            Row(
                "gpu_conv2d_fwd_bwd",
                "torch",
                "time",
                median_time(torch_step, repeats) * 1e3,
                "ms",
                label,
            )
        )
    return rows


def run(smoke: bool) -> list[Row]:
    cp = _gpu()
    if cp is None:
        return []
    torch = optional_import("torch")
    if torch is not None and not torch.cuda.is_available():
        torch = None
    return _mlp_rows(cp, torch, smoke) + _conv_rows(cp, torch, smoke)
