"""Models (DeZero's ``dezero.models``): ``Model``, ``Sequential``, ``MLP``, ``SimpleCNN``,
``VGG16`` and ``ResNet50/101/152``."""

from zerograd.models.base import MLP, Model, Sequential, SimpleCNN
from zerograd.models.resnet import ResNet, ResNet50, ResNet101, ResNet152
from zerograd.models.vgg import VGG16

__all__ = [
    "MLP",
    "VGG16",
    "Model",
    "ResNet",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "Sequential",
    "SimpleCNN",
]
