"""zerograd.distributed in one process (no MPI needed): the single communicator, the object
codec, argument errors, the optimizer and evaluator wrappers, and the launcher's choices."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import pytest

import zerograd as zg
import zerograd.distributed as zd
import zerograd.functions as F
import zerograd.layers as L
import zerograd.optimizers as O
from zerograd.distributed import _codec, launch
from zerograd.distributed._tree import zip_apply as _zip_apply


@pytest.fixture
def comm() -> zd.CommunicatorBase:
    return zd.create_communicator()


def test_outside_mpiexec_auto_is_single(comm, monkeypatch) -> None:
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    comm = zd.create_communicator()
    assert isinstance(comm, zd.SingleCommunicator)
    assert (comm.rank, comm.size, comm.intra_rank, comm.inter_size) == (0, 1, 0, 1)
    assert "rank=0" in repr(comm)


@pytest.mark.parametrize(
    "obj",
    [
        None,
        {"a": [1, 2.5, True, "x"], 3: {(1, "b"): None}},
        (np.float32(1.5), np.arange(6, dtype=np.int16).reshape(2, 3).T, np.zeros((0, 4))),
        [np.array(True), np.complex128(1 + 2j), float("inf"), 2**80],
        [[[[]]]],
    ],
)
def test_codec_round_trip(obj) -> None:
    back = _codec.decode(_codec.encode(obj))
    assert repr(back) == repr(obj)
    for a, b in zip(obj if isinstance(obj, (list, tuple)) else [], back or []):
        if isinstance(a, (np.ndarray, np.generic)):
            assert type(a) is type(b) and a.dtype == b.dtype


def test_codec_is_not_recursive() -> None:
    deep: list = []
    for _ in range(20_000):
        deep = [deep]
    back = _codec.decode(_codec.encode(deep))
    for _ in range(20_000):
        back = back[0]
    assert back == []


@pytest.mark.parametrize("bad", [object(), {1: {2: set()}}, np.array(["a"]), lambda: 0])
def test_codec_rejects_what_it_cannot_send(bad) -> None:
    with pytest.raises(TypeError, match="bcast_obj: cannot send"):
        _codec.encode(bad, "bcast_obj")


@pytest.mark.parametrize("cut", [0, 5, 20, -1])
def test_codec_rejects_damaged_bytes(cut) -> None:
    blob = _codec.encode({"a": np.arange(4.0)})
    with pytest.raises(ValueError, match="decode"):
        _codec.decode(blob[:cut] if cut else blob + b"x")


def test_single_object_collectives(comm) -> None:
    assert comm.bcast_obj({"a": 1}) == {"a": 1}
    assert comm.gather_obj(3) == [3]
    assert comm.allgather_obj("x") == ["x"]
    got = comm.allreduce_obj((1, [2.0, np.ones(2)]), op="mean")
    assert isinstance(got, tuple) and got[0] == 1.0 and got[1][1].tolist() == [1.0, 1.0]
    comm.barrier()
    with pytest.raises(ValueError, match="op must be one of"):
        comm.allreduce_obj(1, op="prod")
    with pytest.raises(TypeError, match="cannot reduce a str"):
        comm.allreduce_obj({"a": "text"})  # what MPI would reject is rejected here too
    with pytest.raises(TypeError, match="cannot send"):
        comm.bcast_obj(object())
    with pytest.raises(ValueError, match="root must be a rank"):
        comm.bcast_obj(1, root=1)


def test_allreduce_obj_names_a_rank_whose_structure_differs() -> None:
    add = lambda a, b: a + b  # noqa: E731
    assert _zip_apply({"a": [1, 2]}, {"a": [3, 4]}, add, "r1") == {"a": [4, 6]}
    with pytest.raises(ValueError, match="r1 sent a list of 1 where rank 0 sent a list of 2"):
        _zip_apply({"a": [1, 2]}, {"a": [3]}, add, "r1")
    with pytest.raises(ValueError, match=r"r1 sent shape \(3,\)"):
        _zip_apply(np.ones(2), np.ones(3), add, "r1")


def test_create_communicator_errors(monkeypatch) -> None:
    with pytest.raises(ValueError, match="unknown name 'nope'; choose from auto, single, mpi"):
        zd.create_communicator("nope")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed
    with pytest.raises(RuntimeError, match=r"pip install 'zerograd\[mpi\]'"):
        zd.create_communicator("mpi")
    monkeypatch.setenv("PMI_SIZE", "4")
    assert zd.launcher_world_size() == 4
    with pytest.raises(RuntimeError, match="one of 4 started by an MPI launcher"):
        zd.create_communicator()
    monkeypatch.setenv("PMI_SIZE", "1")
    assert isinstance(zd.create_communicator(), zd.SingleCommunicator)


def _model() -> zg.Layer:
    np.random.seed(0)
    model = zg.models.MLP((5, 3))
    model(np.zeros((1, 2), np.float32))  # weights drawn now, the same for every call
    return model


def test_single_model_collectives_change_nothing(comm) -> None:
    model = _model()
    x = np.random.randn(4, 2).astype(np.float32)
    F.sum(model(x)).backward()
    before = [(p.data.copy(), p.grad.data.copy()) for p in model.params()]
    comm.bcast_data(model)
    comm.allreduce_grad(model)
    comm.allreduce_buffers(model)
    for (d, g), p in zip(before, model.params()):
        assert np.array_equal(d, p.data) and np.array_equal(g, p.grad.data)
    with pytest.raises(TypeError, match="expected a Layer or a list of Parameters"):
        comm.allreduce_grad(3)


def test_multi_node_optimizer_passes_through(comm, tmp_path) -> None:
    model = _model()
    opt = zd.create_multi_node_optimizer(O.MomentumSGD(lr=0.1), comm).setup(model)
    opt.lr = 0.05  # attributes are the wrapped optimizer's
    assert opt.actual_optimizer.lr == 0.05
    seen = []
    opt.add_hook(lambda params: seen.append(len(params)))
    reference = _model()
    ref_opt = O.MomentumSGD(lr=0.05).setup(reference)
    x, t = np.random.randn(4, 2).astype(np.float32), np.array([0, 1, 2, 0])
    for m, o in ((model, opt), (reference, ref_opt)):
        for _ in range(3):
            loss = F.softmax_cross_entropy(m(x), t)
            m.cleargrads()
            loss.backward()
            o.update()
    assert seen == [4, 4, 4]
    for p, q in zip(model.params(), reference.params()):
        assert np.array_equal(p.data, q.data)
    zg.save(tmp_path / "c.npz", model, opt)  # checkpoints see the wrapped optimizer's state
    zg.load(tmp_path / "c.npz", model, opt)
    assert "multi_node(" in repr(opt)
    with pytest.raises(TypeError, match="is not an optimizer"):
        zd.create_multi_node_optimizer(object(), comm)
    with pytest.raises(TypeError, match="must come from create_communicator"):
        zd.create_multi_node_optimizer(O.SGD(), object())
    with pytest.raises(RuntimeError, match="call setup"):
        zd.create_multi_node_optimizer(O.SGD(), comm).update()


def test_scatter_dataset_single(comm) -> None:
    ds = zg.datasets.Spiral()
    shard = zd.scatter_dataset(ds, comm, shuffle=True, seed=1)
    assert isinstance(shard, zg.Dataset) and len(shard) == len(ds)
    assert sorted(shard.indices.tolist()) == list(range(len(ds)))
    assert np.array_equal(shard.data, ds.data[shard.indices])
    listed = zd.scatter_dataset(list(range(5)), comm)
    assert isinstance(listed, zd.SubDataset) and [listed[i] for i in range(5)] == list(range(5))
    with pytest.raises(IndexError, match="out of range"):
        listed[5]
    with pytest.raises(ValueError, match="empty"):
        zd.scatter_dataset([], comm)


def test_evaluate_and_evaluator(comm) -> None:
    model = zg.models.Sequential(L.Linear(4, in_size=3), L.BatchNorm(), L.Linear(2))
    x, t = np.random.randn(6, 3).astype(np.float32), np.array([0, 1, 0, 1, 1, 0])
    model(x)  # BatchNorm statistics
    metrics = zd.evaluate(model, [(x[:4], t[:4]), (x[4:], t[4:])], comm)
    with zg.no_grad(), zg.test_mode():
        y = model(x)
    assert metrics["loss"] == pytest.approx(float(F.softmax_cross_entropy(y, t).data))
    assert metrics["accuracy"] == pytest.approx(float(F.accuracy(y, t).data))
    with pytest.raises(ValueError, match="no examples"):
        zd.evaluate(model, [], comm)

    class Ext:
        def evaluate(self):
            return {"accuracy": 0.75}

    assert zd.create_multi_node_evaluator(Ext(), comm)() == {"accuracy": 0.75}
    with pytest.raises(TypeError, match="expected a callable"):
        zd.create_multi_node_evaluator(3, comm)


# -- the launcher -------------------------------------------------------------------------
def test_relaunch_stays_in_process_when_it_should(monkeypatch) -> None:
    monkeypatch.delenv("PMI_SIZE", raising=False)
    assert launch.relaunch(None, []) is None
    assert launch.relaunch(1, ["train", "--nproc", "1"]) is None
    monkeypatch.setenv("PMI_SIZE", "2")  # already one of 2 processes
    assert launch.relaunch(2, ["train", "--nproc", "2"]) is None
    with pytest.raises(zg.train.TrainError, match="already one of 2 processes"):
        launch.relaunch(3, ["train", "--nproc", "3"])


def test_relaunch_says_what_is_missing(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("PMI_SIZE", raising=False)
    monkeypatch.setattr(launch, "find_spec", lambda name: None)
    with pytest.raises(zg.train.TrainError, match="needs mpi4py"):
        launch.relaunch(2, [])
    monkeypatch.setattr(launch, "find_spec", lambda name: object())
    monkeypatch.setattr(launch, "find_mpiexec", lambda: None)
    with pytest.raises(zg.train.TrainError, match="needs mpiexec"):
        launch.relaunch(2, [])


def test_find_mpiexec_prefers_the_one_beside_python(monkeypatch, tmp_path) -> None:
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert launch.find_mpiexec() == str(fake)
    fake.unlink()
    monkeypatch.setenv("PATH", str(tmp_path))
    assert launch.find_mpiexec() is None


def test_cli_rejects_a_bad_nproc(capsys) -> None:
    from zerograd.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--nproc", "0"])
    assert "--nproc: expected a positive integer" in capsys.readouterr().err
    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    assert parser.parse_args(["--nproc", "3"]).nproc == 3


def test_cli_reports_a_missing_mpiexec(monkeypatch, capsys) -> None:
    from zerograd.cli import main

    monkeypatch.delenv("PMI_SIZE", raising=False)
    monkeypatch.setattr(launch, "find_mpiexec", lambda: None)
    monkeypatch.setattr(launch, "find_spec", lambda name: object())
    assert main(["train", "--nproc", "2"]) == 2
    assert "zerograd train: error: --nproc 2 needs mpiexec" in capsys.readouterr().err
    assert os.environ.get("PMI_SIZE") is None


def test_resume_needs_as_many_processes_as_the_checkpoint(tmp_path) -> None:
    import json

    from zerograd import train as T

    ckpt = tmp_path / "ckpt.npz"
    T.train(T.TrainConfig(dataset="spiral", epochs=1, save=str(ckpt), progress=False), print)
    with np.load(ckpt) as npz:  # the same checkpoint, as if two processes had written it
        arrays = dict(npz)
    meta = json.loads(arrays["__zerograd__"].tobytes())
    assert meta["extra"]["train"]["nproc"] == 1
    meta["extra"]["train"]["nproc"] = 2
    arrays["__zerograd__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "two.npz", **arrays)
    with pytest.raises(T.TrainError, match="written by 2 processes; resume it with as many"):
        T.train(T.TrainConfig(epochs=2, resume=str(tmp_path / "two.npz"), progress=False))
