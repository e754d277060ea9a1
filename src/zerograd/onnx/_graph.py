"""Trace a forward pass and list its function calls in order: the only code in
``zerograd.onnx`` that reads the engine's graph, through its public read-only API
(``Function.inputs``/``outputs``/``generation``, ``Variable.creator`` and
``zerograd.autograd.keep_inputs``, under which ``inputs`` reads every input, constants
included). The walk is iterative: a graph may be deeper than Python's stack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zerograd.autograd import Function, Parameter, Variable, test_mode


@dataclass
class Trace:
    """A forward pass: its graph inputs, outputs, and every recorded call, producers first."""

    inputs: list[Variable]
    outputs: list[Variable]
    #: (function, its input Variables, its output Variables or None where one was dropped).
    calls: list[tuple[Function, list[Variable], list[Variable | None]]] = field(
        default_factory=list
    )


def trace(fn: Callable[..., Any], args: Sequence[Any]) -> Trace:
    """Run ``fn(*args)`` once in test mode with every input kept, then walk the graph from
    the outputs back (iteratively) and order the calls by generation."""
    from zerograd.autograd import keep_inputs

    xs = [a if isinstance(a, Variable) else Variable(a) for a in args]
    given = {id(x) for x in xs}
    with test_mode(), keep_inputs():
        ys = fn(*xs)
    outputs = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    for i, y in enumerate(outputs):
        if not isinstance(y, Variable):
            raise TypeError(
                f"zerograd.onnx.export: output {i} of the model is a {type(y).__name__}; "
                f"expected Variables"
            )
    calls: dict[int, tuple[int, Function]] = {}
    # The walk stops at the graph inputs (a Variable passed in may have a history).
    stack = [y.creator for y in outputs if y.creator is not None and id(y) not in given]
    while stack:
        f = stack.pop()
        if id(f) in calls:
            continue
        calls[id(f)] = (len(calls), f)
        for x in f.inputs:
            if x is None:
                raise RuntimeError(
                    f"zerograd.onnx.export: an input of {type(f).__name__} was not kept by "
                    f"keep_inputs(); cannot read the graph"
                )
            if x.creator is not None and id(x) not in given and id(x.creator) not in calls:
                stack.append(x.creator)
    # A producer's generation is below each consumer's: sorting by it orders the calls.
    ordered = sorted(calls.values(), key=lambda item: (item[1].generation, item[0]))
    result = Trace(xs, outputs)
    for _, f in ordered:
        xs = [x for x in f.inputs if x is not None]  # all there: checked in the walk
        result.calls.append((f, xs, [ref() for ref in f.outputs]))
    return result


def is_parameter(v: Variable) -> bool:
    """A trained weight: exported as an initializer the runtime may replace."""
    return isinstance(v, Parameter)
