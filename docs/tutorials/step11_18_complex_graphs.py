r"""
Steps 11-18: many inputs, shared variables, generations and memory
==================================================================

Functions with several inputs and outputs, a variable used twice, the *generation* that
orders backward on any graph, and what the graph keeps alive.
"""

# %%
# Steps 11-13: variable-length arguments
# --------------------------------------
import weakref

import numpy as np

import zerograd as zg
from zerograd import Function, Variable
from zerograd.utils import plot_dot_graph
from zerograd.viz import backward_order


class Add(Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


def add(x0, x1):
    return Add()(x0, x1)


x = Variable(np.array(2.0))
y = Variable(np.array(3.0))
z = add(x**2, y**2)
z.backward()
print(z.data, x.grad, y.grad)

# %%
# Step 14: using a variable twice
# -------------------------------
# Gradients arriving at one variable are summed: :math:`y = x + x` gives ``x.grad == 2``.
# ``cleargrad()`` resets it before reusing ``x`` in another computation.
x = Variable(np.array(3.0))
y = add(x, x)
y.backward()
print(x.grad)
x.cleargrad()
y = add(add(x, x), x)
y.backward()
print(x.grad)

# %%
# Steps 15-16: generations
# ------------------------
# In the seed's example, ``a = x**2`` feeds two functions. Backward must run both of them
# before ``a``'s own creator, or ``a``'s gradient would be incomplete. A function's
# generation is the largest generation of its inputs; backward runs the largest first.
# The boxes below carry each function's generation and (with ``show_order=True``) the
# position at which backward runs it.
x = Variable(np.array(2.0), name="x")
a = x**2
a.name = "a"
y = a**2 + a**2
y.name = "y"
for step in backward_order(y):
    print(step.position, step.name, "generation", step.generation)
plot_dot_graph(y, verbose=False, to_file="generations.svg", show_order=True)
y.backward()
print("y =", y.data, " dy/dx =", x.grad.data)  # y = 2 x^4, dy/dx = 8 x^3 = 64

# %%
# Step 17: memory management
# --------------------------
# A function refers to its outputs weakly, so the graph forms no reference cycle and an
# intermediate array is freed as soon as nothing else holds it.
x = Variable(np.random.randn(1000, 1000))
y = x * 2
ref = weakref.ref(y)
del y
print("output freed:", ref() is None)

# %%
# Step 18: saving memory: drop intermediate gradients, switch recording off
# -------------------------------------------------------------------------
x0 = Variable(np.array(1.0))
x1 = Variable(np.array(1.0))
t = add(x0, x1)
y = add(x0, t)
y.backward()
print(y.grad, t.grad, x0.grad, x1.grad)  # intermediates keep no gradient by default

with zg.no_grad():  # or using_config("enable_backprop", False)
    y = Variable(np.ones((100, 100))) ** 2
print("recorded:", y.creator is not None)
