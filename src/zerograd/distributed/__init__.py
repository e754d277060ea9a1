"""Data-parallel training on many processes and machines over MPI (mpi4py), with
ChainerMN's API; on GPUs, NCCL through CuPy.

Run the same script in every process (``mpiexec -n 4 python train.py``): each trains on its
shard of the data, and the multi-node optimizer averages the gradients before every update,
so the parameters stay identical on all ranks. Outside ``mpiexec`` (or without mpi4py) the
script runs as one process.

>>> import numpy as np, zerograd.distributed as zd
>>> comm = zd.create_communicator()
>>> comm.size, comm.allreduce_obj(np.arange(3.0), op="mean").tolist()
(1, [0.0, 1.0, 2.0])
"""

from zerograd.distributed.communicator import (
    COMMUNICATORS,
    CommunicatorBase,
    SingleCommunicator,
    create_communicator,
    launcher_world_size,
)
from zerograd.distributed.dataset import SubDataset, scatter_dataset
from zerograd.distributed.evaluation import create_multi_node_evaluator, evaluate
from zerograd.distributed.mpi import MpiCommunicator  # mpi4py is imported on creation only
from zerograd.distributed.optimizer import create_multi_node_optimizer

__all__ = [
    "COMMUNICATORS",
    "CommunicatorBase",
    "MpiCommunicator",
    "SingleCommunicator",
    "SubDataset",
    "create_communicator",
    "create_multi_node_evaluator",
    "create_multi_node_optimizer",
    "evaluate",
    "launcher_world_size",
    "scatter_dataset",
]
