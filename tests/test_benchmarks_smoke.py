"""The benchmark runner keeps working: ``benchmarks/run.py --smoke`` in seconds, and its table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"
ENGINE_CASES = {"chain", "wide-fold", "wide-tree", "deep", "higher", "memory"}


def _run(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = (
        f"{prelude}\nimport runpy, sys\nsys.argv = ['run.py', *{list(args)!r}]\n"
        f"runpy.run_path({str(RUN)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_smoke_run_of_every_case(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    result = _run("--smoke", "--out", str(out))
    assert result.returncode == 0, result.stderr[-4000:]
    payload = json.loads(out.read_text())
    assert payload["smoke"] is True and payload["errors"] == []
    rows = payload["rows"]
    engine = [r for r in rows if r["case"] in ENGINE_CASES]
    assert {r["case"] for r in engine} == ENGINE_CASES
    for case in ENGINE_CASES:
        assert any(r["impl"] == "zerograd" for r in engine if r["case"] == case), case
    for r in rows:
        assert r["value"] == r["value"], r  # not NaN
        if r["unit"] in ("ms", "us", "s", "MiB"):
            assert r["value"] >= 0, r
    # Ratios are taken in the same run against the baseline's row.
    torch_chain = [r for r in engine if r["case"] == "chain" and r["impl"] == "torch"]
    if torch_chain:
        assert torch_chain[0]["ratio"] == pytest.approx(1.0)
        zg = next(r for r in engine if r["case"] == "chain" and r["impl"] == "zerograd")
        assert zg["ratio"] == pytest.approx(zg["value"] / torch_chain[0]["value"])
        assert zg["target"] and zg["met"] in (True, False)
    # The table is printed.
    assert "ratio" in result.stdout and "zerograd" in result.stdout


BLOCK_PEERS = """
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'dezero', 'autograd'):
            raise ImportError(f'{name} blocked for this test')
        return None
sys.meta_path.insert(0, _Block())
"""


def test_engine_cases_run_without_their_peers(tmp_path: Path) -> None:
    """With torch, DeZero and HIPS autograd missing, zerograd's rows still come out."""
    out = tmp_path / "alone.json"
    result = _run("--smoke", "--only", "engine", "--out", str(out), prelude=BLOCK_PEERS)
    assert result.returncode == 0, result.stderr[-4000:]
    payload = json.loads(out.read_text())
    assert payload["errors"] == []
    impls = {r["impl"] for r in payload["rows"]}
    assert impls == {"zerograd", "numpy"}
    assert {r["case"] for r in payload["rows"]} == ENGINE_CASES
    versions = payload["environment"]["versions"]
    assert versions["torch"] == versions["dezero"] == versions["autograd"] == "missing"


def test_only_selects_cases(tmp_path: Path) -> None:
    out = tmp_path / "only.json"
    result = _run("--smoke", "--only", "engine.chain", "higher", "--out", str(out))
    assert result.returncode == 0, result.stderr[-4000:]
    cases = {r["case"] for r in json.loads(out.read_text())["rows"]}
    assert cases == {"chain", "higher"}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.run as runner

    return runner


def _row(case: str, impl: str, value: float, baseline: str = "torch", **extra):
    from benchmarks._common import Row

    return Row(case, impl, "t", value, "ms", "p", baseline=baseline, extra=extra)


def test_annotate_ratios_and_targets(runner) -> None:
    rows = [
        _row("c", "torch", 10.0),
        _row("c", "zerograd", 4.0, target_ratio=0.5, target="<= 0.5x torch"),
        _row("c", "dezero", 30.0),
        _row("d", "zerograd", 1.2, baseline="", target_value=1.1, target="<= 1.1"),
        _row("e", "zerograd", 3.0),  # its baseline did not run
    ]
    out = runner.annotate(rows)
    assert [d["ratio"] for d in out] == [1.0, 0.4, 3.0, None, None]
    assert [d["met"] for d in out] == [None, True, None, False, None]
    text = runner.table(out)
    assert "0.40x torch" in text and "MISS" in text and " ok" in text


def test_a_failing_case_is_reported_and_the_others_still_run(runner, monkeypatch) -> None:
    import importlib

    real_import = importlib.import_module

    def fake_import(name: str, *args):
        if name == "benchmarks.cases.broken":
            raise RuntimeError("this case module is broken")
        if name == "benchmarks.cases.fine":
            return SimpleNamespace(run=lambda smoke: [_row("fine", "zerograd", 1.0)])
        return real_import(name, *args)

    monkeypatch.setattr(runner, "discover", lambda: ["broken", "fine"])
    monkeypatch.setattr(runner.importlib, "import_module", fake_import)
    rows, errors = runner.run_cases(smoke=True, only=None)
    assert [r.case for r in rows] == ["fine"]
    assert len(errors) == 1 and errors[0]["case"] == "broken"
    assert "this case module is broken" in errors[0]["error"]


@pytest.mark.parametrize("case", ["chain", "sin", "mulc", "add", "higher", "mlp"])
def test_every_instruction_count_workload_runs(case: str) -> None:
    # The workloads ``benchmarks/instructions.py`` runs under callgrind, run plainly: a few
    # steps each (counting needs valgrind and minutes).
    code = (
        "import runpy, sys\nsys.argv = ['instructions.py', '--run', "
        f"{case!r}, '3']\nrunpy.run_path({str(ROOT / 'benchmarks' / 'instructions.py')!r}, "
        "run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-4000:]


def test_instruction_counts_refuse_unknown_cases() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "instructions.py"), "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "unknown cases ['nope']" in result.stderr
