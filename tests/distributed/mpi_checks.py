"""Checks run in every process of ``mpiexec -n N python mpi_checks.py OUT_DIR`` (and, the
same script unchanged, as one plain process). Each rank writes what it saw to
``OUT_DIR/rank<r>.json``; ``test_mpi.py`` compares the ranks' files."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import zerograd
import zerograd.distributed as zd
import zerograd.functions as F
import zerograd.layers as L
import zerograd.optimizers as O
from zerograd.models import MLP, Sequential


def digest(model) -> str:
    h = hashlib.sha256()
    for name, v in model.named_state("/"):
        h.update(name.encode())
        h.update(np.ascontiguousarray(v.data).tobytes())
    return h.hexdigest()


class Net(zerograd.Model):
    """An MLP that may grow a head (a new, lazily sized layer) during training."""

    def __init__(self):
        super().__init__()
        self.body = MLP((16, 3), activation=F.relu)  # input size inferred at the first call
        self.head = None

    def forward(self, x):
        y = self.body(x)
        return y if self.head is None else self.head(F.relu(y))


def identical_after_steps(comm) -> dict:
    """Ranks start from different weights and see different data; a layer added halfway
    gets different weights on each rank too. After every step the weights agree."""
    np.random.seed(100 + comm.rank)  # different initial weights on purpose
    model = Net()
    opt = zd.create_multi_node_optimizer(O.Adam(alpha=0.01), comm).setup(model)
    opt.add_hook(O.WeightDecay(1e-3))  # hooks pass through and see averaged gradients
    rng = np.random.default_rng(comm.rank)
    agree = []
    for step in range(6):
        if step == 3:
            model.head = L.Linear(3)  # the parameter set changes: broadcast again
        x = rng.standard_normal((8, 5)).astype(np.float32)
        t = rng.integers(0, 3, 8)
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        digests = comm.allgather_obj(digest(model))
        agree.append(all(d == digests[0] for d in digests))
    return {"digest": digest(model), "agree": agree, "t": opt.t, "hooks": len(opt.hooks)}


def gradients_match_one_big_batch(comm) -> dict:
    """N ranks x batch B/N give the gradients of one rank x batch B (float64)."""
    np.random.seed(0)
    model = Sequential(L.Linear(7, in_size=4), F.tanh, L.Linear(3, in_size=7))
    unused_here = L.Linear(2, in_size=4)  # has a gradient on rank 0 only
    never = L.Linear(2, in_size=4)  # has a gradient on no rank
    for layer in (model, unused_here, never):
        for p in layer.params():
            p.data = p.data.astype(np.float64)
    params = [*model.params(), *unused_here.params(), *never.params()]
    rng = np.random.default_rng(1)
    B = 4 * comm.size
    x, t = rng.standard_normal((B, 4)), rng.integers(0, 3, B)

    def loss_of(xb, tb, with_extra):
        loss = F.softmax_cross_entropy(model(xb), tb)
        if with_extra:
            loss = loss + F.sum(unused_here(xb) ** 2) / (B // comm.size)
        return loss

    for p in params:
        p.cleargrad()
    # The reference: the mean over the full batch; the extra term is rank 0's share.
    lo, hi = comm.rank * B // comm.size, (comm.rank + 1) * B // comm.size
    full = (
        loss_of(x, t, False)
        + F.sum(unused_here(x[: B // comm.size]) ** 2) / (B // comm.size) / comm.size
    )
    full.backward()
    reference = [None if p.grad is None else p.grad.data.copy() for p in params]
    for p in params:
        p.cleargrad()
    loss_of(x[lo:hi], t[lo:hi], comm.rank == 0).backward()
    comm.allreduce_grad(params)
    worst = 0.0
    for p, ref in zip(params, reference):
        if ref is None:
            assert p.grad is None, "a parameter without gradients anywhere got one"
            continue
        err = np.abs(p.grad.data - ref).max() / max(np.abs(ref).max(), 1e-300)
        worst = max(worst, float(err))
    return {
        "worst_relative_error": worst,
        "never_has_grad": [p.grad is not None for p in never.params()],
        "dtypes": sorted({p.grad.data.dtype.str for p in params if p.grad is not None}),
    }


class Numbers(zerograd.Dataset):
    def prepare(self):
        self.data = np.arange(11) * 10
        self.label = np.arange(11)


class Listed:  # not a zerograd Dataset: a plain sequence
    def __len__(self):
        return 11

    def __getitem__(self, i):
        return (i, i)


def shards(comm) -> dict:
    out = {}
    for name, ds in (("array", Numbers()), ("list", Listed())):
        for shuffle in (False, True):
            shard = zd.scatter_dataset(ds, comm, shuffle=shuffle, seed=3)
            out[f"{name}-{shuffle}"] = [int(shard[i][1]) for i in range(len(shard))]
    exact = zd.scatter_dataset(Numbers(), comm, force_equal_length=False)
    out["exact"] = [int(v) for v in exact.label]
    loader = zerograd.DataLoader(zd.scatter_dataset(Numbers(), comm), 4, shuffle=False)
    out["loader"] = [int(v) for _, t in loader for v in t]
    return out


def objects(comm) -> dict:
    mine = {"rank": comm.rank, "x": np.full(2, float(comm.rank)), "tag": ("r", comm.rank)}
    gathered = comm.gather_obj(mine)
    return {
        "bcast": comm.bcast_obj({"from": comm.rank, "a": np.arange(3)} if comm.rank == 0 else None),
        "gathered": None if gathered is None else [g["rank"] for g in gathered],
        "tags": None if gathered is None else [list(g["tag"]) for g in gathered],
        "sum": comm.allreduce_obj([comm.rank, np.ones(2) * comm.rank]),
        "mean": comm.allreduce_obj({"a": float(comm.rank)}, op="mean"),
        "max": comm.allreduce_obj(comm.rank, op="max"),
        "allgather": comm.allgather_obj(comm.rank * 10),
        "intra": [comm.intra_rank, comm.intra_size, comm.inter_rank, comm.inter_size],
    }


def batchnorm(comm) -> dict:
    np.random.seed(0)
    model = Sequential(L.Linear(4, in_size=3), L.BatchNorm())
    rng = np.random.default_rng(comm.rank)
    model(rng.standard_normal((6, 3)).astype(np.float32) + comm.rank)  # different statistics
    bn = model.layers[1]
    before = comm.allgather_obj([bn.avg_mean.data, bn.avg_var.data])
    loader = [(np.ones((2, 3), np.float32), np.zeros(2, np.int64))]
    metrics = zd.evaluate(model, loader, comm)
    expected = [np.mean([b[k] for b in before], axis=0) for k in (0, 1)]
    return {
        "close": bool(
            np.allclose(bn.avg_mean.data, expected[0]) and np.allclose(bn.avg_var.data, expected[1])
        ),
        "digest": digest(model),
        "metrics": metrics,
    }


def train_writes(comm, out: Path) -> dict:
    """zerograd.train under N processes: only rank 0 logs and writes; resume is exact."""
    import zerograd.serialization as S
    from zerograd import train as T

    writes = []
    real_save, real_plot = S.save, T.save_plot
    S.save = lambda *a, **k: (writes.append("save"), real_save(*a, **k))[1]
    T.save_plot = lambda *a, **k: (writes.append("plot"), real_plot(*a, **k))[1]
    lines: list[str] = []
    ckpt, plot = str(out / "ckpt.npz"), str(out / "curves.png")
    config = T.TrainConfig(dataset="spiral", epochs=2, save=ckpt, plot=plot, progress=False)
    first = T.train(config, log=lines.append)
    whole = T.train(T.TrainConfig(dataset="spiral", epochs=4, progress=False), log=lines.append)
    resumed = T.train(T.TrainConfig(epochs=4, resume=ckpt, progress=False), log=lines.append)
    S.save, T.save_plot = real_save, real_plot
    return {
        "writes": writes,
        "lines": len(lines),
        "first": digest(first.model),
        "whole": digest(whole.model),
        "resumed": digest(resumed.model),
        "test_accuracy": whole.test_accuracy,
        "history": whole.history["loss"],
    }


def mismatch(comm) -> str | None:
    """Models that differ between ranks: every rank raises the same error (none hangs)."""
    model = L.Linear(3 + comm.rank, in_size=2)
    try:
        comm.bcast_data(model)
    except ValueError as error:
        return str(error)
    return None


def main() -> None:
    out = Path(sys.argv[1])
    comm = zd.create_communicator()
    result = {"rank": comm.rank, "size": comm.size, "name": comm.name}
    result["identical"] = identical_after_steps(comm)
    result["gradients"] = gradients_match_one_big_batch(comm)
    result["shards"] = shards(comm)
    result["objects"] = objects(comm)
    result["batchnorm"] = batchnorm(comm)
    result["mismatch"] = mismatch(comm)
    if "--train" in sys.argv:
        result["train"] = train_writes(comm, out)
    comm.barrier()
    (out / f"rank{comm.rank}.json").write_text(json.dumps(result, default=_jsonable))


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(type(obj).__name__)


if __name__ == "__main__":
    main()
