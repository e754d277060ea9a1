"""Weight files and checkpoints: formats, validation, atomic writes, exact resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.optimizers as O
from tests._env import child_env
from zerograd.serialization import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


class Block(zg.Layer):
    """A layer built from Parameters and a buffer only (no library layers needed)."""

    def __init__(self, n_in: int, n_out: int, seed: int) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.W = zg.Parameter(rng.standard_normal((n_in, n_out)).astype(np.float32))
        self.b = zg.Parameter(rng.standard_normal(n_out).astype(np.float32))
        self.register_buffer("count", zg.Variable(np.array([seed], dtype=np.int64)))

    def forward(self, x):
        return F.tanh(F.matmul(x, self.W) + self.b)


class Net(zg.Layer):
    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.enc = Block(4, 5, seed)
        self.dec = Block(5, 3, seed + 1)
        self.scale = zg.Parameter(np.full(3, seed + 1.0, dtype=np.float32))

    def forward(self, x):
        return self.dec(self.enc(x)) * self.scale


def _state(layer: zg.Layer) -> dict[str, np.ndarray]:
    return {k: v.data.copy() for k, v in layer.named_state()}


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# -- formats -------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    src, dst = Net(0), Net(7)
    path = tmp_path / f"w{suffix}"
    src.save_weights(path)
    dst.load_weights(path)
    _assert_same(_state(dst), _state(src))
    assert dst.enc.count.data.dtype == np.int64  # buffers are saved too


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_round_trip_keeps_0d_parameters(tmp_path: Path, suffix: str) -> None:
    src, dst = zg.Layer(), zg.Layer()
    src.s = zg.Parameter(np.array(2.0, np.float32))
    dst.s = zg.Parameter(np.array(0.0, np.float32))
    path = tmp_path / f"w{suffix}"
    src.save_weights(path)
    dst.load_weights(path)
    assert dst.s.data.shape == () and dst.s.data == 2.0


def test_npz_uses_dezero_keys(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    Net(0).save_weights(path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(
            ["enc/W", "enc/b", "enc/count", "dec/W", "dec/b", "dec/count", "scale"]
        )
        np.testing.assert_array_equal(npz["enc/W"], Net(0).enc.W.data)


def test_safetensors_file_is_standard(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    path = tmp_path / "w.safetensors"
    Net(0).save_weights(path)
    tensors = load_file(str(path))
    np.testing.assert_array_equal(tensors["dec/b"], Net(0).dec.b.data)


def test_npz_suffix_is_added_like_numpy(tmp_path: Path) -> None:
    Net(0).save_weights(tmp_path / "weights")
    assert (tmp_path / "weights.npz").exists()
    model = Net(3)
    model.load_weights(tmp_path / "weights")  # found with the suffix, as numpy writes it
    _assert_same(_state(model), _state(Net(0)))


def test_loads_a_dezero_style_file(tmp_path: Path) -> None:
    # DeZero writes np.savez_compressed(path, **{"enc/W": ..., ...}).
    ref = Net(2)
    np.savez_compressed(tmp_path / "dz.npz", **{k: v.data for k, v in ref.named_state()})
    model = Net(0)
    model.load_weights(tmp_path / "dz.npz")
    _assert_same(_state(model), _state(ref))


def test_load_into_lazy_parameters(tmp_path: Path) -> None:
    Net(1).save_weights(tmp_path / "w.npz")
    model = Net(0)
    model.enc.W.data = None  # as a Linear layer before its first call
    model.load_weights(tmp_path / "w.npz")
    _assert_same(_state(model), _state(Net(1)))


def test_saving_uninitialized_parameter_names_it(tmp_path: Path) -> None:
    model = Net(0)
    model.dec.W.data = None
    with pytest.raises(ValueError, match="'dec/W'.*not initialized"):
        model.save_weights(tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()
    assert os.listdir(tmp_path) == []


def test_load_bumps_versions(tmp_path: Path) -> None:
    model = Net(0)
    model.save_weights(tmp_path / "w.npz")
    y = model(zg.Variable(np.ones((2, 4), dtype=np.float32))).sum()
    model.load_weights(tmp_path / "w.npz")
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# -- validation: every problem names the key, and nothing is changed ----------------------
def _broken_net(kind: str) -> Net:
    net = Net(5)
    if kind == "missing":
        net.extra = zg.Parameter(np.zeros(2, dtype=np.float32))
    elif kind == "unexpected":
        del net.scale
    elif kind == "shape":
        net.dec.b = zg.Parameter(np.zeros(4, dtype=np.float32))
    elif kind == "dtype":
        net.dec.b = zg.Parameter(np.zeros(3, dtype=np.float64))
    return net


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("missing", r"missing key\(s\) \['extra'\]"),
        ("unexpected", r"unexpected key\(s\) \['scale'\]"),
        ("shape", r"'dec/b' has shape \(3,\) in the file, but \(4,\) in the model"),
        ("dtype", r"'dec/b' has dtype float32 in the file, but float64 in the model"),
    ],
)
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_mismatch_names_parameter_and_changes_nothing(
    tmp_path: Path, kind: str, pattern: str, suffix: str
) -> None:
    path = tmp_path / f"w{suffix}"
    Net(0).save_weights(path)
    net = _broken_net(kind)
    before = _state(net)
    with pytest.raises(CheckpointError, match=pattern):
        net.load_weights(path)
    _assert_same(_state(net), before)


def test_non_strict_skips_missing_and_unexpected(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    Net(0).save_weights(path)
    net = Net(5)
    del net.scale
    net.extra = zg.Parameter(np.zeros(2, dtype=np.float32))
    net.load_weights(path, strict=False)
    np.testing.assert_array_equal(net.enc.W.data, Net(0).enc.W.data)
    np.testing.assert_array_equal(net.extra.data, np.zeros(2, dtype=np.float32))


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize("keep", [0.5, 0.9, 0.02])
def test_truncated_file(tmp_path: Path, suffix: str, keep: float) -> None:
    path = tmp_path / f"w{suffix}"
    Net(0).save_weights(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    net = Net(3)
    before = _state(net)
    with pytest.raises(CheckpointError, match="w" + suffix.replace(".", r"\.")):
        net.load_weights(path)
    _assert_same(_state(net), before)


@pytest.mark.parametrize(
    "content",
    [b"hello, not weights", b"", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}", b"\x80\x04\x95"],
    ids=["text", "empty", "npy", "pickle"],
)
def test_wrong_magic(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    net = Net(3)
    before = _state(net)
    with pytest.raises(CheckpointError, match="not an npz file"):
        net.load_weights(path)
    _assert_same(_state(net), before)


def test_wrong_safetensors_header(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\xff" * 64)
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        Net(0).load_weights(path)


def test_pickled_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    arrays = {k: v.data for k, v in Net(0).named_state()}
    arrays["scale"] = np.array([object()], dtype=object)
    np.savez(path, **arrays)  # np.savez pickles object arrays
    with pytest.raises(CheckpointError, match="damaged|pickle"):
        Net(1).load_weights(path)


# -- atomic writes ---------------------------------------------------------------------------
def test_failed_save_keeps_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.npz"
    Net(0).save_weights(path)
    old = path.read_bytes()

    def failing_savez(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(KeyboardInterrupt):
        Net(1).save_weights(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["w.npz"]


_KILLED_WRITER = """
import os, sys, time
import numpy as np
sys.path.insert(0, {root!r})
import zerograd as zg
import zerograd.optimizers as O
from tests.test_serialization import Net

