"""Classify the three-armed spiral (the book's step 48) and draw the decision regions.

python examples/spiral.py [--epochs 300] [--plot spiral.png]
"""

import argparse

import numpy as np

import zerograd
import zerograd.functions as F
from zerograd import DataLoader, optimizers
from zerograd.datasets import Spiral
from zerograd.models import MLP

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--plot", metavar="PATH", help="save the decision regions as an image")
args = parser.parse_args()

train_set = Spiral(train=True)
np.random.seed(0)
loader = DataLoader(train_set, batch_size=30)
model = MLP((30, 3), activation=F.relu)
optimizer = optimizers.Adam(alpha=0.01).setup(model)

for epoch in range(args.epochs):
    sum_loss = 0.0
    for x, t in loader:
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss.data) * len(t)
    if (epoch + 1) % max(1, args.epochs // 10) == 0:
        print(f"epoch {epoch + 1}, loss {sum_loss / len(train_set):.4f}")

with zerograd.no_grad():
    accuracy = float(F.accuracy(model(train_set.data), train_set.label).data)
print(f"train_accuracy={accuracy:.4f}")

if args.plot:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = np.linspace(-1.1, 1.1, 200, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    with zerograd.no_grad():
        regions = model(grid).data.argmax(axis=1).reshape(200, 200)
    fig = Figure(figsize=(5, 5))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.contourf(xs, xs, regions, alpha=0.3, levels=[-0.5, 0.5, 1.5, 2.5])
    ax.scatter(*train_set.data.T, c=train_set.label, s=10)
    fig.savefig(args.plot)
    print(f"saved {args.plot}")
