"""Hooks compose: every ordered pair and every order of the three hooks, with every
optimizer, gives the update of applying the hooks one after another by hand."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O

OPTIMIZERS: dict[str, Callable[[], O.Optimizer]] = {
    "SGD": lambda: O.SGD(lr=0.1),
    "MomentumSGD": lambda: O.MomentumSGD(lr=0.1),
    "AdaGrad": lambda: O.AdaGrad(lr=0.1),
    "AdaDelta": lambda: O.AdaDelta(),
    "Adam": lambda: O.Adam(alpha=0.1),
    "AdamW": lambda: O.AdamW(alpha=0.1),
}
HOOKS = ("WeightDecay", "ClipGrad", "FreezeParam")
ORDERS = [*itertools.product(HOOKS, repeat=2), *itertools.permutations(HOOKS)]


def test_every_optimizer_is_in_the_table() -> None:
    classes = {n for n in O.__all__ if isinstance(getattr(O, n), type)}
    assert classes - set(HOOKS) - {"Optimizer"} == set(OPTIMIZERS)


class Net(zg.Layer):
    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.frozen = zg.Layer()
        self.frozen.W = zg.Parameter(rng.standard_normal((3, 2)))
        self.W = zg.Parameter(rng.standard_normal((2, 4)))
        self.b = zg.Parameter(rng.standard_normal(4))


def _grads(net: Net, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for p in net.params():
        p.grad = zg.Variable(rng.standard_normal(p.shape) * 5)


def _by_hand(net: Net, order: tuple[str, ...], make: Callable[[], O.Optimizer]) -> None:
    """The hooks' formulas applied one after another, then a hook-less optimizer step."""
    live = list(net.params())
    for hook in order:
        if hook == "WeightDecay":
            for p in live:
                p.grad.data = p.grad.data + 0.1 * p.data
        elif hook == "ClipGrad":
            norm = np.sqrt(sum(float((p.grad.data**2).sum()) for p in live))
            if 1.0 / (norm + 1e-6) < 1:
                for p in live:
                    p.grad.data = p.grad.data * (1.0 / (norm + 1e-6))
        else:
            live = [p for p in live if p is not net.frozen.W]
    make().setup(live).update()


def _hook(name: str, net: Net) -> Any:
    return {
        "WeightDecay": lambda: O.WeightDecay(0.1),
        "ClipGrad": lambda: O.ClipGrad(1.0),
        "FreezeParam": lambda: O.FreezeParam(net.frozen),
    }[name]()


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_hooks_compose_in_any_order(name: str, order: tuple[str, ...]) -> None:
    net, ref = Net(), Net()
    before = net.frozen.W.data.copy()
    opt = OPTIMIZERS[name]().setup(net)
    for h in order:
        opt.add_hook(_hook(h, net))
    _grads(net, 1)
    _grads(ref, 1)
    opt.update()
    _by_hand(ref, order, OPTIMIZERS[name])
    for p, q in zip(net.params(), ref.params()):
        np.testing.assert_array_equal(p.data, q.data)
    if "FreezeParam" in order:
        np.testing.assert_array_equal(net.frozen.W.data, before)
        assert net.frozen.W.grad is None
    else:
        assert not np.array_equal(net.frozen.W.data, before)
    assert not np.array_equal(net.W.data, Net().W.data)


@pytest.mark.parametrize("hook", ["WeightDecay", "ClipGrad", "FreezeParam"])
def test_a_hook_called_directly_skips_missing_gradients(hook: str) -> None:
    net = Net()
    _grads(net, 2)
    net.W.grad = None
    _hook(hook, net)(list(net.params()))
    assert net.W.grad is None
