"""scratchnn.save / load and training checkpoints: format, safety, atomicity, mismatches."""

from __future__ import annotations

import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn, optim
from scratchnn.nn import StateDictError
from scratchnn.serialization import (
    HEADER_KEY,
    CheckpointError,
    CheckpointMismatchError,
    load,
    load_checkpoint,
    save,
    save_checkpoint,
)


class Payload:
    """Unpickling this creates ``path``: proof that code ran during a load."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def make_model(hidden: int = 3) -> nn.Module:
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))


# ------------------------------------------------------------------------ round trip
def test_round_trip_keeps_every_leaf_type_and_dtype(tmp_path):
    sn.manual_seed(7)
    rng_state = sn.get_rng_state()
    obj = {
        "f64": np.linspace(0, 1, 5, dtype=np.float64),
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "i32": np.array([-1, 2], dtype=np.int32),
        "i64": np.array([2**40], dtype=np.int64),
        "u8": np.array([[255, 0]], dtype=np.uint8),
        "bools": np.array([True, False]),
        "zero_d": np.array(3.5, dtype=np.float16),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "tensor": sn.tensor([[1.0, 2.0]]),
        "np_scalar": np.float32(0.25),
        "np_int": np.int64(-3),
        "big": 2**127 + 1,
        "neg_big": -(2**200),
        "int": 3,
        "float": 0.1,
        "neg_zero": -0.0,
        "nan": float("nan"),
        "inf": float("inf"),
        "true": True,
        "none": None,
        "text": "héllo {epoch}",
        "list": [1, [2.5, "x"], []],
        "tuple": (1, (2, 3)),
        3: {"int key": 1},
        (0, "a"): "tuple key",
        "rng": rng_state,
        "nested": {"state": {0: {"momentum_buffer": np.ones(2, dtype=np.float32)}}},
        "empty_dict": {},
    }
    path = tmp_path / "tree.npz"
    save(obj, path)
    back = load(path)

    assert list(back) == list(obj)
    for key in ("f64", "f32", "i32", "i64", "u8", "bools", "zero_d", "empty"):
        assert isinstance(back[key], np.ndarray)
        assert back[key].dtype == obj[key].dtype and back[key].shape == obj[key].shape
        assert np.array_equal(back[key], obj[key])
    assert isinstance(back["tensor"], np.ndarray) and back["tensor"].dtype == np.float32
    assert np.array_equal(back["tensor"], [[1.0, 2.0]])
    assert type(back["np_scalar"]) is np.float32 and back["np_scalar"] == 0.25
    assert type(back["np_int"]) is np.int64 and back["np_int"] == -3
    assert back["big"] == 2**127 + 1 and type(back["big"]) is int
    assert back["neg_big"] == -(2**200)
    assert type(back["int"]) is int and type(back["float"]) is float and back["float"] == 0.1
    assert math.copysign(1.0, back["neg_zero"]) == -1.0
    assert math.isnan(back["nan"]) and back["inf"] == math.inf
    assert back["true"] is True and back["none"] is None
    assert back["text"] == "héllo {epoch}"
    assert back["list"] == [1, [2.5, "x"], []]
    assert back["tuple"] == (1, (2, 3)) and isinstance(back["tuple"][1], tuple)
    assert back[3] == {"int key": 1}
    assert back[(0, "a")] == "tuple key"
    assert back["rng"] == rng_state
    buffer = back["nested"]["state"][0]["momentum_buffer"]
    assert buffer.dtype == np.float32 and np.array_equal(buffer, [1, 1])
    assert back["empty_dict"] == {}

    # The RNG state restores the exact stream.
    expected = sn.random.generator().random(3)
    sn.manual_seed(999)
    sn.set_rng_state(back["rng"])
    assert np.array_equal(sn.random.generator().random(3), expected)


def test_file_is_a_plain_npz_with_a_json_header(tmp_path):
    path = tmp_path / "x.npz"
    save({"w": np.ones(2, dtype=np.float32)}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert HEADER_KEY in archive.files
        assert archive[HEADER_KEY].dtype == np.uint8
        assert archive["a0"].dtype == np.float32
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [f"{HEADER_KEY}.npy", "a0.npy"]


def test_numpy_without_savez_allow_pickle_gets_no_extra_entry(tmp_path, monkeypatch):
    real_savez = np.savez

    def savez_of_numpy_1_26(file, *args, **kwds):  # its signature: any keyword is an array
        if "allow_pickle" in kwds:
            kwds["allow_pickle_as_array"] = kwds.pop("allow_pickle")
        real_savez(file, *args, **kwds)

    monkeypatch.setattr(np, "savez", savez_of_numpy_1_26)
    save({"w": np.arange(3.0)}, tmp_path / "old.npz")
    monkeypatch.undo()
    with np.load(tmp_path / "old.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted([HEADER_KEY, "a0"])
    assert np.array_equal(load(tmp_path / "old.npz")["w"], [0.0, 1.0, 2.0])


def test_values_that_would_need_pickle_are_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="pickle"):
        save({"bad": np.array([object()], dtype=object)}, path)
    with pytest.raises(TypeError, match=r"obj\['bad'\]\[1\].*set"):
        save({"bad": [1, {2}]}, path)
    assert list(tmp_path.iterdir()) == []


def test_save_state_dicts_of_model_and_optimizer_round_trip(tmp_path):
    sn.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    loss = nn.CrossEntropyLoss()(model(sn.randn(4, 2)), sn.tensor([0, 1, 1, 0]))
    loss.backward()
    optimizer.step()
    save({"model": model.state_dict(), "optim": optimizer.state_dict()}, tmp_path / "s.npz")
    back = load(tmp_path / "s.npz")
    assert list(back["model"]) == list(model.state_dict())
    state = optimizer.state_dict()
    assert back["optim"]["param_groups"] == state["param_groups"]
    assert set(back["optim"]["state"]) == set(state["state"])  # int keys stay ints
    for index, entries in state["state"].items():
        for name, value in entries.items():
            assert np.array_equal(back["optim"]["state"][index][name], value)


# ------------------------------------------------------------------------- atomicity
def test_crash_between_write_and_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.array([1.0, 2.0])}, path)

    def crash(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        save({"w": np.array([3.0, 4.0])}, path)
    monkeypatch.undo()

    assert np.array_equal(load(path)["w"], [1.0, 2.0])
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary file left


def test_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.array([1.0])}, path)

    def half_write(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", half_write)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.array([2.0])}, path)
    monkeypatch.undo()
    assert np.array_equal(load(path)["w"], [1.0])
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_saving_into_a_missing_directory_names_it_and_writes_nothing(tmp_path):
    target = tmp_path / "no_such_dir" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as info:
        save({"w": np.zeros(2)}, target)
    message = str(info.value)
    assert f"cannot save to {target}" in message and "no_such_dir" in message
    assert ".tmp" not in message  # the user never named a temporary file
    assert list(tmp_path.iterdir()) == []


def test_data_is_fsynced_before_the_rename_and_the_directory_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        assert os.path.dirname(os.fspath(src)) == os.path.dirname(os.fspath(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save({"w": np.zeros(3)}, tmp_path / "x.npz")
    if os.path.isdir("/proc/self/fd"):
        assert events == ["fsync-file", "replace", "fsync-dir"]
    else:  # pragma: no cover - not Linux
        assert events[:2] == ["fsync-file", "replace"]


# ----------------------------------------------------------------------------- safety
def _assert_refused(path, marker):
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert not marker.exists(), "the pickle payload ran during load"


def test_npz_with_an_object_array_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    header = '{"format":"scratchnn","version":1,"tree":{"$array":"a0"}}'
    np.savez(
        path,
        allow_pickle=True,
        **{
            HEADER_KEY: np.frombuffer(header.encode(), dtype=np.uint8),
            "a0": np.array([Payload(str(marker))], dtype=object),
        },
    )
    _assert_refused(path, marker)
    # Control: the payload is live, so the assertion above could have failed.
    with np.load(path, allow_pickle=True) as archive:
        archive["a0"]
    assert marker.exists()


def test_raw_pickle_and_object_npy_files_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps({"model": Payload(str(marker))}))
    _assert_refused(pickled, marker)

    npy = tmp_path / "objects.npz"
    with open(npy, "wb") as file:
        np.save(file, np.array([Payload(str(marker))], dtype=object), allow_pickle=True)
    _assert_refused(npy, marker)

    pickle.loads(pickled.read_bytes())  # control: the payload works
    assert marker.exists()


@pytest.mark.parametrize("case", ["missing", "empty", "truncated", "text", "foreign_npz",
                                  "npy", "bad_version", "bad_reference", "nested_too_deeply"])
def test_unreadable_files_raise_checkpoint_error_naming_the_file(tmp_path, case):
    path = tmp_path / f"{case}.npz"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        save({"w": np.ones(100)}, path)
        path.write_bytes(path.read_bytes()[:150])
    elif case == "text":
        path.write_text("not a checkpoint")
    elif case == "foreign_npz":
        np.savez(path, w=np.ones(2))
    elif case == "npy":
        with open(path, "wb") as file:
            np.save(file, np.ones(2))
    elif case in ("bad_version", "bad_reference", "nested_too_deeply"):
        tree = '{"$array":"a7"}' if case == "bad_reference" else "1"
        if case == "nested_too_deeply":  # a crafted header: 100,000 nested lists
            tree = "[" * 100_000 + "]" * 100_000
        version = 99 if case == "bad_version" else 1
        header = f'{{"format":"scratchnn","version":{version},"tree":{tree}}}'
        np.savez(path, **{HEADER_KEY: np.frombuffer(header.encode(), dtype=np.uint8)})
    with pytest.raises(CheckpointError, match=case):
        load(path)
    assert issubclass(CheckpointError, ValueError)


# ------------------------------------------------------------------------ checkpoints
def _trained(seed: int = 0):
    sn.manual_seed(seed)
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(2):
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(sn.randn(4, 2)), sn.tensor([0, 1, 1, 0])).backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler


def test_load_checkpoint_restores_model_optimizer_scheduler_rng_and_epoch(tmp_path):
    model, optimizer, scheduler = _trained()
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, optimizer, scheduler, epoch=2, extra={"note": "hi"})
    next_draw = sn.random.generator().random(4)

    sn.manual_seed(123)
    model2 = make_model()
    optimizer2 = optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    scheduler2 = optim.lr_scheduler.StepLR(optimizer2, step_size=1, gamma=0.5)
    info = load_checkpoint(path, model2, optimizer2, scheduler2)

    assert info["epoch"] == 2 and info["extra"] == {"note": "hi"}
    for key, value in model.state_dict().items():
        assert np.array_equal(model2.state_dict()[key], value)
    for p, p2 in zip(model.parameters(), model2.parameters(), strict=True):
        assert np.array_equal(
            optimizer.state[p]["momentum_buffer"], optimizer2.state[p2]["momentum_buffer"]
        )
    assert optimizer2.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] == 0.025
    assert scheduler2.last_epoch == scheduler.last_epoch == 2
    assert np.array_equal(sn.random.generator().random(4), next_draw)


def test_load_checkpoint_mismatch_lists_missing_unexpected_and_misshaped_keys(tmp_path):
    model, optimizer, _ = _trained()
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, optimizer, epoch=1)

    class Other(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(2, 3)
            self.body = nn.Sequential(nn.Linear(2, 5))

    sn.manual_seed(5)
    other = Other()
    other.add_module("0", nn.Linear(2, 4))  # "0.weight": shape (4, 2) instead of (3, 2)
    before = other.state_dict()
    with pytest.raises(CheckpointMismatchError) as info:
        load_checkpoint(path, other)
    error = info.value
    assert isinstance(error, CheckpointError) and isinstance(error, StateDictError)
    message = str(error)
    assert str(path) in message
    for key in ("first.weight", "body.0.bias", "2.weight", "2.bias", "0.weight"):
        assert key in message
    assert set(error.missing_keys) == {"first.weight", "first.bias", "body.0.weight",
                                       "body.0.bias"}
    assert set(error.unexpected_keys) == {"2.weight", "2.bias"}
    assert [m[0] for m in error.shape_mismatches] == ["0.weight", "0.bias"]
    for key, value in before.items():  # nothing was changed
        assert np.array_equal(other.state_dict()[key], value)


def test_load_checkpoint_needs_the_states_it_is_asked_for(tmp_path):
    model, optimizer, _ = _trained()
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, None, epoch=1)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(path, make_model(), optim.SGD(make_model().parameters(), lr=0.1))
    save({"model": model.state_dict()}, tmp_path / "plain.npz")
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "plain.npz", make_model())


def test_failed_optimizer_restore_puts_the_model_back(tmp_path):
    model, optimizer, _ = _trained()
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, optimizer, epoch=1)
    sn.manual_seed(9)
    model2 = make_model()
    before = model2.state_dict()
    wrong = optim.SGD([{"params": [model2[0].weight]}, {"params": [model2[0].bias]}], lr=0.1)
    with pytest.raises(CheckpointError, match="parameter groups"):
        load_checkpoint(path, model2, wrong)
    for key, value in before.items():
        assert np.array_equal(model2.state_dict()[key], value)
