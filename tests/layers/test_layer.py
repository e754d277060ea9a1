"""``Layer``: ordered registration, dotted names, buffers, traversal, repr."""

from __future__ import annotations

import numpy as np
import pytest

import zerograd as zg
import zerograd.layers as L
from tests._env import child_env


def _p(*shape: int) -> zg.Parameter:
    return zg.Parameter(np.zeros(shape, dtype=np.float32))


class Leaf(zg.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.W = _p(2, 2)
        self.b = _p(2)


class Tree(zg.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.first = Leaf()
        self.p = _p(3)
        self.second = Leaf()
        self.register_buffer("stat", zg.Variable(np.ones(3, dtype=np.float32)))


def test_assignment_order_with_children_in_place() -> None:
    names = [n for n, _ in Tree().named_params()]
    assert names == ["first.W", "first.b", "p", "second.W", "second.b"]
    model = Tree()
    assert [id(p) for p in model.params()] == [id(p) for _, p in model.named_params()]


def test_order_is_the_same_in_every_process() -> None:
    # DeZero's set-ordered params() depend on the string hash seed; ours on assignment only.
    import subprocess
    import sys

    code = (
        "import numpy as np, zerograd as zg\n"
        "m = zg.Layer()\n"
        "for name in ['zeta', 'alpha', 'mid', 'beta', 'omega', 'kappa']:\n"
        "    setattr(m, name, zg.Parameter(np.zeros(1)))\n"
        "print([n for n, _ in m.named_params()])\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env=child_env({"PYTHONHASHSEED": str(seed), "PATH": ""}),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    }
    assert outs == {"['zeta', 'alpha', 'mid', 'beta', 'omega', 'kappa']\n"}


def test_reassignment_keeps_position_and_none_is_skipped() -> None:
    model = Tree()
    model.first = Leaf()  # rebinding keeps the slot
    model.p = None  # like Linear(nobias=True)'s b
    assert [n for n, _ in model.named_params()] == ["first.W", "first.b", "second.W", "second.b"]
    model.p = _p(1)
    assert [n for n, _ in model.named_params()][2] == "p"


def test_rebinding_to_plain_value_and_del_unregister() -> None:
    model = Tree()
    model.p = 3  # not a parameter any more
    del model.second
    assert [n for n, _ in model.named_params()] == ["first.W", "first.b"]
    assert model.p == 3


def test_shared_parameters_and_layers_are_yielded_once() -> None:
    model = zg.Layer()
    leaf = Leaf()
    model.a = leaf
    model.b = leaf  # shared layer
    model.tied = leaf.W  # shared parameter
    assert [n for n, _ in model.named_params()] == ["a.W", "a.b"]


def test_cycles_terminate() -> None:
    a, b = zg.Layer(), zg.Layer()
    a.child = b
    b.parent = a
    b.W = _p(1)
    assert [n for n, _ in a.named_params()] == ["child.W"]
    assert "child" in repr(a)


def test_deep_nesting_without_recursion() -> None:
    root = layer = zg.Layer()
    depth = 5000
    for _ in range(depth):
        layer.next = zg.Layer()
        layer = layer.next
    layer.W = _p(1)
    ((name, _),) = list(root.named_params())
    assert name == "next." * depth + "W"
    assert repr(root).count("Layer(") == depth + 1


def test_buffers_are_saved_state_but_not_params() -> None:
    model = Tree()
    assert all(p is not model.stat for p in model.params())
    assert [n for n, _ in model.named_buffers()] == ["stat"]
    assert [n for n, _ in model.named_state()][-1] == "stat"
    assert next(n for n, _ in model.named_state(sep=".")) == "first.W"
    assert list(model.buffers()) == [model.stat]
    model.stat = zg.Variable(np.zeros(3, dtype=np.float32))  # a Variable may replace it
    with pytest.raises(TypeError, match="buffer 'stat' must be a Variable.*stat.data"):
        model.stat = np.zeros(3)
    with pytest.raises(TypeError, match="register_buffer"):
        model.register_buffer("x", _p(1))


def test_parameter_assigned_to_buffer_name_becomes_parameter() -> None:
    model = Tree()
    model.stat = _p(3)
    assert [n for n, _ in model.named_buffers()] == []
    assert "stat" in [n for n, _ in model.named_params()]


def test_cleargrads() -> None:
    model = Tree()
    for p in model.params():
        p.grad = zg.Variable(np.ones_like(p.data))
    model.cleargrads()
    assert all(p.grad is None for p in model.params())


def test_subclass_without_super_init() -> None:
    class Forgetful(zg.Layer):
        def __init__(self) -> None:
            self.W = _p(2)

    assert [n for n, _ in Forgetful().named_params()] == ["W"]


def test_call_unwraps_single_outputs() -> None:
    class Two(zg.Layer):
        def forward(self, x):
            return (x,) if x.ndim == 1 else (x, x)

    v = zg.Variable(np.ones(2))
    assert Two()(v) is v
    assert len(Two()(zg.Variable(np.ones((2, 2))))) == 2
    with pytest.raises(NotImplementedError, match="Layer.forward"):
        zg.Layer()(v)


def test_device_moves_return_self() -> None:
    model = Tree()
    assert model.to_cpu() is model


def test_repr_shows_structure() -> None:
    model = Tree()
    model.lin = L.Linear(4, in_size=3)
    assert repr(model) == (
        "Tree(\n"
        "  (first): Leaf(W=(2, 2) float32, b=(2,) float32)\n"
        "  (second): Leaf(W=(2, 2) float32, b=(2,) float32)\n"
        "  (lin): Linear(in_size=3, out_size=4, bias=True, dtype=float32)\n"
        ")"
    )
