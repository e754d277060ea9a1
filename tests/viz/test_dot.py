"""DOT text of a graph: labels, generations, visit order, escaping, size."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd import Function, Variable
from zerograd.viz import backward_order, get_dot_graph

_NODE = re.compile(r'^(\w+) \[label="((?:[^"\\]|\\.)*)", (.*)\]$')
_EDGE = re.compile(r"^(\w+) -> (\w+)$")


def parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """Nodes {id: (label, attributes)} and edges [(tail, head)] of our DOT text; any other
    line fails the test, so the parser also checks the output's shape."""
    lines = text.split("\n")
    assert lines[0] == "digraph g {" and lines[-1] == "}"
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if m := _NODE.match(line):
            assert m.group(1) not in nodes, f"node declared twice: {line}"
            nodes[m.group(1)] = (m.group(2), m.group(3))
        elif m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    for tail, head in edges:
        assert tail in nodes and head in nodes
    return nodes, edges


class A(Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * 2


class B(Function):
    def forward(self, x):
        return x + 1

    def backward(self, gy):
        return gy


class C(B):
    pass


class D(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return gy * x1, gy * x0


def test_seed_graph_dot_text_with_generations_and_order() -> None:
    x = Variable(np.array(2.0), name="x")
    a = x**2
    y = a**2 + a**2
    expected = r"""digraph g {
v0 [label="() float64", color=orange, style=filled]
f0 [label="1. Add\ngen 2", color=lightblue, style=filled, shape=box]
f0 -> v0
v1 [label="() float64", color=orange, style=filled]
v1 -> f0
v2 [label="() float64", color=orange, style=filled]
v2 -> f0
f1 [label="2. Pow\nc=2\ngen 1", color=lightblue, style=filled, shape=box]
f1 -> v1
v3 [label="() float64", color=orange, style=filled]
v3 -> f1
f2 [label="3. Pow\nc=2\ngen 1", color=lightblue, style=filled, shape=box]
f2 -> v2
v3 -> f2
f3 [label="4. Pow\nc=2\ngen 0", color=lightblue, style=filled, shape=box]
f3 -> v3
v4 [label="x: () float64", color=orange, style=filled]
v4 -> f3
}"""
    # v1 and v2 (the two a**2 terms) were freed: the graph still knows their shape and dtype.
    assert get_dot_graph(y, show_order=True) == expected
    # Without show_order the labels carry no position; the text is otherwise the same.
    plain = get_dot_graph(y)
    assert plain == re.sub(r'label="\d+\. ', 'label="', expected)
    # Drawing changes nothing: backward still gives the seed's numbers.
    y.backward()
    assert float(x.grad.data) == 64.0


def test_branch_and_merge_a_bc_d() -> None:
    """A -> (B, C) -> D: generations 0, 1, 1, 2; backward visits D, B, C, A."""
    x = Variable(np.array([1.0, 2.0], dtype=np.float32), name="x")
    a = A()(x)
    a.name = "a"
    b = B()(a)
    c = C()(a)
    y = D()(b, c)
    b.name, c.name, y.name = "b", "c", "y"
    text = get_dot_graph(y, show_order=True)
    expected = r"""digraph g {
v0 [label="y: (2,) float32", color=orange, style=filled]
f0 [label="1. D\ngen 2", color=lightblue, style=filled, shape=box]
f0 -> v0
v1 [label="b: (2,) float32", color=orange, style=filled]
v1 -> f0
v2 [label="c: (2,) float32", color=orange, style=filled]
v2 -> f0
f1 [label="2. B\ngen 1", color=lightblue, style=filled, shape=box]
f1 -> v1
v3 [label="a: (2,) float32", color=orange, style=filled]
v3 -> f1
f2 [label="3. C\ngen 1", color=lightblue, style=filled, shape=box]
f2 -> v2
v3 -> f2
f3 [label="4. A\ngen 0", color=lightblue, style=filled, shape=box]
f3 -> v3
v4 [label="x: (2,) float32", color=orange, style=filled]
v4 -> f3
}"""
    assert text == expected
    nodes, edges = parse(text)
    order = [step.name for step in backward_order(y)]
    assert order == ["D", "B", "C", "A"]
    labels = [nodes[n][0] for n in nodes if n.startswith("f")]
    assert [label.split(". ")[1].split("\\n")[0] for label in labels] == order
    assert sorted(edges) == sorted(
        [("f0", "v0"), ("v1", "f0"), ("v2", "f0"), ("f1", "v1"), ("v3", "f1")]
        + [("f2", "v2"), ("v3", "f2"), ("f3", "v3"), ("v4", "f3")]
    )


def test_verbose_false_gives_names_only_like_dezero() -> None:
    x = Variable(np.ones((2, 3), dtype=np.float32), name="x")
    y = F.sum(x * x)
    nodes, _ = parse(get_dot_graph(y, verbose=False))
    var_labels = {label for label, attrs in nodes.values() if "orange" in attrs}
    assert var_labels == {"x", ""}
    nodes, _ = parse(get_dot_graph(y, verbose=True))
    var_labels = {label for label, attrs in nodes.values() if "orange" in attrs}
    # x * x was freed; Sum recorded its input's shape and dtype
    assert var_labels == {"x: (2, 3) float32", "() float32", "(2, 3) float32"}
    xx = x * x
    y = F.sum(xx)
    nodes, _ = parse(get_dot_graph(y, verbose=True))
    var_labels = {label for label, attrs in nodes.values() if "orange" in attrs}
    assert var_labels == {"x: (2, 3) float32", "() float32", "(2, 3) float32"}


def test_a_leaf_draws_as_one_variable() -> None:
    """DeZero crashes on a leaf; zerograd draws the variable alone."""
    x = Variable(np.zeros((4,), dtype=np.int64), name="count")
    assert get_dot_graph(x) == (
        'digraph g {\nv0 [label="count: (4,) int64", color=orange, style=filled]\n}'
    )
    assert backward_order(x) == []


def test_multi_output_function_and_unused_outputs() -> None:
    class Split(Function):
        def forward(self, x):
            return x[:1], x[1:2], x[2:]

        def backward(self, g0, g1, g2):
            raise AssertionError("drawing must not run backward")

    x = Variable(np.arange(3.0), name="x")
    first, second, third = Split()(x)
    second.name = "second"
    y = first * 3
    del third  # freed and unused: not drawn
    nodes, edges = parse(get_dot_graph(y))
    labels = {n: label for n, (label, _) in nodes.items()}
    split = next(n for n, label in labels.items() if label.startswith("Split"))
    outs = sorted(labels[head] for tail, head in edges if tail == split)
    # output 0 feeds Mul, output 1 is alive (named), output 2 is gone
    assert outs == ["(1,) float64", "second: (1,) float64"]


def test_constants_are_drawn_apart_and_with_their_value() -> None:
    x = Variable(np.array([1.0, 2.0]), name="x")
    y = x * np.array([3.0, 4.0]) + 5.0
    nodes, _ = parse(get_dot_graph(y))
    constants = sorted(label for label, attrs in nodes.values() if "lightgray" in attrs)
    # Mul keeps its array constant for backward ((2,) float64); the scalar 5.0 is no node: it
    # is a parameter of AddConstant, shown in the function's label
    assert constants == ["(2,) float64"]
    assert any("AddConstant\\nc=5.0" in label for label, _ in nodes.values())
    z = x * np.array([3.0, 4.0]) + np.array([5.0, 6.0])
    nodes, _ = parse(get_dot_graph(z))
    constants = sorted(label for label, attrs in nodes.values() if "lightgray" in attrs)
    # Add keeps nothing, but recorded the shape and dtype of its constant input
    assert constants == ["(2,) float64", "(2,) float64"]
    y = x ** np.array([3.0, 1.0])
    nodes, _ = parse(get_dot_graph(y, verbose=False))
    # an array exponent is a constant input (drawn grey; verbose=False shows no shape)
    assert sorted(label for label, attrs in nodes.values() if "lightgray" in attrs) == [""]
    assert any(label.startswith("ElementwisePow") for label, _ in nodes.values())


def test_names_are_drawn_literally() -> None:
    hostile = '"; rm -rf ~; "'
    x = Variable(np.array(1.0), name=hostile)
    y = F.exp(x)
    y.name = 'back\\slash \\N \\l "quoted"\nsecond line\ttab'
    text = get_dot_graph(y, verbose=False)
    nodes, _ = parse(text)  # every line still parses: no string was broken out of
    labels = sorted(label for label, _ in nodes.values())
    assert labels == sorted(
        [
            r"\"; rm -rf ~; \"",
            r"back\\slash \\N \\l \"quoted\"\nsecond line\\ttab",
            r"Exp\ngen 0",
        ]
    )


def test_node_ids_never_come_from_user_text() -> None:
    x = Variable(np.array(1.0), name="v0 -> f0")
    text = get_dot_graph(F.sin(x))
    for line in text.split("\n")[1:-1]:
        assert re.match(r'^[vf]\d+( -> [vf]\d+| \[label=")', line), line


def test_get_dot_graph_is_dezero_utils_name() -> None:
    from zerograd import utils
    from zerograd.viz import dot

    assert utils.get_dot_graph is dot.get_dot_graph
    assert utils.plot_dot_graph is dot.plot_dot_graph


def test_deep_chain_is_walked_without_recursion() -> None:
    """Far past Python's recursion limit; the default suite keeps it small."""
    x = Variable(np.array(0.5))
    y = x
    for _ in range(5000):
        y = F.sin(y)
    text = get_dot_graph(y, show_order=True)
    nodes, edges = parse(text)
    assert sum(1 for n in nodes if n.startswith("f")) == 5000
    assert len(edges) == 2 * 5000


@pytest.mark.slow
def test_hundred_thousand_nodes_in_a_few_seconds() -> None:
    x = Variable(np.array(0.5), name="x")
    y = x
    for _ in range(50_000):  # two functions per step
        y = F.sin(y) + y
    start = time.perf_counter()
    text = get_dot_graph(y, show_order=True)
    seconds = time.perf_counter() - start
    assert text.count("shape=box") == 100_000
    assert seconds < 5.0, f"10^5 functions took {seconds:.1f}s to draw"


def test_drawing_keeps_no_reference_and_changes_no_gradient() -> None:
    import gc
    import weakref

    x = Variable(np.array(3.0))
    y = F.sin(x) * x
    graph = zg.viz.graph(y)
    ref = weakref.ref(y.creator)
    del y
    gc.collect()
    assert ref() is None  # the Graph snapshot holds text only
    assert "Mul" in graph.source
    assert x.grad is None


def test_freed_intermediates_show_what_the_graph_kept() -> None:
    x = Variable(np.ones((2, 3), dtype=np.float32), name="x")
    # Exp and Tanh keep their outputs for backward: full labels although nobody holds them.
    y = F.sum(F.exp(F.tanh(x)))
    nodes, _ = parse(get_dot_graph(y))
    labels = sorted(label for label, attrs in nodes.values() if "orange" in attrs)
    assert labels == ["() float32", "(2, 3) float32", "(2, 3) float32", "x: (2, 3) float32"]
    # linear_simple drops its product's data: the consumer's recorded shape is what is left.
    W = Variable(np.ones((3, 4), dtype=np.float32), name="W")
    y = F.linear_simple(x, W, np.zeros(4, dtype=np.float32))
    nodes, _ = parse(get_dot_graph(y))
    labels = sorted(label for label, attrs in nodes.values() if "orange" in attrs)
    assert labels == [
        "(2, 4) float32",
        "(2, 4) float32",
        "W: (3, 4) float32",
        "x: (2, 3) float32",
    ]
