"""One SGD training step of a ReLU MLP (issue 4): forward, softmax cross entropy, backward,
update; float32, single thread. The baseline is a hand-written NumPy forward/backward of the
same network (``baseline="numpy"``); torch and DeZero (if installed) run beside it.

Every implementation starts from the same weights and data; the first step's losses are
checked against the NumPy one before anything is timed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from benchmarks._common import (
    Row,
    import_dezero,
    interleaved_medians,
    limit_threads,
    optional_import,
)

LR = 0.01
# (layer sizes, batch, zerograd's target ratio to NumPy) - the two networks; smoke
# mode runs a tiny one (no target).
FULL = [((784, 1000, 1000, 10), 128, 1.05), ((784, 100, 10), 32, 1.3)]
SMOKE = [((64, 32, 10), 8, None)]


def _init(sizes: tuple[int, ...], batch: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    weights = []
    for n_in, n_out in itertools.pairwise(sizes):
        weights.append((rng.standard_normal((n_in, n_out)) * np.sqrt(1 / n_in)).astype(np.float32))
        weights.append(np.zeros(n_out, dtype=np.float32))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    t = rng.integers(0, sizes[-1], batch)
    return weights, x, t


# -- the baseline: NumPy by hand ------------------------------------------------------------
def numpy_step(weights: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], float]:
    Ws, bs = weights[0::2], weights[1::2]

    def step(x: np.ndarray, t: np.ndarray) -> float:
        n = len(x)
        hs = [x]
        h = x
        for W, b in zip(Ws[:-1], bs[:-1]):
            h = h @ W
            h += b
            np.maximum(h, 0, out=h)
            hs.append(h)
        logits = h @ Ws[-1]
        logits += bs[-1]
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        p = logits
        p /= p.sum(axis=1, keepdims=True)
        loss = -float(np.log(p[np.arange(n), t]).mean())
        g = p  # d loss / d logits = (softmax - onehot) / n
        g[np.arange(n), t] -= 1
        g /= n
        for i in range(len(Ws) - 1, -1, -1):
            gW = hs[i].T @ g
            gb = g.sum(axis=0)
            if i:
                g = g @ Ws[i].T
                g *= hs[i] > 0
            Ws[i] -= LR * gW
            bs[i] -= LR * gb
        return loss

    return step


# -- zerograd --------------------------------------------------------------------------------
def zerograd_step(weights: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], float]:
    import zerograd.functions as F
    import zerograd.optimizers as O
    from zerograd.models import MLP

    sizes = [w.shape[1] for w in weights[0::2]]
    model = MLP(sizes, activation=F.relu)
    for layer, W, b in zip(model.layers, weights[0::2], weights[1::2]):
        layer.W.data, layer.b.data = W, b
        layer.in_size = W.shape[0]
    opt = O.SGD(lr=LR).setup(model)

    def step(x: np.ndarray, t: np.ndarray) -> float:
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    return step


# -- peers -----------------------------------------------------------------------------------
def torch_step(weights: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], float] | None:
    torch = optional_import("torch")
    if torch is None:
        return None
    layers: list[Any] = []
    for W, b in zip(weights[0::2], weights[1::2]):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x: np.ndarray, t: np.ndarray) -> float:
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(t))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


def dezero_step(weights: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], float] | None:
    dezero = import_dezero()
    if dezero is None:
        return None
    import dezero.functions as DF
    from dezero import optimizers
    from dezero.models import MLP

    sizes = [w.shape[1] for w in weights[0::2]]
    model = MLP(sizes, activation=DF.relu)
    for layer, W, b in zip(model.layers, weights[0::2], weights[1::2]):
        # Set before the first call, so DeZero's lazy init (float64 on NumPy 2) never runs.
        layer.W.data, layer.b.data = W, b
    opt = optimizers.SGD(lr=LR).setup(model)

    def step(x: np.ndarray, t: np.ndarray) -> float:
        loss = DF.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    return step


IMPLS = [
    ("numpy", numpy_step),
    ("zerograd", zerograd_step),
    ("torch", torch_step),
    ("dezero", dezero_step),
]


def run(smoke: bool) -> list[Row]:
    limit_threads()
    rows = []
    for sizes, batch, target in SMOKE if smoke else FULL:
        weights, x, t = _init(sizes, batch)
        params = f"{'-'.join(map(str, sizes))} batch {batch}, float32, SGD"
        reference = numpy_step([w.copy() for w in weights])(x, t)
        steps: dict[str, Callable[[], float]] = {}
        for impl, make in IMPLS:
            step = make([w.copy() for w in weights])
            if step is None:
                continue
            loss = step(x, t)  # also the warm-up
            if not np.isclose(loss, reference, rtol=1e-4):
                raise AssertionError(f"mlp {params}: {impl} loss {loss} != numpy {reference}")
            steps[impl] = lambda step=step: step(x, t)
        # The impls take turns; each sample lasts >= 20 ms (the small net's step is ~0.2 ms).
        times = interleaved_medians(steps, 1 if smoke else 15, 0.0 if smoke else 0.02)
        for impl, seconds in times.items():
            extra = {}
            if impl == "zerograd" and target is not None:
                extra = {"target_ratio": target, "target": f"<= {target}x numpy"}
            rows.append(
                Row(
                    case="mlp train step",
                    impl=impl,
                    metric="step",
                    value=seconds * 1e3,
                    unit="ms",
                    params=params,
                    baseline="numpy",
                    extra=extra,
                )
            )
    return rows


if __name__ == "__main__":
    import sys

    for row in run("--smoke" in sys.argv):
        print(f"{row.params:40s} {row.impl:10s} {row.value:9.3f} {row.unit}")
