"""The engine's cases (issue 2): per-op overhead, wide and deep graphs, higher order, memory.

Every case runs the same computation on zerograd, torch (one thread), DeZero 0.0.13, HIPS
autograd and, where it makes sense, hand-written NumPy; peers that are not installed are
skipped. Gradients are checked against torch (against the NumPy reference without torch)
before anything is timed. Times are medians over repeats, each repeat on a fresh graph.

- chain: ``y = sin(y)*c + y``, 2000 steps on a 0-d float64 value; forward+backward time per
  recorded op (3 per step).
- wide-fold / wide-tree: ``b_i = sin(x*c_i)`` for N = 1000, 4000, 16000, summed by a left fold
  or a balanced tree; backward time, and the growth exponent of a log-log fit over N.
- deep: ``y = y*1.0 + 0.0``, 10^5 steps, backward time; 10^6 steps must complete.
- higher: the n-th derivative of tanh at 1.0 by repeated ``create_graph`` backward, n = 1..6.
- memory: ``y = tanh(sin(y)*0.9 + 0.1)`` 50 times on a (1000, 1000) float64 array, forward +
  backward of ``sum(y)``; peak resident memory above the baseline, each impl in a fresh process
  (see benchmarks/README.md for why this is fair).

``python -m benchmarks.cases.engine --memory-child IMPL STEPS SIZE`` is the child process of
the memory case.
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from benchmarks._common import (
    Row,
    import_dezero,
    interleaved_medians,
    limit_threads,
    optional_import,
)

ROOT = Path(__file__).resolve().parents[2]
IMPLS = ("zerograd", "torch", "dezero", "autograd", "numpy")


# -- peers -----------------------------------------------------------------------------------------
def _peers() -> dict[str, Any]:
    """The installed implementations (name -> module); NumPy and zerograd are always there."""
    import zerograd

    peers: dict[str, Any] = {"zerograd": zerograd, "numpy": np}
    torch = optional_import("torch")
    if torch is not None:
        peers["torch"] = torch
    dezero = import_dezero()
    if dezero is not None:
        peers["dezero"] = dezero
    hips = optional_import("autograd")
    if hips is not None and hasattr(hips, "make_vjp"):
        peers["autograd"] = hips
    limit_threads()
    # Move everything imported so far (torch, DeZero... hundreds of thousands of objects) out
    # of the collector's reach: otherwise every full collection in a timed run would scan the
    # peers' modules, a cost that would land on whichever impl allocates Python objects.
    gc.collect()
    gc.freeze()
    return peers


def _versions() -> dict[str, str]:
    return {name: getattr(m, "__version__", "?") for name, m in _peers().items()}


# -- measuring -------------------------------------------------------------------------------------
def _measure(
    run: Callable[[Any], Any],
    setup: Callable[[], Any] = lambda: None,
    repeats: int = 7,
    budget: float = 20.0,
) -> tuple[float, int, Any]:
    """Median time of ``run(setup())`` over fresh setups (setup and teardown untimed).

    A run shorter than half a second gets one untimed warm-up first. Repeats stop early once
    ``budget`` seconds are spent (slow peers: DeZero's quadratic backward), so the number of
    repeats is returned with the median and the last result.
    """
    times: list[float] = []
    started = time.perf_counter()
    warm_up = True
    result = None
    while len(times) < repeats:
        state = setup()
        gc.collect()
        t0 = time.perf_counter()
        result = run(state)
        elapsed = time.perf_counter() - t0
        del state
        if warm_up and elapsed < 0.5:
            warm_up = False
            continue
        warm_up = False
        times.append(elapsed)
        if time.perf_counter() - started > budget:
            break
    return statistics.median(times), len(times), result


def _check(case: str, impl: str, got: Any, want: Any, rtol: float = 1e-9) -> None:
    got_a, want_a = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1e-300, float(np.max(np.abs(want_a))))
    err = float(np.max(np.abs(got_a - want_a))) / scale
    if not err <= rtol:
        raise AssertionError(
            f"engine/{case}: {impl} gradient {got_a.ravel()[:4]} differs from the reference "
            f"{want_a.ravel()[:4]} (relative error {err:.2e} > {rtol:g})"
        )


def _reference(case: str, results: dict[str, Any], rtol: float = 1e-9) -> None:
    """Check every impl's gradient against torch's (NumPy's when torch is absent)."""
    ref_name = "torch" if "torch" in results else "numpy" if "numpy" in results else "zerograd"
    for impl, value in results.items():
        _check(case, impl, value, results[ref_name], rtol)


# -- chain: per-op overhead ------------------------------------------------------------------------
CHAIN_C = 0.001  # keeps y and the gradient O(1) over thousands of steps
CHAIN_X = 0.5


def _chain_fns(peers: dict[str, Any]) -> dict[str, Callable[[int], float]]:
    fns: dict[str, Callable[[int], float]] = {}
    c = CHAIN_C

    def zerograd_chain(steps: int) -> float:
        zg = peers["zerograd"]
        sin = zg.functions.sin
        x = zg.Variable(np.array(CHAIN_X))
        y = x
        for _ in range(steps):
            y = sin(y) * c + y
        y.backward()
        return float(x.grad.data)

    fns["zerograd"] = zerograd_chain

    if "torch" in peers:
        torch = peers["torch"]

        def torch_chain(steps: int) -> float:
            x = torch.tensor(CHAIN_X, dtype=torch.float64, requires_grad=True)
            y = x
            for _ in range(steps):
                y = torch.sin(y) * c + y
            y.backward()
            return float(x.grad)

        fns["torch"] = torch_chain

    if "dezero" in peers:
        dezero = peers["dezero"]

        def dezero_chain(steps: int) -> float:
            sin = dezero.functions.sin
            x = dezero.Variable(np.array(CHAIN_X))
            y = x
            for _ in range(steps):
                y = sin(y) * c + y
            y.backward()
            return float(x.grad.data)

        fns["dezero"] = dezero_chain

    if "autograd" in peers:
        hips = peers["autograd"]
        import autograd.numpy as anp

        def autograd_chain(steps: int) -> float:
            def f(x: Any) -> Any:
                y = x
                for _ in range(steps):
                    y = anp.sin(y) * c + y
                return y

            return float(hips.grad(f)(np.array(CHAIN_X)))

        fns["autograd"] = autograd_chain

    def numpy_chain(steps: int) -> float:
        ys = [np.array(CHAIN_X)]
        for _ in range(steps):
            y = ys[-1]
            ys.append(np.sin(y) * c + y)
        g = np.array(1.0)
        for y in reversed(ys[:-1]):
            g = g * (np.cos(y) * c + 1.0)
        return float(g)

    fns["numpy"] = numpy_chain
    return fns


def case_chain(smoke: bool) -> list[Row]:
    steps = 50 if smoke else 2000
    fns = _chain_fns(_peers())
    _reference("chain", {name: fn(steps) for name, fn in fns.items()})
    # The impls take turns (one run each per round), so that a change of load on the machine
    # hits them alike: the ratio to torch is the figure that counts.
    repeats = 1 if smoke else 15
    times = interleaved_medians(
        {name: lambda fn=fn: fn(steps) for name, fn in fns.items()}, repeats, collect=True
    )
    rows = []
    for name, t in times.items():
        extra: dict[str, Any] = {"repeats": repeats, "ops": 3 * steps}
        if name == "zerograd":
            extra.update(target_ratio=0.5, target="<= 0.5x torch")
        rows.append(
            Row(
                "chain",
                name,
                "fwd+bwd per op",
                t / (3 * steps) * 1e6,
                "us",
                f"{steps} steps",
                extra=extra,
            )
        )
    return rows


# -- wide: fan-out to N sines, summed two ways -----------------------------------------------------
def _tree_sum(terms: list[Any]) -> Any:
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        terms = paired + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _fold_sum(terms: list[Any]) -> Any:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _wide_setups(peers: dict[str, Any], n: int, reduce: Callable[[list[Any]], Any]) -> dict:
    """impl -> (setup building the forward graph, run doing the backward and returning grad)."""
    cs = [0.1 + 0.9 * k / n for k in range(n)]
    x0 = 0.5
    setups: dict[str, tuple[Callable[[], Any], Callable[[Any], float]]] = {}

    zg = peers["zerograd"]

    def zg_setup() -> Any:
        x = zg.Variable(np.array(x0))
        return x, reduce([zg.functions.sin(x * c) for c in cs])

    def zg_run(state: Any) -> float:
        x, total = state
        total.backward()
        return float(x.grad.data)

    setups["zerograd"] = (zg_setup, zg_run)

    if "torch" in peers:
        torch = peers["torch"]

        def torch_setup() -> Any:
            x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            return x, reduce([torch.sin(x * c) for c in cs])

        def torch_run(state: Any) -> float:
            x, total = state
            total.backward()
            return float(x.grad)

        setups["torch"] = (torch_setup, torch_run)

    if "dezero" in peers:
        dezero = peers["dezero"]

        def dezero_setup() -> Any:
            x = dezero.Variable(np.array(x0))
            return x, reduce([dezero.functions.sin(x * c) for c in cs])

        setups["dezero"] = (dezero_setup, zg_run)

    if "autograd" in peers:
        hips = peers["autograd"]
        import autograd.numpy as anp

        def ag_setup() -> Any:
            return hips.make_vjp(lambda x: reduce([anp.sin(x * c) for c in cs]))(np.array(x0))[0]

        setups["autograd"] = (ag_setup, lambda vjp: float(vjp(1.0)))
    return setups


def _growth_exponent(ns: list[int], times: list[float]) -> float:
    slope, _ = np.polyfit(np.log(ns), np.log(times), 1)
    return float(slope)


# DeZero re-sorts its candidate list at every insert: at N = 16000 one backward takes about a
# minute (quadratic), so it stops at 4000 and its growth exponent is fitted on what it ran.
WIDE_MAX_N = {"dezero": 4000}


def _wide_times(
    setups: dict[int, dict[str, tuple[Callable[[], Any], Callable[[Any], float]]]],
    rounds: int,
    budget: float,
) -> dict[tuple[int, str], list[float]]:
    """Backward times per (N, impl), the sizes and impls taking turns within each round, so
    that a change of load on the machine cannot tilt the growth fit. A round runs each size
    ``N_max / N`` times (every size gets about the same time); an impl stops sampling a size
    once ``budget`` seconds are spent on it. One untimed warm-up each first."""
    largest = max(setups)
    samples: dict[tuple[int, str], list[float]] = {}
    spent: dict[tuple[int, str], float] = {}
    for n, by_impl in setups.items():
        for name, (setup, run) in by_impl.items():
            run(setup())
            samples[n, name], spent[n, name] = [], 0.0
    for _ in range(rounds):
        for n, by_impl in setups.items():
            for name, (setup, run) in by_impl.items():
                for _ in range(largest // n):
                    if spent[n, name] > budget:
                        break
                    state = setup()
                    gc.collect()
                    t0 = time.perf_counter()
                    run(state)
                    elapsed = time.perf_counter() - t0
                    del state
                    samples[n, name].append(elapsed)
                    spent[n, name] += elapsed
    return samples


def case_wide(smoke: bool) -> list[Row]:
    peers = _peers()
    ns = [50, 100, 200] if smoke else [1000, 4000, 16000]
    rows: list[Row] = []
    for label, reduce in (("wide-fold", _fold_sum), ("wide-tree", _tree_sum)):
        setups = {}
        for n in ns:
            setups[n] = {
                name: fns
                for name, fns in _wide_setups(peers, n, reduce).items()
                if smoke or n <= WIDE_MAX_N.get(name, n)
            }
            results = {name: run(setup()) for name, (setup, run) in setups[n].items()}
            expected = sum(c * math.cos(0.5 * c) for c in [0.1 + 0.9 * k / n for k in range(n)])
            results["numpy"] = expected  # the closed form: sum_i c_i cos(x c_i)
            _reference(label, results)
        samples = _wide_times(setups, 1 if smoke else 5, budget=30.0)
        times: dict[str, dict[int, float]] = {}
        for (n, name), ts in samples.items():
            t = statistics.median(ts)
            times.setdefault(name, {})[n] = t
            extra: dict[str, Any] = {"repeats": len(ts)}
            if name == "zerograd" and n == ns[-1]:
                extra.update(target_ratio=0.5, target="<= 0.5x torch")
            rows.append(Row(label, name, "backward", t * 1e3, "ms", f"N={n}", extra=extra))
        for name, by_n in times.items():
            extra = {"target_value": 1.1, "target": "<= 1.1"} if name == "zerograd" else {}
            fitted = sorted(by_n)
            rows.append(
                Row(
                    label,
                    name,
                    "growth exponent",
                    _growth_exponent(fitted, [by_n[n] for n in fitted]),
                    "",
                    f"N={fitted[0]}..{fitted[-1]}",
                    baseline="",
                    extra=extra,
                )
            )
    return rows


# -- deep: a long chain of cheap ops ---------------------------------------------------------------
def _deep_setups(peers: dict[str, Any], steps: int) -> dict:
    setups: dict[str, tuple[Callable[[], Any], Callable[[Any], float]]] = {}
    zg = peers["zerograd"]

    def zg_setup() -> Any:
        x = zg.Variable(np.array(2.0))
        y = x
        for _ in range(steps):
            y = y * 1.0 + 0.0
        return x, y

    def var_run(state: Any) -> float:
        x, y = state
        y.backward()
        return float(x.grad.data)

    setups["zerograd"] = (zg_setup, var_run)
    if "torch" in peers:
        torch = peers["torch"]

        def torch_setup() -> Any:
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            y = x
            for _ in range(steps):
                y = y * 1.0 + 0.0
            return x, y

        def torch_run(state: Any) -> float:
            x, y = state
            y.backward()
            return float(x.grad)

        setups["torch"] = (torch_setup, torch_run)
    if "dezero" in peers:
        dezero = peers["dezero"]

        def dezero_setup() -> Any:
            x = dezero.Variable(np.array(2.0))
            y = x
            for _ in range(steps):
                y = y * 1.0 + 0.0
            return x, y

        setups["dezero"] = (dezero_setup, var_run)
    if "autograd" in peers:
        hips = peers["autograd"]

        def f(x: Any) -> Any:
            y = x
            for _ in range(steps):
                y = y * 1.0 + 0.0
            return y

        setups["autograd"] = (lambda: hips.make_vjp(f)(np.array(2.0))[0], lambda v: float(v(1.0)))
    return setups


def case_deep(smoke: bool) -> list[Row]:
    peers = _peers()
    steps = 1000 if smoke else 10**5
    rows: list[Row] = []
    setups = _deep_setups(peers, steps)
    results = {name: run(setup()) for name, (setup, run) in setups.items()}
    results["numpy"] = 1.0
    _reference("deep", results)
    for name, (setup, run) in setups.items():
        t, reps, _ = _measure(run, setup, repeats=1 if smoke else 5, budget=20.0)
        extra: dict[str, Any] = {"repeats": reps}
        if name == "zerograd":
            extra.update(target_ratio=0.5, target="<= 0.5x torch")
        rows.append(Row("deep", name, "backward", t * 1e3, "ms", f"{steps} steps", extra=extra))
    if not smoke:
        # 10^6 steps must complete (forward + backward, one run each: zerograd and torch).
        big = 10**6
        for name in ("zerograd", "torch"):
            if name not in peers:
                continue
            setup, run = _deep_setups(peers, big)[name]
            gc.collect()
            t0 = time.perf_counter()
            grad = run(setup())
            elapsed = time.perf_counter() - t0
            _check("deep", name, grad, 1.0)
            extra = {"repeats": 1, "target": "completes"} if name == "zerograd" else {"repeats": 1}
            rows.append(
                Row("deep", name, "fwd+bwd (completes)", elapsed, "s", f"{big} steps", extra=extra)
            )
    return rows


# -- higher order: n-th derivative of tanh ---------------------------------------------------------
def _higher_fns(peers: dict[str, Any]) -> dict[str, Callable[[int], float]]:
    fns: dict[str, Callable[[int], float]] = {}

    def var_nth(lib: Any, n: int) -> float:
        x = lib.Variable(np.array(1.0))
        y = lib.functions.tanh(x)
        for _ in range(n):
            x.cleargrad()
            y.backward(create_graph=True)
            y = x.grad
        return float(y.data)

    fns["zerograd"] = lambda n: var_nth(peers["zerograd"], n)
    if "torch" in peers:
        torch = peers["torch"]

        def torch_nth(n: int) -> float:
            x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
            y = torch.tanh(x)
            for _ in range(n):
                (y,) = torch.autograd.grad(y, x, create_graph=True)
            return float(y.detach())

        fns["torch"] = torch_nth
    if "dezero" in peers:
        fns["dezero"] = lambda n: var_nth(peers["dezero"], n)
    if "autograd" in peers:
        hips = peers["autograd"]
        import autograd.numpy as anp

        def ag_nth(n: int) -> float:
            f = anp.tanh
            for _ in range(n):
                f = hips.grad(f)
            return float(f(1.0))

        fns["autograd"] = ag_nth
    return fns


def _tanh_derivatives(n: int) -> float:
    """d^n/dx^n tanh at 1.0 from the polynomial recurrence in t = tanh(x)."""
    poly = np.polynomial.Polynomial([0.0, 1.0])  # tanh itself, as a polynomial in t
    for _ in range(n):
        poly = poly.deriv() * np.polynomial.Polynomial([1.0, 0.0, -1.0])  # dt/dx = 1 - t^2
    return float(poly(np.tanh(1.0)))


def case_higher(smoke: bool) -> list[Row]:
    fns = _higher_fns(_peers())
    rows: list[Row] = []
    for n in range(1, 4 if smoke else 7):
        results = {name: fn(n) for name, fn in fns.items()}
        results["numpy"] = _tanh_derivatives(n)
        _reference("higher", results, rtol=1e-10)
        repeats = 1 if smoke else 9
        times = interleaved_medians(
            {name: lambda fn=fn, n=n: fn(n) for name, fn in fns.items()},
            repeats,
            min_sample_s=0 if smoke else 0.05,
            collect=True,
        )
        for name, t in times.items():
            extra: dict[str, Any] = {"repeats": repeats}
            if name == "zerograd" and n == 6:
                extra.update(target_ratio=1.0, target="<= 1.0x torch")
            rows.append(
                Row("higher", name, "n-th derivative", t * 1e3, "ms", f"n={n}", extra=extra)
            )
    return rows


# -- memory: peak resident memory, one fresh process per impl --------------------------------------
def _memory_run(impl: str, x0: np.ndarray, steps: int) -> np.ndarray:
    """Forward + backward of ``sum(y)``; returns the gradient as a NumPy array."""
    if impl == "numpy":
        ys = [x0]
        for _ in range(steps):
            ys.append(np.tanh(np.sin(ys[-1]) * 0.9 + 0.1))
        g = None
        for k in reversed(range(steps)):
            local = (1 - ys[k + 1] ** 2) * 0.9 * np.cos(ys[k])
            g = local if g is None else g * local
        return g
    if impl in ("zerograd", "dezero"):
        lib = import_dezero() if impl == "dezero" else __import__("zerograd")
        F = lib.functions
        x = lib.Variable(x0)
        y = x
        for _ in range(steps):
            y = F.tanh(F.sin(y) * 0.9 + 0.1)
        F.sum(y).backward()
        return x.grad.data
    if impl == "torch":
        import torch

        torch.set_num_threads(1)
        x = torch.from_numpy(x0).requires_grad_()
        y = x
        for _ in range(steps):
            y = torch.tanh(torch.sin(y) * 0.9 + 0.1)
        y.sum().backward()
        return x.grad.numpy()
    if impl == "autograd":
        import autograd.numpy as anp

        from autograd import grad

        def f(x: Any) -> Any:
            y = x
            for _ in range(steps):
                y = anp.tanh(anp.sin(y) * 0.9 + 0.1)
            return anp.sum(y)

        return grad(f)(x0)
    raise ValueError(f"unknown impl {impl}")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _memory_child(impl: str, steps: int, size: int) -> dict[str, Any]:
    """Runs in a fresh process: peak RSS of one forward+backward above the state before it."""
    if impl == "torch":
        import torch  # imported before the baseline, like every impl's own modules

        torch.set_num_threads(1)
    elif impl == "dezero":
        import_dezero()
    elif impl == "autograd":
        import autograd  # noqa: F401
    x0 = np.random.default_rng(0).uniform(-1.0, 1.0, (size, size))
    _memory_run(impl, x0[:2, :2].copy(), 2)  # warm up lazy imports and caches
    gc.collect()
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak (VmHWM) to the current RSS
    except OSError:
        reset = False
    before = _status_kb("VmRSS")
    grad = _memory_run(impl, x0, steps)
    peak = _status_kb("VmHWM")
    return {
        "impl": impl,
        "peak_mib": (peak - before) / 1024,
        "peak_reset": reset,
        "grad_sum": float(np.sum(grad)),
        "grad_head": [float(v) for v in np.ravel(grad)[:4]],
        "array_mib": x0.nbytes / 2**20,
    }


def _spawn_memory_child(impl: str, steps: int, size: int) -> dict[str, Any]:
    env = dict(os.environ)
    # A fixed mmap threshold: every large array gets its own mapping, returned to the OS when
    # freed, so the resident peak is the live peak (glibc's adaptive threshold would otherwise
    # keep freed arrays in the heap for some impls and not others).
    env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    cmd = [sys.executable, "-m", "benchmarks.cases.engine", "--memory-child", impl]
    result = subprocess.run(
        [*cmd, str(steps), str(size)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"memory child for {impl} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def case_memory(smoke: bool) -> list[Row]:
    if not Path("/proc/self/status").exists():
        raise RuntimeError("the memory case reads /proc/self/status (Linux only)")
    peers = _peers()
    steps, size = (5, 300) if smoke else (50, 1000)
    impls = ["numpy", "zerograd"] if smoke else [i for i in IMPLS if i in peers]
    repeats = 1 if smoke else 3
    peaks: dict[str, list[float]] = {}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for impl in impls:
            out = _spawn_memory_child(impl, steps, size)
            peaks.setdefault(impl, []).append(out["peak_mib"])
            results[impl] = out["grad_head"] + [out["grad_sum"]]
            array_mib = out["array_mib"]
    _reference("memory", results, rtol=1e-9)
    rows = []
    for impl in impls:
        extra: dict[str, Any] = {
            "repeats": repeats,
            "arrays": round(statistics.median(peaks[impl]) / array_mib, 1),
        }
        if impl == "zerograd":
            extra.update(target_ratio=1.05, target="<= 1.05x numpy")
        rows.append(
            Row(
                "memory",
                impl,
                "peak RSS",
                statistics.median(peaks[impl]),
                "MiB",
                f"{steps} steps ({size},{size}) f64",
                baseline="numpy",
                extra=extra,
            )
        )
    return rows


CASES: dict[str, Callable[[bool], list[Row]]] = {
    "chain": case_chain,
    "wide": case_wide,
    "deep": case_deep,
    "higher": case_higher,
    "memory": case_memory,
}


def run(smoke: bool) -> list[Row]:
    rows: list[Row] = []
    for case in CASES.values():
        rows += case(smoke)
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--memory-child":
        print(json.dumps(_memory_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        for row in run("--smoke" in sys.argv):
            print(row)
