"""``create_multi_node_optimizer``: any zerograd optimizer, data-parallel (ChainerMN's)."""

from __future__ import annotations

from typing import Any

from zerograd.distributed import _state
from zerograd.distributed.communicator import CommunicatorBase

__all__ = ["create_multi_node_optimizer"]


class _MultiNodeOptimizer:
    """Wraps ``actual_optimizer``: ``update()`` first copies rank 0's parameters to every
    rank if the parameter set has changed since the last update (the first update, a layer
    sized at its first call), then averages the gradients over ranks, then runs the wrapped
    optimizer (its hooks see the averaged gradients). Every other attribute is the wrapped
    optimizer's (``lr``, ``add_hook``, ``state_dict``...)."""

    def __init__(self, actual_optimizer: Any, communicator: CommunicatorBase) -> None:
        object.__setattr__(self, "actual_optimizer", actual_optimizer)
        object.__setattr__(self, "communicator", communicator)
        object.__setattr__(self, "_synced", None)

    def setup(self, target: Any) -> _MultiNodeOptimizer:
        self.actual_optimizer.setup(target)
        object.__setattr__(self, "_synced", None)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        target = self.actual_optimizer.target
        if target is None:
            raise RuntimeError(
                f"{type(self.actual_optimizer).__name__}.update: call setup(model) first"
            )
        # Which parameters exist and their shapes: cheap to compute every step, and it changes
        # at the same step on every rank of an SPMD program.
        current = [
            (id(p), None if p.data is None else p.data.shape)
            for _, p in _state.named_params(target, "update")
        ]
        if current != self._synced:
            self.communicator.bcast_data(target)
            object.__setattr__(self, "_synced", current)
        self.communicator.allreduce_grad(target)
        self.actual_optimizer.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.actual_optimizer, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.actual_optimizer, name, value)

    def __repr__(self) -> str:
        return f"multi_node({self.actual_optimizer!r}, {self.communicator!r})"


def create_multi_node_optimizer(actual_optimizer: Any, communicator: CommunicatorBase) -> Any:
    """``actual_optimizer`` made data-parallel over ``communicator``'s ranks.

    >>> import numpy as np, zerograd.layers as L, zerograd.optimizers as O
    >>> from zerograd.distributed import create_communicator
    >>> model = L.Linear(2, in_size=3)
    >>> opt = create_multi_node_optimizer(O.SGD(lr=0.1), create_communicator()).setup(model)
    >>> opt.lr
    0.1
    """
    if not isinstance(communicator, CommunicatorBase):
        raise TypeError(
            f"create_multi_node_optimizer: communicator must come from create_communicator, "
            f"got {type(communicator).__name__}"
        )
    if not callable(getattr(actual_optimizer, "update", None)):
        raise TypeError(
            f"create_multi_node_optimizer: {type(actual_optimizer).__name__} is not an "
            f"optimizer (no update method)"
        )
    return _MultiNodeOptimizer(actual_optimizer, communicator)
