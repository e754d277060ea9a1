"""An LSTM learns to continue a noisy sine wave (the book's step 60), with truncated BPTT.

python examples/sin_lstm.py [--epochs 50]
"""

import argparse

import numpy as np

import zerograd
import zerograd.functions as F
import zerograd.layers as L
from zerograd import Model, SeqDataLoader, optimizers
from zerograd.datasets import SinCurve

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=50)
args = parser.parse_args()

np.random.seed(0)
train_set = SinCurve(train=True)
loader = SeqDataLoader(train_set, batch_size=30)
bptt_length = 30


class SinLSTM(Model):
    def __init__(self, hidden_size: int, out_size: int) -> None:
        super().__init__()
        self.rnn = L.LSTM(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self) -> None:
        self.rnn.reset_state()

    def forward(self, x):
        return self.fc(self.rnn(x))


model = SinLSTM(100, 1)
optimizer = optimizers.Adam().setup(model)
for epoch in range(args.epochs):
    model.reset_state()
    loss, count = 0, 0
    for x, t in loader:
        loss += F.mean_squared_error(model(x), t)
        count += 1
        if count % bptt_length == 0 or count == loader.max_iter:
            model.cleargrads()
            loss.backward()
            loss.unchain_backward()  # truncate: the next segment starts a new graph
            optimizer.update()
    if (epoch + 1) % max(1, args.epochs // 10) == 0:
        print(f"epoch {epoch + 1}, loss {float(loss.data) / count:.6f}")

# Predict the clean cosine one step ahead.
xs = np.cos(np.linspace(0, 4 * np.pi, 1000))
model.reset_state()
predictions = []
with zerograd.no_grad():
    for x in xs:
        predictions.append(float(model(np.array(x).reshape(1, 1)).data[0, 0]))
error = float(np.mean((np.array(predictions[:-1]) - xs[1:]) ** 2))
print(f"one-step prediction mse={error:.5f}")
