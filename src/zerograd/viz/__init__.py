"""Seeing the graph: the backward visit order, DOT text and pictures (with Graphviz).

``backward_order(y)`` lists the functions in the order ``y.backward()`` runs them;
``get_dot_graph``/``plot_dot_graph`` draw the graph (DeZero's ``dezero.utils`` names);
``graph(y)`` returns an object that Jupyter displays inline as SVG.
"""

from zerograd.viz.dot import (
    GraphvizError,
    GraphvizNotFoundError,
    get_dot_graph,
    plot_dot_graph,
    render,
)
from zerograd.viz.notebook import Graph, graph
from zerograd.viz.order import Step, backward_order

__all__ = [
    "Graph",
    "GraphvizError",
    "GraphvizNotFoundError",
    "Step",
    "backward_order",
    "get_dot_graph",
    "graph",
    "plot_dot_graph",
    "render",
]