path, mode = sys.argv[1], sys.argv[2]
real_savez = np.savez

def slow_savez(f, **arrays):
    real_savez(f, **arrays)
    data_end = f.tell()
    f.seek(0)
    f.truncate(data_end // 2)  # half of the new file is on disk...
    f.flush()
    os.fsync(f.fileno())
    print("writing", flush=True)
    time.sleep(60)  # ...when the parent kills us

np.savez = slow_savez
model = Net(1)
if mode == "weights":
    model.save_weights(path)
else:
    zg.save(path, model, O.Adam().setup(model), extra={{"epoch": 2}})
"""


@pytest.mark.parametrize("mode", ["weights", "checkpoint"])
def test_killed_save_leaves_previous_file_readable(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "model.npz"
    old = Net(0)
    opt = O.Adam().setup(old)
    if mode == "weights":
        old.save_weights(path)
    else:
        zg.save(path, old, opt, extra={"epoch": 1})
    before = path.read_bytes()
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER.format(root=str(ROOT)))
    env = child_env()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), mode], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == "writing", line
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    # The half-written temporary is left behind (a killed process cleans up nothing), but the
    # target still holds the previous save, complete.
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.npz.")
    assert path.read_bytes() == before
    model = Net(9)
    if mode == "weights":
        model.load_weights(path)
    else:
        assert zg.load(path, model, O.Adam().setup(model))["epoch"] == 1
    _assert_same(_state(model), _state(Net(0)))
    # The next save to that path clears the dead writer's temporary.
    if mode == "weights":
        Net(2).save_weights(path)
    else:
        zg.save(path, Net(2), extra={"epoch": 3})
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "writer.py"]


def test_save_clears_only_stale_temporaries_of_its_own_path(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")  # POSIX: a live writer is one holding its lock

    path = tmp_path / "w.npz"
    stale = tmp_path / ".w.npz.0123456789abcdef.tmp"  # a dead writer's: no lock
    live = tmp_path / ".w.npz.fedcba9876543210.tmp"  # a live writer's: locked
    others = [
        ".w.npz.tmp",  # not our pattern
        ".w.npz.0123456789ABCDEF.tmp",
        ".v.npz.0123456789abcdef.tmp",  # another path's
        "w.npz.0123456789abcdef.tmp",
    ]
    for p in [stale, live, *(tmp_path / n for n in others)]:
        p.write_bytes(b"partial")
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    (tmp_path / ".w.npz.00000000000000aa.tmp").symlink_to(target)  # not a regular file
    with open(live, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        Net(0).save_weights(path)
        assert not stale.exists() and live.exists()
    for name in [*others, ".w.npz.00000000000000aa.tmp", "elsewhere"]:
        assert os.path.lexists(tmp_path / name), name
    assert target.read_bytes() == b"keep"
    Net(1).save_weights(path)  # the lock is free now: its writer is gone
    assert not live.exists()
    model = Net(5)
    model.load_weights(path)
    _assert_same(_state(model), _state(Net(1)))


# -- checkpoints -------------------------------------------------------------------------------
def _train(model: Net, opt: O.Optimizer, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):
        # Data drawn from the global RNG, like DataLoader's shuffles and dropout's masks.
        x = np.random.randn(8, 4).astype(np.float32)
        t = np.random.randn(8, 3).astype(np.float32)
        diff = model(x) - t
        loss = (diff * diff).sum()
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    return losses


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: O.Adam(alpha=0.01),
        lambda: O.MomentumSGD(lr=0.01),
        lambda: O.AdaDelta(),
        lambda: O.AdaGrad(lr=0.05),
        lambda: O.AdamW(alpha=0.01),
    ],
    ids=["Adam", "MomentumSGD", "AdaDelta", "AdaGrad", "AdamW"],
)
def test_resume_is_exact(tmp_path: Path, suffix: str, make) -> None:
    np.random.seed(0)
    model = Net(0)
    opt = make().setup(model)
    straight = _train(model, opt, 10)
    expected = _state(model)

    np.random.seed(0)
    model = Net(0)
    opt = make().setup(model)
    first = _train(model, opt, 4)
    path = tmp_path / f"ckpt{suffix}"
    zg.save(path, model, opt, extra={"epoch": 4, "note": "resume"})

    np.random.seed(12345)  # a fresh process: other weights, RNG elsewhere, no state
    model = Net(3)
    opt = make().setup(model)
    extra = zg.load(path, model, opt)
    assert extra == {"epoch": 4, "note": "resume"}
    rest = _train(model, opt, 6)
    assert first + rest == straight
    _assert_same(_state(model), expected)


def test_checkpoint_is_readable_as_weights(tmp_path: Path) -> None:
    model = Net(4)
    zg.save(tmp_path / "ckpt.npz", model, O.SGD().setup(model))
    other = Net(0)
    other.load_weights(tmp_path / "ckpt.npz")
    _assert_same(_state(other), _state(model))
    other = Net(0)
    assert zg.load(tmp_path / "ckpt.npz", other) == {}  # model only
    _assert_same(_state(other), _state(model))


def test_load_plain_weights_with_zerograd_load(tmp_path: Path) -> None:
    Net(4).save_weights(tmp_path / "w.npz")
    model = Net(0)
    assert zg.load(tmp_path / "w.npz", model) == {}
    _assert_same(_state(model), _state(Net(4)))
    with pytest.raises(CheckpointError, match="without optimizer state"):
        zg.load(tmp_path / "w.npz", model, O.SGD().setup(model))


def test_checkpoint_optimizer_mismatch_changes_nothing(tmp_path: Path) -> None:
    np.random.seed(0)
    model = Net(0)
    opt = O.Adam().setup(model)
    _train(model, opt, 2)
    zg.save(tmp_path / "ckpt.npz", model, opt)
    other = Net(5)
    before = _state(other)
    rng_before = np.random.get_state()[1].copy()
    with pytest.raises(CheckpointError, match="belongs to a Adam optimizer"):
        zg.load(tmp_path / "ckpt.npz", other, O.SGD().setup(other))
    _assert_same(_state(other), before)
    np.testing.assert_array_equal(np.random.get_state()[1], rng_before)


def test_checkpoint_header_and_rng_flag(tmp_path: Path) -> None:
    model = Net(0)
    zg.save(tmp_path / "c.npz", model, rng=False, extra={"epoch": 9})
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        meta = json.loads(npz["__zerograd__"].tobytes())
        assert "rng/keys" not in npz.files
    assert meta["format"] == "zerograd-checkpoint" and meta["extra"] == {"epoch": 9}
    with pytest.raises(TypeError, match="JSON"):
        zg.save(tmp_path / "d.npz", model, extra={"bad": object()})
    assert not (tmp_path / "d.npz").exists()


def test_checkpoint_restores_hyperparameters_and_counter(tmp_path: Path) -> None:
    np.random.seed(0)
    model = Net(0)
    opt = O.Adam(alpha=0.02, beta1=0.7).setup(model)
    _train(model, opt, 3)
    zg.save(tmp_path / "c.npz", model, opt)
    fresh = O.Adam().setup(model)
    zg.load(tmp_path / "c.npz", model, fresh)
    assert (fresh.t, fresh.alpha, fresh.beta1) == (3, 0.02, 0.7)
    for p in model.params():
        np.testing.assert_array_equal(fresh.state[p]["m"], opt.state[p]["m"])


def test_newer_checkpoint_version_is_refused(tmp_path: Path) -> None:
    meta = {"format": "zerograd-checkpoint", "version": 99}
    np.savez(
        tmp_path / "c.npz",
        __zerograd__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    with pytest.raises(CheckpointError, match="version 99"):
        zg.load(tmp_path / "c.npz", Net(0))


def test_saving_never_moves_the_model(tmp_path: Path, xp) -> None:
    model = Net(0)
    if xp is not np:
        model.to_gpu()
    zg.save(tmp_path / "c.npz", model, O.Adam().setup(model))
    model.save_weights(tmp_path / "w.safetensors")
    assert all(isinstance(v.data, xp.ndarray) for _, v in model.named_state())
    other = Net(2)
    if xp is not np:
        other.to_gpu()
    other.load_weights(tmp_path / "w.safetensors")
    assert all(isinstance(v.data, xp.ndarray) for _, v in other.named_state())
    _assert_same(
        {k: zg.cuda.as_numpy(v.data) for k, v in other.named_state()},
        {k: zg.cuda.as_numpy(v.data) for k, v in model.named_state()},
    )


def test_missing_safetensors_package_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"zerograd\[io\]"):
        Net(0).save_weights(tmp_path / "w.safetensors")


def test_public_names() -> None:
    assert zg.save is zg.serialization.save and zg.load is zg.serialization.load
    assert issubclass(CheckpointError, ValueError)
    assert zg.CheckpointError is CheckpointError and "CheckpointError" in zg.__all__
