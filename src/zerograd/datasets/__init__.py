"""Datasets (DeZero's ``dezero.datasets``).

Embedded or synthetic, no network: ``Spiral``/``get_spiral``, ``SinCurve``, ``Digits``
(scikit-learn's 8x8 digits). Read from the data directory (``$ZEROGRAD_DATA``, default
``~/.zerograd``), downloaded only when asked and verified by SHA-256: ``MNIST``, ``CIFAR10``,
``CIFAR100``, ``Shakespear``.
"""

from zerograd.datasets._base import Dataset
from zerograd.datasets._download import ChecksumError, get_cache_dir, get_file
from zerograd.datasets.cifar import CIFAR10, CIFAR100
from zerograd.datasets.digits import Digits
from zerograd.datasets.mnist import MNIST
from zerograd.datasets.text import Shakespear
from zerograd.datasets.toy import SinCurve, Spiral, get_spiral

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "MNIST",
    "ChecksumError",
    "Dataset",
    "Digits",
    "Shakespear",
    "SinCurve",
    "Spiral",
    "get_cache_dir",
    "get_file",
    "get_spiral",
]


def __getattr__(name: str) -> str:
    # DeZero's ``datasets.cache_dir``, read when asked (see ``get_cache_dir``).
    if name == "cache_dir":
        return get_cache_dir()
    raise AttributeError(f"module 'zerograd.datasets' has no attribute {name!r}")
