r"""
Steps 37-41: tensors
====================

From scalars to arrays: elementwise functions work on any shape; ``reshape`` and
``transpose``, ``sum``, broadcasting (``broadcast_to`` and its backward ``sum_to``) and the
matrix product each get a backward that returns a gradient of its input's shape.
"""

# %%
# Step 37: elementwise functions on tensors
# -----------------------------------------
# The gradient of a sum-reduced output with respect to a tensor has the tensor's shape.
import numpy as np

import zerograd.functions as F
from zerograd import Variable

x = Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
c = Variable(np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]]))
y = F.sum(F.sin(x) + c)
y.backward()
print(x.grad)

# %%
# Step 38: reshape and transpose
# ------------------------------
x = Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
y = x.reshape(6)  # also x.reshape((3, 2)) or F.reshape(x, (6,))
y.backward()
print(y.shape, x.grad.shape)
x.cleargrad()
y = x.T  # also x.transpose() and F.transpose(x, axes)
y.backward()
print(y.shape, x.grad.shape)

# %%
# Step 39: sum, with axis and keepdims
# ------------------------------------
x = Variable(np.random.randn(2, 3, 4, 5))
y = x.sum(keepdims=True)
print(y.shape)
y = F.sum(x, axis=(0, 2))
y.backward()
print(y.shape, x.grad.shape)

# %%
# Step 40: broadcasting
# ---------------------
# Adding a shape-(1,) array to a shape-(3,) one broadcasts it; its gradient is summed back
# to shape (1,) (``sum_to``).
x0 = Variable(np.array([1.0, 2.0, 3.0]))
x1 = Variable(np.array([10.0]))
y = x0 + x1
y.backward()
print(y, x1.grad)

# %%
# Step 41: the matrix product
# ---------------------------
# For :math:`y = x W`, :math:`\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}
# W^T` and :math:`\frac{\partial L}{\partial W} = x^T \frac{\partial L}{\partial y}`.
x = Variable(np.random.randn(2, 3))
W = Variable(np.random.randn(3, 4))
y = F.matmul(x, W)  # also x @ W
y.backward()
print(x.grad.shape, W.grad.shape)
