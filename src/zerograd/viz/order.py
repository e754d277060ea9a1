"""The order in which ``backward`` visits a graph, computed without running it."""

from __future__ import annotations

from dataclasses import dataclass

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable


@dataclass(frozen=True)
class Step:
    """One function as backward will run it: its position, generation and the function."""

    position: int
    generation: int
    function: Function

    @property
    def name(self) -> str:
        return type(self.function).__name__


def _producers(f: Function) -> list[Function]:
    return [edge[0] for edge in f.edges() if isinstance(edge, tuple)]


def backward_order(y: Variable) -> list[Step]:
    """The functions ``y.backward()`` would run, in the order it would run them.

    Uses the engine's own rule (largest generation first, ties in discovery order), so the
    list is exactly the visit order; nothing is computed and no gradient changes. (Functions
    whose backward would return no gradient for an input still list that input's producer.)
    """
    f = y.creator
    if f is None:
        return []
    # The engine's queue (zerograd/autograd/backward.py): a bucket per generation, indexed by
    # depth below the top function, each bucket in discovery order.
    top = f.generation
    buckets: list[list[Function]] = [[f]]
    seen = {f}
    steps: list[Step] = []
    for bucket in buckets:  # grows while it is walked
        for f in bucket:
            steps.append(Step(len(steps) + 1, f.generation, f))
            for node in _producers(f):
                if node not in seen:
                    seen.add(node)
                    k = top - node.generation
                    if k >= len(buckets):
                        buckets.extend([] for _ in range(k + 1 - len(buckets)))
                    buckets[k].append(node)
    return steps
