r"""
Steps 49-51: datasets, data loaders and handwritten digits
==========================================================

A ``Dataset`` gives examples by index (with optional transforms); a ``DataLoader`` cuts it
into shuffled mini-batches; ``F.accuracy`` measures the result. The book's step 51 trains on
MNIST, which needs a download; this page trains the same way on scikit-learn's 8x8 digits,
which ship with scikit-learn (``zerograd.datasets.MNIST(download=True)`` is the book's, line
for line).
"""

# %%
# Step 49: a Dataset and transforms
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np

import zerograd
import zerograd.functions as F
from zerograd import DataLoader, optimizers
from zerograd.models import MLP
from zerograd.transforms import Compose, Normalize

train_set = zerograd.datasets.Spiral(train=True)
print(train_set[0], len(train_set))
scaled = zerograd.datasets.Spiral(transform=Compose([lambda x: x / 2.0, Normalize(0.0, 0.5)]))
print(scaled[0])

# %%
# Step 50: mini-batches, and accuracy on held-out data
# ----------------------------------------------------
np.random.seed(0)
max_epoch, batch_size, hidden_size, lr = 150, 30, 10, 1.0
test_set = zerograd.datasets.Spiral(train=False)
train_loader = DataLoader(train_set, batch_size)
test_loader = DataLoader(test_set, batch_size, shuffle=False)
model = MLP((hidden_size, 3))
optimizer = optimizers.SGD(lr).setup(model)


def run_epoch(loader, size, train):
    sum_loss, sum_acc = 0.0, 0.0
    for x, t in loader:
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        if train:
            model.cleargrads()
            loss.backward()
            optimizer.update()
        sum_loss += float(loss.data) * len(t)
        sum_acc += float(F.accuracy(y, t).data) * len(t)
    return sum_loss / size, sum_acc / size


for epoch in range(max_epoch):
    train_loss, train_acc = run_epoch(train_loader, len(train_set), train=True)
    if epoch % 30 == 29:
        with zerograd.no_grad():
            test_loss, test_acc = run_epoch(test_loader, len(test_set), train=False)
        print(
            f"epoch {epoch + 1}: train loss {train_loss:.4f} acc {train_acc:.4f}, "
            f"test loss {test_loss:.4f} acc {test_acc:.4f}"
        )

# %%
# Step 51: handwritten digits
# ---------------------------
# 1437 training and 360 test images of 8x8 pixels, flattened and scaled to [0, 1].
train_set = zerograd.datasets.Digits(train=True)
test_set = zerograd.datasets.Digits(train=False)
x, t = train_set[0]
print(x.shape, x.dtype, t)
plt.imshow(train_set.data[0].reshape(8, 8), cmap="gray_r")
plt.title(f"label {t}")

# %%
np.random.seed(0)
train_loader = DataLoader(train_set, 100)
test_loader = DataLoader(test_set, 100, shuffle=False)
model = MLP((256, 10), activation=F.relu)
optimizer = optimizers.Adam().setup(model)
for epoch in range(5):
    train_loss, train_acc = run_epoch(train_loader, len(train_set), train=True)
with zerograd.no_grad():
    test_loss, test_acc = run_epoch(test_loader, len(test_set), train=False)
print(f"after 5 epochs: train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f}")
