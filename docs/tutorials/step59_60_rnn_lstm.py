r"""
Steps 59-60: recurrent networks on a time series
================================================

An RNN reads a noisy sine wave one point at a time and learns to predict the next one.
Backpropagation through time is truncated every 30 steps with ``unchain_backward()``, which
cuts the graph behind the loss (iteratively: zerograd never recurses over a graph). Step 60
swaps in an LSTM and feeds it mini-batches of parallel sequences with ``SeqDataLoader``. The
book trains for 100 epochs; this page trains for fewer, so that the site builds quickly.
"""

# %%
# Step 59: a simple RNN
# ---------------------
import matplotlib.pyplot as plt
import numpy as np

import zerograd
import zerograd.functions as F
import zerograd.layers as L
from zerograd import Model
from zerograd.dataloaders import SeqDataLoader

np.random.seed(0)
hidden_size, bptt_length = 100, 30
train_set = zerograd.datasets.SinCurve(train=True)
seqlen = len(train_set)


class SimpleRNN(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.rnn = L.RNN(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self):
        self.rnn.reset_state()

    def forward(self, x):
        return self.fc(self.rnn(x))


model = SimpleRNN(hidden_size, 1)
optimizer = zerograd.optimizers.Adam().setup(model)
for epoch in range(3):
    model.reset_state()
    loss, count = 0, 0
    for x, t in train_set:
        y = model(x.reshape(1, 1))
        loss += F.mean_squared_error(y, t)
        count += 1
        if count % bptt_length == 0 or count == seqlen:
            model.cleargrads()
            loss.backward()
            loss.unchain_backward()
            optimizer.update()
    print(f"| epoch {epoch + 1} | loss {float(loss.data) / count:.6f}")

# %%
# Step 60: an LSTM on mini-batches of sequences
# ---------------------------------------------
# ``SeqDataLoader`` reads ``batch_size`` sequences in parallel, each starting at a different
# offset of the series.


class BetterRNN(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.rnn = L.LSTM(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self):
        self.rnn.reset_state()

    def forward(self, x):
        return self.fc(self.rnn(x))


dataloader = SeqDataLoader(train_set, batch_size=30)
model = BetterRNN(hidden_size, 1)
optimizer = zerograd.optimizers.Adam().setup(model)
for epoch in range(40):
    model.reset_state()
    loss, count = 0, 0
    for x, t in dataloader:
        loss += F.mean_squared_error(model(x), t)
        count += 1
        if count % bptt_length == 0 or count == seqlen:
            model.cleargrads()
            loss.backward()
            loss.unchain_backward()
            optimizer.update()
    if epoch % 10 == 9:
        print(f"| epoch {epoch + 1} | loss {float(loss.data) / count:.6f}")

# %%
# Trained on the sine, the LSTM is asked to continue a cosine:
xs = np.cos(np.linspace(0, 4 * np.pi, 1000))
model.reset_state()
predictions = []
with zerograd.no_grad():
    for x in xs:
        predictions.append(float(model(np.array(x).reshape(1, 1)).data[0, 0]))
plt.plot(np.arange(len(xs)), xs, label="y = cos(x)")
plt.plot(np.arange(len(xs)), predictions, label="predicted")
plt.legend()
