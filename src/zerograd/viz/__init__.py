"""Seeing the graph: the backward visit order (and, with Graphviz, pictures)."""

from zerograd.viz.order import Step, backward_order

__all__ = ["Step", "backward_order"]
