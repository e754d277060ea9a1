# Steps 52-53: the GPU switch (off here) and saving/loading weights.
import os

import dezero
import dezero.functions as F
import numpy as np
from dezero import DataLoader, optimizers
from dezero.models import MLP

np.random.seed(0)
train_set = dezero.datasets.Spiral(train=True)
np.random.seed(0)
train_loader = DataLoader(train_set, 100)
model = MLP((50, 3))
optimizer = optimizers.SGD().setup(model)

if dezero.cuda.gpu_enable:  # never true under the tests (CPU)
    train_loader.to_gpu()
    model.to_gpu()

if os.path.exists("my_mlp.npz"):
    model.load_weights("my_mlp.npz")

for epoch in range(3):
    sum_loss = 0
    for x, t in train_loader:
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss.data) * len(t)
    print(f"epoch: {epoch + 1}, loss: {sum_loss / len(train_set):.4f}")

model.save_weights("my_mlp.npz")
print(sorted(np.load("my_mlp.npz").files))

x = train_set.data[:4]
reloaded = MLP((50, 3))
reloaded(x)  # create the weights, then overwrite them
reloaded.load_weights("my_mlp.npz")
print(model(x))
print(reloaded(x))
os.remove("my_mlp.npz")
