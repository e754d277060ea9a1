"""``VGG16`` (Simonyan & Zisserman), with DeZero's layer names and weight file."""

from __future__ import annotations

from typing import Any

import numpy as np

import zerograd.functions as F
import zerograd.layers as L
from zerograd.autograd.variable import Variable
from zerograd.models.base import Model

__all__ = ["VGG16"]


class VGG16(Model):
    """VGG-16 for 224x224 RGB input (1000 classes). All sizes are inferred at the first call.

    ``pretrained=True`` downloads DeZero's ImageNet weights (through ``utils.get_file``) and
    loads them.
    """

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/vgg16.npz"

    _BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))

    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        self._convs: list[list[str]] = []
        for b, (channels, n) in enumerate(self._BLOCKS, start=1):
            names = []
            for i in range(1, n + 1):
                name = f"conv{b}_{i}"
                setattr(self, name, L.Conv2d(channels, kernel_size=3, stride=1, pad=1))
                names.append(name)
            self._convs.append(names)
        self.fc6 = L.Linear(4096)
        self.fc7 = L.Linear(4096)
        self.fc8 = L.Linear(1000)
        if pretrained:
            from zerograd import utils

            self.load_weights(utils.get_file(VGG16.WEIGHTS_PATH))

    def forward(self, x: Any) -> Variable:
        for names in self._convs:
            for name in names:
                x = F.relu(getattr(self, name)(x))
            x = F.pooling(x, 2, 2)
        x = F.reshape(x, (x.shape[0], -1))
        x = F.dropout(F.relu(self.fc6(x)))
        x = F.dropout(F.relu(self.fc7(x)))
        return self.fc8(x)

    @staticmethod
    def preprocess(image: Any, size: Any = (224, 224), dtype: Any = np.float32) -> np.ndarray:
        """A PIL image to the network's input: RGB to BGR, ImageNet means subtracted, CHW."""
        image = image.convert("RGB")
        if size:
            image = image.resize(size)
        image = np.asarray(image, dtype=dtype)
        image = image[:, :, ::-1]
        image -= np.array([103.939, 116.779, 123.68], dtype=dtype)
        return image.transpose((2, 0, 1))
