"""``backward_order`` is exactly the order the engine runs, and ``zerograd demo`` prints it."""

from __future__ import annotations

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable
from zerograd.cli import main
from zerograd.viz import Step, backward_order


class Pair(Function):
    """A user function with two outputs (x + y, x * y)."""

    def forward(self, x, y):
        return x + y, x * y

    def backward(self, g_sum, g_prod):
        x, y = self.inputs
        g_sum = 0 if g_sum is None else g_sum
        g_prod = 0 if g_prod is None else g_prod
        return g_sum + g_prod * y, g_sum + g_prod * x


def record_backward_calls(y: Variable, monkeypatch: pytest.MonkeyPatch) -> list[Function]:
    """Run ``y.backward()`` and return the functions in the order their backward ran."""
    calls: list[Function] = []
    for step in backward_order(y):
        f = step.function
        original = f.backward

        def spy(*gys, _f=f, _original=original):
            calls.append(_f)
            return _original(*gys)

        monkeypatch.setattr(f, "backward", spy)
    y.backward()
    return calls


def random_graph(rng: np.random.Generator, n_ops: int) -> tuple[list[Variable], Variable]:
    leaves = [Variable(rng.uniform(0.5, 1.5, size=3)) for _ in range(3)]
    pool = list(leaves)
    for _ in range(n_ops):
        kind = rng.integers(0, 5)
        a = pool[rng.integers(len(pool))]
        b = pool[rng.integers(len(pool))]
        if kind == 0:
            new = [a + b]
        elif kind == 1:
            new = [a * b]
        elif kind == 2:
            new = [F.sin(a)]
        elif kind == 3:
            new = [a * 0.5]  # a constant input
        else:
            new = list(Pair()(a, b))
        pool.extend(new)  # any earlier value may be reused: skip edges across generations
    # Sum a few values so that several branches meet at the end.
    y = pool[-1]
    for v in pool[-4:-1]:
        y = y + v
    return leaves, F.sum(y)


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_order_is_the_engines(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    leaves, y = random_graph(rng, n_ops=int(rng.integers(3, 40)))
    steps = backward_order(y)
    assert [s.position for s in steps] == list(range(1, len(steps) + 1))
    assert all(s.generation == s.function.generation for s in steps)
    # Largest generation first.
    assert [s.generation for s in steps] == sorted((s.generation for s in steps), reverse=True)
    # Computing the order runs nothing and changes no gradient.
    assert all(v.grad is None for v in leaves)
    calls = record_backward_calls(y, monkeypatch)
    assert calls == [s.function for s in steps]
    assert len(set(map(id, calls))) == len(calls)  # each function once


def test_seed_order_and_generations() -> None:
    x = Variable(np.array(2.0))
    a = x**2
    y = a**2 + a**2
    steps = backward_order(y)
    assert [(s.position, s.name, s.generation) for s in steps] == [
        (1, "Add", 2),
        (2, "Pow", 1),
        (3, "Pow", 1),
        (4, "Pow", 0),
    ]
    assert isinstance(steps[0], Step)
    assert steps[3].function is a.creator
    assert x.grad is None


def test_order_from_a_non_first_output(monkeypatch: pytest.MonkeyPatch) -> None:
    x = Variable(np.array(2.0))
    _, p = Pair()(x, x * 3)
    steps = backward_order(p)
    assert [step.name for step in steps] == ["Pair", "MulConstant"]
    assert record_backward_calls(p, monkeypatch) == [step.function for step in steps]
    assert float(x.grad.data) == 2 * 3 * 2.0  # d(3 x^2)/dx


def test_order_of_a_leaf_and_of_constants() -> None:
    assert backward_order(Variable(np.array(1.0))) == []
    x = Variable(np.array(1.0))
    y = F.sin(x) * np.array([2.0])  # the constant has no producer to visit
    assert [step.name for step in backward_order(y)] == ["Mul", "Sin"]


def test_demo_prints_the_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "y = 32.0" in lines and "x.grad = 64.0" in lines
    listed = [line.split()[:4] for line in lines if line.startswith("  ")]
    assert listed == [
        ["1.", "Add", "generation", "2"],
        ["2.", "Pow", "generation", "1"],
        ["3.", "Pow", "generation", "1"],
        ["4.", "Pow", "generation", "0"],
    ]


def test_demo_dot_and_plot(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["demo", "--dot", "--plot", str(tmp_path / "seed.dot")]) == 0
    out = capsys.readouterr().out
    assert 'label="1. Add\\ngen 2"' in out and 'label="x: () float64"' in out
    assert (tmp_path / "seed.dot").read_text().startswith("digraph g {")
