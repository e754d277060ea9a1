"""Metrics over every rank's share of the data: ``evaluate`` and
``create_multi_node_evaluator`` (ChainerMN's)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from zerograd.distributed.communicator import CommunicatorBase

__all__ = ["create_multi_node_evaluator", "evaluate"]


def evaluate(
    model: Any,
    loader: Iterable[tuple[Any, Any]],
    comm: CommunicatorBase,
    lossfun: Callable[[Any, Any], Any] | None = None,
    accfun: Callable[[Any, Any], Any] | None = None,
) -> dict[str, float]:
    """Mean ``loss`` and ``accuracy`` of ``model`` over the batches of every rank's
    ``loader`` (each example weighted once, however the ranks' shares differ in size), in
    test mode without a graph. BatchNorm's running statistics are averaged over ranks
    first (``comm.allreduce_buffers``), so every rank then holds the evaluated model.
    ``lossfun``/``accfun`` default to softmax cross entropy and accuracy.

    >>> import numpy as np, zerograd as zg, zerograd.functions as F
    >>> from zerograd.distributed import create_communicator
    >>> model = zg.models.MLP((10,))
    >>> batches = [(np.zeros((4, 3), np.float32), np.zeros(4, np.int64))]
    >>> sorted(evaluate(model, batches, create_communicator()))
    ['accuracy', 'loss']
    """
    import zerograd
    import zerograd.functions as F

    lossfun = F.softmax_cross_entropy if lossfun is None else lossfun
    accfun = F.accuracy if accfun is None else accfun
    comm.allreduce_buffers(model)
    loss_sum = acc_sum = 0.0
    count = 0
    with zerograd.no_grad(), zerograd.test_mode():
        for x, t in loader:
            y = model(x)
            loss_sum += float(lossfun(y, t).data) * len(t)
            acc_sum += float(accfun(y, t).data) * len(t)
            count += len(t)
    loss_sum, acc_sum, count = comm.allreduce_obj([loss_sum, acc_sum, count])
    if count == 0:
        raise ValueError("evaluate: no examples on any rank")
    return {"loss": loss_sum / count, "accuracy": acc_sum / count}


class _MultiNodeEvaluator:
    def __init__(self, evaluator: Any, comm: CommunicatorBase) -> None:
        self.evaluator = evaluator
        self.comm = comm

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        run = getattr(self.evaluator, "evaluate", self.evaluator)
        return self.comm.allreduce_obj(run(*args, **kwargs), op="mean")

    evaluate = __call__

    def __getattr__(self, name: str) -> Any:
        return getattr(self.evaluator, name)


def create_multi_node_evaluator(evaluator: Any, comm: CommunicatorBase) -> Any:
    """A callable that runs ``evaluator`` (a function, or an object with ``evaluate()``)
    on every rank and returns its result averaged over ranks: a number, an array, or a
    dict/list of them (ChainerMN's rule: each rank's result weighs the same).

    >>> from zerograd.distributed import create_communicator
    >>> create_multi_node_evaluator(lambda: {"accuracy": 0.5}, create_communicator())()
    {'accuracy': 0.5}
    """
    if not callable(getattr(evaluator, "evaluate", evaluator)):
        raise TypeError(
            f"create_multi_node_evaluator: expected a callable or an object with evaluate(), "
            f"got {type(evaluator).__name__}"
        )
    return _MultiNodeEvaluator(evaluator, comm)
