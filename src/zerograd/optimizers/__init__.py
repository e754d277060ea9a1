"""Optimizers (DeZero's ``dezero.optimizers``) and their hooks.

``opt = Adam().setup(model)``; after ``loss.backward()``, ``opt.update()`` steps every
parameter that has a gradient. ``state_dict()``/``load_state_dict()`` (used by
``zerograd.save``/``zerograd.load``) make a resumed run continue exactly.
``zerograd.optimizers.lr_scheduler`` has torch's learning-rate schedulers;
``clip_grad_norm(params, max_norm)`` clips gradients by their global norm.
"""

from zerograd.optimizers import lr_scheduler
from zerograd.optimizers.adaptive import AdaDelta, AdaGrad, Adam, AdamW
from zerograd.optimizers.base import Optimizer
from zerograd.optimizers.hooks import ClipGrad, FreezeParam, WeightDecay, clip_grad_norm
from zerograd.optimizers.sgd import SGD, MomentumSGD

__all__ = [
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdamW",
    "ClipGrad",
    "FreezeParam",
    "MomentumSGD",
    "Optimizer",
    "WeightDecay",
    "clip_grad_norm",
    "lr_scheduler",
]
