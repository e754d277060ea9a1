"""Train an MLP on the 8x8 digits with zerograd's building blocks (what `zerograd train` does).

python examples/train_digits.py [--epochs 40]
"""

import argparse
import time

import numpy as np

import zerograd
import zerograd.functions as F
from zerograd import DataLoader, optimizers
from zerograd.datasets import Digits
from zerograd.models import MLP

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=40)
parser.add_argument("--batch-size", type=int, default=32)
args = parser.parse_args()

train_set, test_set = Digits(train=True), Digits(train=False)
np.random.seed(0)
train_loader = DataLoader(train_set, args.batch_size)
test_loader = DataLoader(test_set, 360, shuffle=False)

model = MLP((256, 10), activation=F.relu)
optimizer = optimizers.Adam().setup(model)

start = time.perf_counter()
for epoch in range(args.epochs):
    sum_loss, sum_acc = 0.0, 0.0
    for x, t in train_loader:
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        acc = F.accuracy(y, t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss.data) * len(t)
        sum_acc += float(acc.data) * len(t)
    n = len(train_set)
    print(f"epoch {epoch + 1}: loss {sum_loss / n:.4f}, accuracy {sum_acc / n:.4f}")

with zerograd.no_grad(), zerograd.test_mode():
    x, t = next(test_loader)
    test_acc = float(F.accuracy(model(x), t).data)
print(f"trained in {time.perf_counter() - start:.1f}s")
print(f"test_accuracy={test_acc:.4f}")
