"""Data-parallel training step (issue 12): the 784-1000-1000-10 ReLU MLP, SGD, batch 128 per
process, on 1 and 2 processes: zerograd over MPI (``zerograd.distributed``, MPICH) against
``torch.distributed`` with gloo (``DistributedDataParallel``), one BLAS thread per process.

One process runs in the runner's own process; two run in fresh processes (``mpiexec -n 2``
for zerograd; two processes with a gloo process group on 127.0.0.1 for torch), started one
after the other in rounds, impls alternating. Inside, the processes take turns between the
kinds of step, so that a change of load hits them alike:

- ``step``: a training step with gradient averaging (zerograd: ``allreduce_grad`` before
  the update; torch: DDP's default, its bucketed allreduce overlapped with backward);
- ``compute``: the same step without communication (zerograd: the plain optimizer; torch:
  inside ``ddp.no_sync()``), so ``step - compute`` is the exposed communication cost;
- ``comm``: the communication alone, timed where it happens: zerograd's ``allreduce_grad``
  (packing included), torch's bucket allreduces (timed by a DDP communication hook that runs
  them synchronously during separate timed steps).

``bandwidth`` is the gradient bytes (7.18 MB in float32) over ``comm``: the algorithm
bandwidth of one allreduce of all gradients. Before timing, every impl's first loss is
checked against the hand-written NumPy step of ``cases/mlp.py`` on the same weights and data,
and zerograd's parameters are checked bit-identical across ranks after two synced steps.
The machine's cores are shared by all processes: with 2 processes on 2 cores, ``step`` on 2
processes measures contention as much as scaling.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from benchmarks._common import Row, optional_import

ROOT = Path(__file__).resolve().parents[2]
LR = 0.01
FULL = {"sizes": (784, 1000, 1000, 10), "batch": 128, "steps": 15, "rounds": 2}
SMOKE = {"sizes": (64, 32, 10), "batch": 8, "steps": 2, "rounds": 1}
TIMEOUT = 300


# -- the child processes ---------------------------------------------------------------------
def _data(sizes: tuple[int, ...], batch: int, rank: int) -> tuple[list[np.ndarray], Any, Any]:
    from benchmarks.cases.mlp import _init

    weights, x, t = _init(sizes, batch)  # the same weights on every rank
    if rank:  # each rank its own batch; rank 0's is the one checked against NumPy
        rng = np.random.default_rng(rank)
        x = rng.standard_normal(x.shape).astype(np.float32)
        t = rng.integers(0, sizes[-1], batch)
    return weights, x, t


def _reference_loss(sizes: tuple[int, ...], batch: int) -> float:
    from benchmarks.cases.mlp import numpy_step

    weights, x, t = _data(sizes, batch, 0)
    return numpy_step(weights)(x, t)


def _zerograd_child(sizes: tuple[int, ...], batch: int, steps: int) -> dict[str, Any] | None:
    import zerograd.distributed as zd
    import zerograd.functions as F
    import zerograd.optimizers as O
    from zerograd.models import MLP

    comm = zd.create_communicator()
    weights, x, t = _data(sizes, batch, comm.rank)
    model = MLP([w.shape[1] for w in weights[0::2]], activation=F.relu)
    for layer, W, b in zip(model.layers, weights[0::2], weights[1::2]):
        layer.W.data, layer.b.data = W, b
        layer.in_size = W.shape[0]
    plain = O.SGD(lr=LR).setup(model)
    synced = zd.create_multi_node_optimizer(O.SGD(lr=LR).setup(model), comm)
    comm_times: list[float] = []
    allreduce = comm.allreduce_grad

    def timed_allreduce(target: Any) -> None:
        t0 = time.perf_counter()
        allreduce(target)
        comm_times.append(time.perf_counter() - t0)

    comm.allreduce_grad = timed_allreduce  # type: ignore[method-assign]

    def step(opt: Any) -> float:
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    first = step(synced)  # also the warm-up (and the broadcast of rank 0's weights)
    step(synced)
    digests = comm.allgather_obj([p.data for p in model.params()])
    if any(not np.array_equal(a, b) for d in digests[1:] for a, b in zip(d, digests[0])):
        raise AssertionError("zerograd: parameters differ across ranks after synced steps")
    comm_times.clear()
    # (The "compute" steps update each rank's weights on its own gradients: they drift apart,
    # which changes nothing in the time of a step.)
    times = _take_turns({"step": lambda: step(synced), "compute": lambda: step(plain)}, steps, comm)
    times["comm"] = comm_times if comm.size > 1 else []
    return {"first_loss": first, **_medians(times)} if comm.rank == 0 else None


def _torch_child(sizes: tuple[int, ...], batch: int, steps: int) -> dict[str, Any] | None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    weights, x_np, t_np = _data(sizes, batch, rank)
    layers: list[Any] = []
    for W, b in zip(weights[0::2], weights[1::2]):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()]
    model: Any = torch.nn.Sequential(*layers[:-1])
    x, t = torch.from_numpy(x_np), torch.from_numpy(t_np)
    loss_fn = torch.nn.CrossEntropyLoss()
    comm_times: list[float] = []
    timing = {"on": False}
    if size > 1:
        dist.init_process_group("gloo", rank=rank, world_size=size)
        model = torch.nn.parallel.DistributedDataParallel(model)

        def hook(state, bucket):  # no annotations: DDP checks them against its own types
            buf = bucket.buffer()
            if not timing["on"]:  # DDP's own asynchronous allreduce, overlapped
                work = dist.all_reduce(buf.div_(size), async_op=True)
                return work.get_future().then(lambda fut: fut.value()[0])
            t0 = time.perf_counter()
            dist.all_reduce(buf)  # synchronous, timed
            comm_times[-1] += time.perf_counter() - t0
            fut: Any = torch.futures.Future()
            fut.set_result(buf.div_(size))
            return fut

        model.register_comm_hook(None, hook)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> float:
        loss = loss_fn(model(x), t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def compute() -> float:
        if size == 1:
            return step()
        with model.no_sync():
            return step()

    def comm_step() -> float:
        timing["on"] = True
        comm_times.append(0.0)
        try:
            return step()
        finally:
            timing["on"] = False

    first = step()
    fns = {"step": step, "compute": compute}
    if size > 1:
        fns["comm step"] = comm_step
    times = _take_turns(fns, steps, None)
    times.pop("comm step", None)
    times["comm"] = comm_times
    if size > 1:
        dist.destroy_process_group()
    return {"first_loss": first, **_medians(times)} if rank == 0 else None


def _take_turns(fns: dict[str, Any], steps: int, comm: Any) -> dict[str, list[float]]:
    """Each function ``steps`` times, taking turns; ranks start each turn together."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(steps):
        for name, fn in fns.items():
            if comm is not None:
                comm.barrier()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def _medians(times: dict[str, list[float]]) -> dict[str, float | None]:
    return {k: statistics.median(v) if v else None for k, v in times.items()}


