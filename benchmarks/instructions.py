#!/usr/bin/env python3
"""Count the CPU instructions one step of an engine workload costs, under callgrind.

    python benchmarks/instructions.py                 # every case
    python benchmarks/instructions.py chain add      # some cases
    python benchmarks/instructions.py --src ../old/src chain   # another checkout

Wall-clock times on a shared machine swing by 2x; instruction counts repeat to about 1%, so
they tell whether a change to the engine made a step cheaper. Each case runs twice under
``valgrind --tool=callgrind``, at two lengths, and the difference is divided by the difference
in steps: start-up and import cost cancel out. Needs valgrind (Debian: ``apt install
valgrind``); runs BLAS on one thread.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# The chain, higher-order and MLP workloads are the wall-clock benchmark's own zerograd
# functions (benchmarks/cases), so both tools measure the same computation.
def _chain(n: int) -> None:
    from benchmarks.cases.engine import _chain_fns

    import zerograd

    _chain_fns({"zerograd": zerograd})["zerograd"](n)


def _higher(n: int) -> None:
    from benchmarks.cases.engine import _higher_fns

    import zerograd

    nth = _higher_fns({"zerograd": zerograd})["zerograd"]
    for _ in range(n):
        nth(6)


def _mlp(n: int) -> None:
    from benchmarks.cases.mlp import _init, zerograd_step

    weights, x, t = _init((784, 100, 10), 32)
    step = zerograd_step(weights)
    for _ in range(n):
        step(x, t)


def _calls(make: Callable[[Any, Any], Any]) -> Callable[[int], None]:
    """``n`` calls of ``make`` on two 0-d intermediates, all kept (no freeing in the count)."""

    def run(n: int) -> None:
        import numpy as np

        import zerograd as zg
        import zerograd.functions as F

        x = zg.Variable(np.array(0.3))
        a, b = F.sin(x), F.cos(x)
        keep = [make(a, b) for _ in range(n)]
        del keep

    return run


def _sin(a: Any, b: Any) -> Any:
    import zerograd.functions as F

    return F.sin(a)


#: name -> (workload taking a step count, the two step counts, what one step is)
CASES: dict[str, tuple[Callable[[int], None], tuple[int, int], str]] = {
    "chain": (_chain, (4000, 12000), "y = sin(y) * c + y, forward and backward (0-d)"),
    "sin": (_calls(_sin), (4000, 12000), "F.sin of an intermediate (0-d)"),
    "mulc": (_calls(lambda a, b: a * 0.5), (4000, 12000), "x * 0.5 (0-d)"),
    "add": (_calls(lambda a, b: a + b), (4000, 12000), "x + y of two intermediates (0-d)"),
    "higher": (_higher, (200, 600), "6th derivative of tanh (create_graph)"),
    "mlp": (_mlp, (100, 300), "MLP 784-100-10 SGD training step, batch 32"),
}


def count(case: str, steps: int, src: Path) -> int:
    """Instructions of a whole run of ``case`` for ``steps`` steps (imports included)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = dict(os.environ, PYTHONPATH=str(src), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(Path(__file__).resolve()),
            "--run",
            case,
            str(steps),
        ]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode or not found:
            raise RuntimeError(f"callgrind failed on {case}:\n{done.stderr[-2000:]}")
        return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help=f"cases to count (default all): {list(CASES)}")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the zerograd to count")
    parser.add_argument("--run", nargs=2, metavar=("CASE", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:  # inside valgrind: run the workload only
        CASES[args.run[0]][0](int(args.run[1]))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {list(CASES)}")
    for case in args.cases or list(CASES):
        _, (short, long), what = CASES[case]
        per_step = (count(case, long, args.src) - count(case, short, args.src)) / (long - short)
        print(f"{case:8} {per_step:12,.0f} instructions per step   {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
