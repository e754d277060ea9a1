#!/usr/bin/env python3
"""Run zerograd's benchmarks side by side with its peers and print one table.

    python benchmarks/run.py                      # everything (minutes)
    python benchmarks/run.py --smoke              # tiny sizes, one repeat (seconds): CI
    python benchmarks/run.py --only chain memory  # cases or case modules by name
    python benchmarks/run.py --out results.json   # JSON path (default benchmarks/results/)

Every BLAS/OpenMP pool runs one thread (set before NumPy is imported). Each module of
``benchmarks/cases/`` contributes rows; the ratio column divides each value by the value of
the row's baseline impl (same case, params and metric) measured in this same run. A case
that fails is reported and makes the exit status 1; the other cases still run.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Sets OMP/OPENBLAS/MKL thread counts to 1 in the environment: must precede NumPy's import.
from benchmarks import _common  # noqa: E402

sys.modules.setdefault("_common", _common)  # one module, whichever way a case imports it
CASES_DIR = ROOT / "benchmarks" / "cases"
COLUMNS = ("case", "params", "impl", "metric", "value", "unit", "ratio", "target", "")


def discover() -> list[str]:
    """Names of the case modules, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules([str(CASES_DIR)]) if m.name[0] != "_")


def _select(
    module: Any, name: str, only: list[str] | None, free: set[str]
) -> tuple[list[tuple[str, Any]], bool]:
    """The callables to run for one module, and whether its rows must be filtered by case.

    ``free`` holds the names in ``only`` that are neither a module nor a declared case: they
    may be row case names of modules without ``CASES``, which then run with their rows filtered.
    """
    cases = getattr(module, "CASES", None)
    if not only or name in only:
        return (list(cases.items()) if cases else [(name, module.run)]), False
    if cases:
        return [(c, fn) for c, fn in cases.items() if c in only or f"{name}.{c}" in only], False
    return ([(name, module.run)] if free else []), True


def run_cases(smoke: bool, only: list[str] | None) -> tuple[list[Any], list[dict[str, str]]]:
    rows: list[Any] = []
    errors: list[dict[str, str]] = []
    modules = {}
    for name in discover():
        try:
            modules[name] = importlib.import_module(f"benchmarks.cases.{name}")
        except Exception:
            errors.append({"case": name, "error": traceback.format_exc()})
            print(f"[{name}] import failed", file=sys.stderr)
    known = set(modules)
    for name, module in modules.items():
        known |= {c for c in getattr(module, "CASES", None) or {}}
        known |= {f"{name}.{c}" for c in getattr(module, "CASES", None) or {}}
    free = set(only or ()) - known
    if free:
        print(f"note: {sorted(free)} name no module or case; filtering rows", file=sys.stderr)
    for name, module in modules.items():
        selected, filter_rows = _select(module, name, only, free)
        for case, fn in selected:
            label = name if case == name else f"{name}.{case}"
            t0 = time.perf_counter()
            print(f"[{label}] running...", file=sys.stderr, flush=True)
            try:
                got = list(fn(smoke))
            except Exception:
                errors.append({"case": label, "error": traceback.format_exc()})
                print(f"[{label}] FAILED", file=sys.stderr, flush=True)
                continue
            if filter_rows:
                got = [r for r in got if r.case in free]
            rows += got
            print(f"[{label}] {len(got)} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return rows, errors


def annotate(rows: list[Any]) -> list[dict[str, Any]]:
    """Row dicts with the same-run ratio to the baseline and the target verdict."""
    index = {(r.case, r.params, r.metric, r.impl): r.value for r in rows}
    out = []
    for r in rows:
        d = r.as_dict() if hasattr(r, "as_dict") else dict(vars(r))
        base = index.get((r.case, r.params, r.metric, r.baseline)) if r.baseline else None
        d["ratio"] = r.value / base if base else None
        extra = r.extra or {}
        met = None
        if "target_ratio" in extra and d["ratio"] is not None:
            met = d["ratio"] <= extra["target_ratio"]
        elif "target_value" in extra:
            met = r.value <= extra["target_value"]
        elif extra.get("target") == "completes":
            met = True  # the row exists only if the run completed
        d["target"] = extra.get("target", "")
        d["met"] = met
        out.append(d)
    return out


def _fmt(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 1e5:
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = []
    for d in rows:
        ratio = "" if d["ratio"] is None else f"{d['ratio']:.2f}x {d['baseline']}"
        verdict = {True: "ok", False: "MISS", None: ""}[d["met"]]
        lines.append(
            (
                d["case"],
                d["params"],
                d["impl"],
                d["metric"],
                _fmt(d["value"]),
                d["unit"],
                ratio,
                d["target"],
                verdict,
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(COLUMNS, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" if i != 4 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*COLUMNS), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(s.rstrip() for s in out)


def environment() -> dict[str, Any]:
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in ("numpy", "zerograd", "torch", "autograd"):
        module = _common.optional_import(name)
        versions[name] = getattr(module, "__version__", "?") if module else "missing"
    dezero = _common.import_dezero()
    versions["dezero"] = getattr(dezero, "__version__", "?") if dezero else "missing"
    if versions["autograd"] == "?":
        from importlib import metadata

        try:
            versions["autograd"] = metadata.version("autograd")
        except metadata.PackageNotFoundError:
            pass
    threads = {k: os.environ.get(k, "") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {
        "versions": versions,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "threads": threads,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat (seconds)")
    parser.add_argument("--only", nargs="+", metavar="CASE", help="case modules or case names")
    parser.add_argument("--out", type=Path, help="JSON output (default benchmarks/results/)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)

    _common.limit_threads()
    if args.list:
        for name in discover():
            module = importlib.import_module(f"benchmarks.cases.{name}")
            cases = getattr(module, "CASES", None)
            print(name + (": " + " ".join(cases) if cases else ""))
        return 0
    started = time.perf_counter()
    rows, errors = run_cases(args.smoke, args.only)
    annotated = annotate(rows)
    env = environment()
    print()
    print(
        "zerograd benchmarks"
        + (" (smoke)" if args.smoke else "")
        + "  |  "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        + f"  |  {env['cpus']} CPUs, BLAS threads 1"
    )
    print(table(annotated) if annotated else "(no rows)")
    for e in errors:
        print(f"\nERROR in {e['case']}:\n{e['error']}", file=sys.stderr)

    out = args.out
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = ROOT / "benchmarks" / "results" / f"{stamp}{'-smoke' if args.smoke else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "smoke": args.smoke,
        "only": args.only,
        "seconds": round(time.perf_counter() - started, 2),
        "environment": env,
        "rows": annotated,
        "errors": errors,
    }
    out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"\nwrote {out}")
    if args.only and not annotated and not errors:
        print(f"no rows matched {args.only}", file=sys.stderr)
        return 2
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
