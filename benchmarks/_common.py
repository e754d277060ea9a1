"""Shared benchmark helpers: single-threaded BLAS, medians, result rows.

A case module in ``benchmarks/cases/`` exposes ``run(smoke: bool) -> list[Row]``; the runner
(``benchmarks/run.py``) prints one table with same-run ratios and writes JSON.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Every BLAS/OpenMP pool at one thread; must run before NumPy or torch are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def limit_threads() -> None:
    """Pin already-imported thread pools (NumPy's BLAS, torch) to one thread."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


@dataclass
class Row:
    """One measurement: ``value`` in ``unit`` for ``impl`` on ``case`` with ``params``.

    Ratios are taken against the row of the same case/params/metric whose impl is
    ``baseline`` (torch unless a case says otherwise).
    """

    case: str
    impl: str
    metric: str
    value: float
    unit: str
    params: str = ""
    baseline: str = "torch"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_time(fn: Callable[[], Any], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved_medians(
    fns: dict[str, Callable[[], Any]],
    repeats: int,
    min_sample_s: float = 0.0,
    collect: bool = False,
) -> dict[str, float]:
    """Median seconds per call of each function, the functions taking turns within each
    repeat, so that a change of load on a shared machine hits all of them alike.

    A warm-up round (untimed) sizes each function's samples: one sample times enough
    consecutive calls to last ``min_sample_s``, so that a step of a fraction of a millisecond
    is not measured against one scheduler tick. ``collect`` runs the cyclic garbage collector
    (untimed) before each sample, so that no impl pays for another's garbage.
    """
    batch: dict[str, int] = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
        batch[name] = max(1, int(min_sample_s / max(elapsed, 1e-9)) + 1) if min_sample_s else 1
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            k = batch[name]
            if collect:
                gc.collect()
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - t0) / k)
    return {name: statistics.median(ts) for name, ts in samples.items()}


def optional_import(name: str) -> Any | None:
    """Import a peer library if it is installed, else return None (its rows are skipped)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def import_dezero() -> Any | None:
    """Import DeZero 0.0.13, which needs NumPy's removed aliases back on NumPy 2."""
    import numpy as np

    for alias, value in (
        ("int", int),
        ("float", float),
        ("bool", bool),
        ("object", object),
        ("complex", complex),
    ):
        if alias not in np.__dict__:
            setattr(np, alias, value)
    return optional_import("dezero")
