"""Layers (DeZero's ``dezero.layers``): ``import zerograd.layers as L``.

Parameter order is stable and documented: a layer's members in the order they were first
assigned, each child layer's parameters at the child's position (``Layer.params``).
"""

from zerograd.layers.conv import Conv2d, Deconv2d
from zerograd.layers.layer import Layer
from zerograd.layers.linear import EmbedID, Linear
from zerograd.layers.normalization import BatchNorm
from zerograd.layers.recurrent import LSTM, RNN

__all__ = ["LSTM", "RNN", "BatchNorm", "Conv2d", "Deconv2d", "EmbedID", "Layer", "Linear"]
