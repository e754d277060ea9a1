"""Anomaly mode's cost (issue 5): the engine's chain case, ``y = sin(y)*c + y`` for 2000 steps
on a 0-d float64 value, forward + backward time per recorded op (3 per step), without and with
``zerograd.detect_anomaly()``. The ratio to plain zerograd is the price of the mode; the plain
row, the same computation as the engine's ``chain`` row, shows that the mode is free when off.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from benchmarks._common import Row, median_time

# The engine's chain case (benchmarks/cases/engine.py): c keeps y and its gradient O(1).
CHAIN_C = 0.001
CHAIN_X = 0.5
OPS_PER_STEP = 3  # sin, mul, add


def _chain(steps: int) -> float:
    import zerograd as zg

    sin = zg.functions.sin
    x = zg.Variable(np.array(CHAIN_X))
    y = x
    for _ in range(steps):
        y = sin(y) * CHAIN_C + y
    y.backward()
    return float(x.grad.data)  # type: ignore[union-attr]


def case_anomaly(smoke: bool) -> list[Row]:
    import zerograd as zg

    steps = 50 if smoke else 2000
    repeats = 1 if smoke else 15
    expected = _chain(steps)
    rows = []
    for impl, mode in (("zerograd", False), ("zerograd+anomaly", True)):

        def step(mode: bool = mode) -> None:
            with zg.detect_anomaly(mode):
                grad = _chain(steps)
            if grad != expected:  # the mode must not change a number
                raise AssertionError(f"anomaly={mode}: gradient {grad} != {expected}")

        seconds = median_time(step, repeats=repeats)
        rows.append(
            Row(
                case="chain with detect_anomaly",
                impl=impl,
                metric="fwd+bwd per op",
                value=seconds / (steps * OPS_PER_STEP) * 1e6,
                unit="us",
                params=f"{steps} steps",
                baseline="zerograd",
                extra={"repeats": repeats, "ops": OPS_PER_STEP * steps},
            )
        )
    return rows


CASES: dict[str, Callable[[bool], list[Row]]] = {"anomaly": case_anomaly}


def run(smoke: bool) -> list[Row]:
    return case_anomaly(smoke)
