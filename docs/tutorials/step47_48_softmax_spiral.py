r"""
Steps 47-48: softmax, cross entropy and multi-class classification
==================================================================

Class scores become probabilities with softmax,
:math:`p_k = \exp(y_k) / \sum_j \exp(y_j)`, and the loss is the cross entropy with the
integer labels. Then an MLP learns the three interleaved arms of the spiral data set.
"""

# %%
# Step 47: softmax and cross entropy
# ----------------------------------
import matplotlib.pyplot as plt
import numpy as np

import zerograd
import zerograd.functions as F
from zerograd import optimizers
from zerograd.models import MLP

np.random.seed(0)
model = MLP((10, 3))
x = np.array([[0.2, -0.4], [0.3, 0.5], [1.3, -3.2], [2.1, 0.3]])
t = np.array([2, 0, 1, 0])
y = model(x)
p = F.softmax(y)
loss = F.softmax_cross_entropy(y, t)
loss.backward()
print(p)
print(loss)

# %%
# ``get_item`` (``x[...]``) is differentiable: its gradient scatters back into place.
x = zerograd.Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
y = x[1]
y.backward()
print(y, x.grad)

# %%
# Step 48: the spiral
# -------------------
max_epoch, batch_size, hidden_size, lr = 300, 30, 10, 1.0
x, t = zerograd.datasets.get_spiral(train=True)
model = MLP((hidden_size, 3))
optimizer = optimizers.SGD(lr).setup(model)

data_size = len(x)
max_iter = int(np.ceil(data_size / batch_size))
losses = []
for epoch in range(max_epoch):
    index = np.random.permutation(data_size)
    sum_loss = 0.0
    for i in range(max_iter):
        batch_index = index[i * batch_size : (i + 1) * batch_size]
        batch_x, batch_t = x[batch_index], t[batch_index]
        y = model(batch_x)
        loss = F.softmax_cross_entropy(y, batch_t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss.data) * len(batch_t)
    losses.append(sum_loss / data_size)
    if epoch % 60 == 0 or epoch == max_epoch - 1:
        print(f"epoch {epoch + 1}, loss {losses[-1]:.2f}")

# %%
# The decision regions the network learned, with the training points:
h = 0.01
xx, yy = np.meshgrid(np.arange(-1.1, 1.1, h), np.arange(-1.1, 1.1, h))
with zerograd.no_grad():
    score = model(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))
predicted = np.argmax(score.data, axis=1).reshape(xx.shape)
plt.contourf(xx, yy, predicted, alpha=0.3, cmap="brg")
plt.scatter(x[:, 0], x[:, 1], c=t, s=12, cmap="brg")
plt.title(f"accuracy {float(F.accuracy(model(x), t).data):.3f}")
