"""``Model``, ``Sequential``, ``MLP`` and ``SimpleCNN``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import zerograd.functions as F
import zerograd.layers as L
from zerograd.autograd.variable import Variable
from zerograd.layers.layer import Layer

if TYPE_CHECKING:
    from zerograd.models.summary import ModelSummary

__all__ = ["MLP", "Model", "Sequential", "SimpleCNN"]


class Model(Layer):
    """A ``Layer`` that is a whole network; ``plot`` draws its graph for given inputs."""

    def plot(self, *inputs: Any, to_file: str = "model.png") -> Any:
        """Run ``forward(*inputs)`` and draw the graph with ``utils.plot_dot_graph``
        (needs Graphviz's ``dot``)."""
        from zerograd import utils

        y = self.forward(*inputs)
        return utils.plot_dot_graph(y, verbose=True, to_file=to_file)

    def summary(self, *example_inputs: Any) -> ModelSummary:
        """Each layer's name, class, output shape and parameter count for one call on
        ``example_inputs``, and the totals; ``print(model.summary(x))`` shows the table
        (see ``zerograd.models.summary``)."""
        from zerograd.models.summary import summary

        return summary(self, *example_inputs)


class Sequential(Model):
    """Apply ``layers`` in order. Layers are registered as ``l0``, ``l1``...; plain callables
    (``F.relu``) may be mixed in.

    >>> import numpy as np, zerograd.functions as F, zerograd.layers as L
    >>> from zerograd.models import Sequential
    >>> model = Sequential(L.Linear(4, in_size=2), F.relu, L.Linear(1, in_size=4))
    >>> model(np.ones((3, 2), dtype=np.float32)).shape
    (3, 1)
    """

    def __init__(self, *layers: Any) -> None:
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(
                    f"Sequential: item {i} is a {type(layer).__name__}, not a layer or callable"
                )
            setattr(self, "l" + str(i), layer)
            self.layers.append(layer)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def _repr_children(self) -> list[tuple[str, Any]]:
        return [("l" + str(i), layer) for i, layer in enumerate(self.layers)]


class MLP(Model):
    """Multi-layer perceptron: ``Linear`` layers of the given output sizes with
    ``activation`` between them (none after the last). Input sizes are inferred at the first
    call, and the weights drawn then, layer by layer (DeZero's draws).

    >>> import numpy as np, zerograd.functions as F
    >>> from zerograd.models import MLP
    >>> model = MLP((10, 3), activation=F.relu)
    >>> model(np.ones((5, 4), dtype=np.float32)).shape
    (5, 3)
    """

    def __init__(
        self, fc_output_sizes: Sequence[int], activation: Callable[[Any], Any] = F.sigmoid
    ) -> None:
        super().__init__()
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = L.Linear(out_size)
            setattr(self, "l" + str(i), layer)
            self.layers.append(layer)

    def forward(self, x: Any) -> Variable:
        layers, activation = self.layers, self.activation
        for i in range(len(layers) - 1):
            x = activation(layers[i](x))
        return layers[-1](x)

    def extra_repr(self) -> str:
        return f"activation={getattr(self.activation, '__name__', self.activation)}"


class SimpleCNN(Model):
    """A small convolutional classifier for digit images: 8x8 Digits, 28x28 MNIST, 32x32...

    ``conv(3x3, pad 1) - relu - max pool 2`` for each entry of ``channels``, then
    ``Linear(hidden) - relu - Linear(num_classes)``. Input ``(N, C, H, W)``; ``(N, H, W)`` is
    taken as one channel. Sizes are inferred at the first call.

    >>> import numpy as np
    >>> from zerograd.models import SimpleCNN
    >>> SimpleCNN()(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape
    (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, channels: Sequence[int] = (16, 32), hidden: int = 64
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.convs = []
        for i, c in enumerate(channels):
            conv = L.Conv2d(c, kernel_size=3, stride=1, pad=1)
            setattr(self, f"conv{i + 1}", conv)
            self.convs.append(conv)
        self.fc1 = L.Linear(hidden)
        self.fc2 = L.Linear(num_classes)

    def forward(self, x: Any) -> Variable:
        if x.ndim == 3:
            x = F.reshape(x, (x.shape[0], 1, *x.shape[1:]))
        elif x.ndim != 4:
            raise ValueError(
                f"SimpleCNN: expected images of shape (N, C, H, W) or (N, H, W), got shape "
                f"{tuple(x.shape)}"
            )
        for conv in self.convs:
            x = F.relu(conv(x))
            if x.shape[2] >= 2 and x.shape[3] >= 2:
                x = F.pooling(x, 2, 2)
        x = F.reshape(x, (x.shape[0], -1))
        x = F.relu(self.fc1(x))
        return self.fc2(x)
