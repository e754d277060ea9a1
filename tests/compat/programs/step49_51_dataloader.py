# Steps 49-51: Dataset, transforms, DataLoader and accuracy on the spiral data.
import dezero
import dezero.functions as F
import numpy as np
from dezero import DataLoader, optimizers
from dezero.models import MLP
from dezero.transforms import Compose, Normalize

train_set = dezero.datasets.Spiral(train=True)
print(train_set[0])
print(len(train_set))


def f(x):
    y = x / 2.0
    return y


scaled = dezero.datasets.Spiral(transform=Compose([f, Normalize(0.0, 0.5)]))
print(scaled[0])

np.random.seed(0)
max_epoch = 60
batch_size = 30
hidden_size = 10
lr = 1.0

train_set = dezero.datasets.Spiral(train=True)
test_set = dezero.datasets.Spiral(train=False)
np.random.seed(0)
train_loader = DataLoader(train_set, batch_size)
test_loader = DataLoader(test_set, batch_size, shuffle=False)

model = MLP((hidden_size, 3))
optimizer = optimizers.SGD(lr).setup(model)

for epoch in range(max_epoch):
    sum_loss, sum_acc = 0, 0

    for x, t in train_loader:
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        acc = F.accuracy(y, t)
        model.cleargrads()
        loss.backward()
        optimizer.update()

        sum_loss += float(loss.data) * len(t)
        sum_acc += float(acc.data) * len(t)

    if epoch % 10 == 9:
        print(f"epoch: {epoch + 1}")
        print(
            f"train loss: {sum_loss / len(train_set):.4f}, accuracy: {sum_acc / len(train_set):.4f}"
        )

        sum_loss, sum_acc = 0, 0
        with dezero.no_grad():
            for x, t in test_loader:
                y = model(x)
                loss = F.softmax_cross_entropy(y, t)
                acc = F.accuracy(y, t)
                sum_loss += float(loss.data) * len(t)
                sum_acc += float(acc.data) * len(t)

        print(f"test loss: {sum_loss / len(test_set):.4f}, accuracy: {sum_acc / len(test_set):.4f}")
