r"""
Steps 25-26: drawing the computational graph
============================================

Graphviz draws graphs written in its DOT language. ``get_dot_graph`` turns the graph behind a
Variable into DOT text; ``plot_dot_graph`` runs Graphviz's ``dot`` on it (without a shell) and
writes an image. Functions are boxes with their generation, variables are ellipses with
name, shape and dtype.
"""

# %%
# Step 25: the DOT language
# -------------------------
import numpy as np

from zerograd import Variable
from zerograd.utils import get_dot_graph, plot_dot_graph

x0 = Variable(np.array(1.0), name="x0")
x1 = Variable(np.array(1.0), name="x1")
y = x0 + x1
y.name = "y"
print(get_dot_graph(y, verbose=False))

# %%
# Step 26: the graph of the Goldstein-Price function
# --------------------------------------------------
# ``verbose=True`` (the default) adds each variable's shape and dtype.


def goldstein(x, y):
    z = (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)) * (
        30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )
    return z


x = Variable(np.array(1.0), name="x")
y = Variable(np.array(1.0), name="y")
z = goldstein(x, y)
z.backward()
z.name = "z"
plot_dot_graph(z, verbose=False, to_file="goldstein.svg")
