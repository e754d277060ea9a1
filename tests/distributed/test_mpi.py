"""Data-parallel training under ``mpiexec -n 2``: the checks of ``mpi_checks.py`` run in both
processes (one launch for all of them), then each test compares what the ranks saw."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.distributed.conftest import child_env, run_mpi

HERE = Path(__file__).resolve().parent
CHECKS = str(HERE / "mpi_checks.py")


def _ranks(out: Path, n: int) -> list[dict]:
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(n)]


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("mpi2")
    result = run_mpi([CHECKS, str(out), "--train"], n=2)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return _ranks(out, 2)


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same script, unchanged, as one plain process (no mpiexec)."""
    out = tmp_path_factory.mktemp("mpi1")
    result = subprocess.run(
        [sys.executable, CHECKS, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return _ranks(out, 1)[0]


def test_two_ranks_under_mpiexec(two: list[dict]) -> None:
    assert [r["rank"] for r in two] == [0, 1]
    assert {r["size"] for r in two} == {2} and {r["name"] for r in two} == {"mpi"}
    for r in two:  # one machine: both ranks on node 0
        intra_rank, intra_size, inter_rank, inter_size = r["objects"]["intra"]
        assert (intra_rank, intra_size, inter_rank, inter_size) == (r["rank"], 2, 0, 1)


def test_parameters_bit_identical_after_steps(two: list[dict]) -> None:
    # The ranks started from different weights and saw different data.
    assert two[0]["identical"] == two[1]["identical"]
    assert two[0]["identical"]["agree"] == [True] * 6  # also after the new layer's step
    assert two[0]["identical"]["t"] == 6 and two[0]["identical"]["hooks"] == 1


def test_two_half_batches_give_the_gradient_of_the_whole(two: list[dict]) -> None:
    for r in two:
        g = r["gradients"]
        assert g["worst_relative_error"] < 1e-12
        assert g["never_has_grad"] == [False, False]  # None on every rank stays None
        assert g["dtypes"] == ["<f8"]


@pytest.mark.parametrize("kind", ["array-False", "array-True", "list-False", "list-True"])
def test_shards_cover_every_index_with_equal_lengths(two: list[dict], kind: str) -> None:
    shards = [r["shards"][kind] for r in two]
    assert len(shards[0]) == len(shards[1]) == 6  # ceil(11 / 2)
    assert set(shards[0]) | set(shards[1]) == set(range(11))
    both = shards[0] + shards[1]
    assert len(both) == 12 and len(set(both)) == 11  # ChainerMN's overlap: one example twice
    assert shards[0][-1] == shards[1][0]  # ...at the boundary


def test_exact_shards_partition(two: list[dict]) -> None:
    assert two[0]["shards"]["exact"] + two[1]["shards"]["exact"] == list(range(11))
    assert two[0]["shards"]["loader"] == list(range(6))
    assert two[1]["shards"]["loader"] == list(range(5, 11))


def test_object_collectives(two: list[dict]) -> None:
    for r in two:
        o = r["objects"]
        assert o["bcast"] == {"from": 0, "a": [0, 1, 2]}
        assert o["sum"] == [1, [1.0, 1.0]]
        assert o["mean"] == {"a": 0.5}
        assert o["max"] == 1
        assert o["allgather"] == [0, 10]
    assert two[0]["objects"]["gathered"] == [0, 1]
    assert two[0]["objects"]["tags"] == [["r", 0], ["r", 1]]
    assert two[1]["objects"]["gathered"] is None


def test_models_that_differ_raise_on_every_rank(two: list[dict], one: dict) -> None:
    expected = (
        "bcast_data: the ranks' models differ: rank 0 has 'W' of shape (2, 3) and dtype "
        "float32 where rank 1 has 'W' of shape (2, 4) and dtype float32"
    )
    assert [r["mismatch"] for r in two] == [expected, expected]
    assert one["mismatch"] is None


def test_batchnorm_statistics_averaged_before_evaluation(two: list[dict]) -> None:
    assert all(r["batchnorm"]["close"] for r in two)
    assert two[0]["batchnorm"]["digest"] == two[1]["batchnorm"]["digest"]
    assert two[0]["batchnorm"]["metrics"] == two[1]["batchnorm"]["metrics"]


def test_train_only_rank_0_writes_and_logs(two: list[dict]) -> None:
    r0, r1 = two[0]["train"], two[1]["train"]
    assert r0["writes"] == ["save", "save", "plot"]  # 2 epochs checkpointed, 1 plot
    assert r1["writes"] == [] and r1["lines"] == 0
    assert r0["lines"] > 0


def test_train_resume_with_two_processes_is_exact(two: list[dict]) -> None:
    for r in two:
        t = r["train"]
        assert t["resumed"] == t["whole"] != t["first"]
    assert two[0]["train"]["whole"] == two[1]["train"]["whole"]
    assert two[0]["train"]["history"] == two[1]["train"]["history"]


def test_the_same_script_runs_as_one_process(one: dict) -> None:
    assert (one["rank"], one["size"], one["name"]) == (0, 1, "single")
    assert one["gradients"]["worst_relative_error"] < 1e-12
    assert one["shards"]["array-False"] == list(range(11))
    assert sorted(one["shards"]["array-True"]) == list(range(11))
    assert one["objects"]["gathered"] == [0] and one["objects"]["sum"] == [0, [0.0, 0.0]]
    assert one["objects"]["intra"] == [0, 1, 0, 1]


ABORT = """
import time, zerograd.distributed as zd
comm = zd.create_communicator()
if comm.rank == 1:
    time.sleep(0.5)
    raise RuntimeError("rank 1 fails")
comm.barrier()  # rank 0 would wait here forever without the abort
"""


def test_a_raising_rank_ends_every_rank_within_seconds(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(ABORT)
    t0 = time.perf_counter()
    result = run_mpi([str(script)], n=2, timeout=60)
    elapsed = time.perf_counter() - t0
    assert result.returncode != 0
    assert "rank 1 fails" in result.stderr
    assert elapsed < 30, elapsed  # start-up included; the abort itself is immediate


def test_cli_nproc_2_reaches_the_accuracy_of_one_process(tmp_path: Path) -> None:
    def accuracy(*extra: str) -> float:
        result = subprocess.run(
            [sys.executable, "-m", "zerograd", "train", "--no-progress", *extra],
            capture_output=True,
            text=True,
            timeout=300,
            env=child_env(),
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        last = result.stdout.strip().splitlines()[-1]
        assert last.startswith("test_accuracy="), result.stdout
        lines = result.stdout.splitlines()  # rank 0 alone reports:
        assert sum(line.startswith(("test_accuracy=", "trained ")) for line in lines) == 2
        return float(last.split("=")[1])

    from tests.distributed.conftest import mpiexec_or_skip

    mpiexec_or_skip()
    single, double = accuracy(), accuracy("--nproc", "2")
    assert double >= single - 0.01, (single, double)
    assert double >= 0.97