def child_main(argv: list[str]) -> None:
    impl, sizes, batch, steps = argv[0], tuple(json.loads(argv[1])), int(argv[2]), int(argv[3])
    run = _zerograd_child if impl == "zerograd" else _torch_child
    result = run(sizes, batch, steps)
    if result is not None:
        print("RESULT " + json.dumps(result), flush=True)


# -- the parent --------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    # 2 processes on 2 shared cores: MPICH sleeps 1 us after repeated empty polls instead of
    # spinning on a core the other rank needs (zerograd train --nproc does the same).
    env.setdefault("MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1")
    return env


def _result(stdout: str, what: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{what}: no result line in its output:\n{stdout[-2000:]}")


def _launch(impl: str, nproc: int, cfg: dict[str, Any]) -> dict[str, Any]:
    args = ["-m", "benchmarks.cases.distributed", "--child", impl]
    args += [json.dumps(list(cfg["sizes"])), str(cfg["batch"]), str(cfg["steps"])]
    what = f"distributed {impl} x{nproc}"
    if nproc == 1:  # one process: this one (no MPI, no process group)
        run = _zerograd_child if impl == "zerograd" else _torch_child
        return run(cfg["sizes"], cfg["batch"], cfg["steps"])  # type: ignore[return-value]
    env = _env()
    if impl == "zerograd":
        from zerograd.distributed.launch import find_mpiexec

        done = subprocess.run(
            [find_mpiexec(), "-n", str(nproc), sys.executable, *args],  # type: ignore[list-item]
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return _result(done.stdout, what)
    with socket.socket() as s:  # a free port for gloo's rendezvous on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(nproc):
        penv = {**env, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        penv.update(RANK=str(rank), WORLD_SIZE=str(nproc))
        procs.append(
            subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=penv,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=TIMEOUT))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise RuntimeError(f"{what} failed:\n{err[-3000:]}")
    return _result(outs[0][0], what)


def _available() -> list[str]:
    impls = ["zerograd"]
    if optional_import("torch") is not None:
        impls.append("torch")
    return impls


def _mpi_ready() -> bool:
    from zerograd.distributed.launch import find_mpiexec

    return find_spec("mpi4py") is not None and find_mpiexec() is not None


def run(smoke: bool) -> list[Row]:
    cfg = SMOKE if smoke else FULL
    sizes, batch = cfg["sizes"], cfg["batch"]
    reference = _reference_loss(sizes, batch)
    params_base = f"{'-'.join(map(str, sizes))}, batch {batch} per process, float32, SGD"
    grad_bytes = sum(a * b + b for a, b in itertools.pairwise(sizes)) * 4
    samples: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for _ in range(cfg["rounds"]):
        for nproc in (1, 2):
            for impl in _available():
                if impl == "zerograd" and nproc > 1 and not _mpi_ready():
                    continue  # no MPI: zerograd's one-process rows still come out
                try:
                    got = _launch(impl, nproc, cfg)
                except RuntimeError:
                    if impl == "zerograd":
                        raise
                    # torch's gloo crashes now and then at teardown ("terminate called
                    # without an active exception"), a peer's flake: one more try.
                    got = _launch(impl, nproc, cfg)
                if not np.isclose(got["first_loss"], reference, rtol=1e-4):
                    raise AssertionError(
                        f"distributed {impl} x{nproc}: loss {got['first_loss']} != numpy "
                        f"{reference}"
                    )
                samples.setdefault((impl, nproc), []).append(got)
    rows = []
    for (impl, nproc), runs in samples.items():
        params = f"{params_base}, {nproc} process{'es' if nproc > 1 else ''}"
        for metric in ("step", "compute", "comm"):
            values = [r[metric] for r in runs if r.get(metric) is not None]
            if not values:
                continue
            value = statistics.median(values)
            extra: dict[str, Any] = {"repeats": len(values) * cfg["steps"]}
            if metric == "comm" and impl == "zerograd" and not smoke:
                extra.update(target_ratio=1.0, target="<= 1.0x torch")
            rows.append(
                Row("distributed step", impl, metric, value * 1e3, "ms", params, extra=extra)
            )
            if metric == "comm":
                rows.append(
                    Row(
                        "distributed step",
                        impl,
                        "bandwidth",
                        grad_bytes / value / 1e9,
                        "GB/s",
                        params,
                        baseline="",
                        extra={"bytes": grad_bytes},
                    )
                )
    return rows


CASES = {"distributed": run}

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        for row in run("--smoke" in sys.argv):
            print(row)
