"""safetensors files written and read with NumPy alone: the exact layout, every dtype, 0-d and
empty tensors, metadata, widening of float16/bfloat16, atomic writes, and interop with the
reference ``safetensors`` package (its NumPy API; the PyTorch round trip is in
tests/test_parity_safetensors.py)."""

from __future__ import annotations

import json
import os
import struct
import warnings

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn
from scratchnn.serialization import (
    CheckpointError,
    SafetensorsError,
    SafetensorsWidenedWarning,
    load,
    load_safetensors,
    load_safetensors_header,
    load_safetensors_metadata,
    save,
    save_safetensors,
)

ALL_DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64,
              np.int64, np.float32, np.float64]


def sample_state(rng: np.random.Generator) -> dict[str, np.ndarray]:
    state = {}
    for dtype in ALL_DTYPES:
        if dtype is np.bool_:
            value = rng.random((3, 2)) > 0.5
        elif np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, size=(2, 3), dtype=dtype, endpoint=True)
        else:
            value = rng.standard_normal((4, 5)).astype(dtype)
        state[f"t_{np.dtype(dtype).name}"] = value
    state["zero_d"] = np.array(2.5, dtype=np.float32)
    state["empty"] = np.zeros((0, 7), dtype=np.float32)
    state["empty_i64"] = np.zeros((3, 0), dtype=np.int64)
    return state


def parse(path) -> tuple[int, dict, bytes]:
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8:8 + n]), raw[8 + n:]


# ----------------------------------------------------------------------- the format
def test_layout_follows_the_spec_byte_for_byte(tmp_path):
    path = tmp_path / "w.safetensors"
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    steps = np.array(7, dtype=np.int64)
    flags = np.array([True, False, True])
    save_safetensors({"weight": weight, "steps": steps, "flags": flags}, path,
                     metadata={"format": "pt", "note": "hé"})
    raw = path.read_bytes()
    n, header, data = parse(path)
    assert n % 8 == 0 and (8 + n) % 8 == 0
    text = raw[8:8 + n].decode("utf-8")
    assert text == text.rstrip() + " " * (len(text) - len(text.rstrip()))  # padded with spaces
    assert text.startswith("{")
    assert header["__metadata__"] == {"format": "pt", "note": "hé"}
    # largest element first, then by name; offsets tile the data section exactly
    assert header["steps"] == {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}
    assert header["weight"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [8, 32]}
    assert header["flags"] == {"dtype": "BOOL", "shape": [3], "data_offsets": [32, 35]}
    assert len(data) == 35
    assert data[:8] == (7).to_bytes(8, "little")
    assert data[8:32] == weight.astype("<f4").tobytes()
    assert data[32:] == b"\x01\x00\x01"


def test_every_dtype_0d_and_empty_round_trip(tmp_path):
    state = sample_state(np.random.default_rng(0))
    path = tmp_path / "all.safetensors"
    save_safetensors(state, path)
    loaded = load_safetensors(path)
    assert set(loaded) == set(state)
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype, key
        assert loaded[key].shape == value.shape, key
        assert np.array_equal(loaded[key], value), key
        assert loaded[key].flags.writeable


def test_big_endian_and_non_contiguous_arrays_are_stored_little_endian_c_order(tmp_path):
    path = tmp_path / "x.safetensors"
    big = np.arange(4, dtype=">f8")
    strided = np.arange(12, dtype=np.float32).reshape(3, 4).T
    save_safetensors({"big": big, "strided": strided}, path)
    _, header, data = parse(path)
    begin, end = header["strided"]["data_offsets"]
    assert data[begin:end] == np.ascontiguousarray(strided).astype("<f4").tobytes()
    loaded = load_safetensors(path)
    assert loaded["big"].dtype == np.float64 and np.array_equal(loaded["big"], big)
    assert np.array_equal(loaded["strided"], strided)


def test_float16_and_bfloat16_are_widened_to_float32_with_a_warning(tmp_path):
    half = np.array([0.5, -2.0, 65504.0, 1e-4], dtype=np.float16)
    # bfloat16: the top 16 bits of these float32s (exactly representable)
    exact = np.array([1.0, -3.5, 2.0**100, 0.0078125], dtype=np.float32)
    bf16_bits = (exact.view(np.uint32) >> 16).astype("<u2")
    payload = json.dumps({
        "h": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
        "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]},
    }).encode()
    payload += b" " * (-len(payload) % 8)
    path = tmp_path / "half.safetensors"
    path.write_bytes(struct.pack("<Q", len(payload)) + payload + half.astype("<f2").tobytes()
                     + bf16_bits.tobytes())
    with pytest.warns(SafetensorsWidenedWarning, match="widened to float32"):
        loaded = load_safetensors(path)
    assert loaded["h"].dtype == np.float32 and np.array_equal(loaded["h"], half.astype(np.float32))
    assert loaded["b"].dtype == np.float32 and loaded["b"].shape == (2, 2)
    assert np.array_equal(loaded["b"].ravel(), exact)


def test_float16_arrays_are_written_as_f16(tmp_path):
    path = tmp_path / "h.safetensors"
    save_safetensors({"h": np.array([1.5], dtype=np.float16)}, path)
    assert parse(path)[1]["h"]["dtype"] == "F16"


def test_no_warning_without_half_precision(tmp_path):
    path = tmp_path / "x.safetensors"
    save_safetensors({"w": np.ones(3, np.float32)}, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_safetensors(path)


def test_metadata_and_header_read_alone(tmp_path):
    path = tmp_path / "m.safetensors"
    save_safetensors({"a": np.zeros((2, 3), np.float64)}, path, metadata={"k": "v"})
    assert load_safetensors_metadata(path) == {"k": "v"}
    assert load_safetensors_header(path) == {"a": ("F64", (2, 3))}
    save_safetensors({"a": np.zeros(1)}, path)
    assert load_safetensors_metadata(path) == {}


def test_save_and_load_choose_the_format_by_extension(tmp_path):
    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    st, npz = tmp_path / "m.SafeTensors", tmp_path / "m.npz"
    save(model.state_dict(), st)
    save(model.state_dict(), npz)
    assert st.read_bytes()[8:9] == b"{" and npz.read_bytes()[:2] == b"PK"
    for path in (st, npz):
        loaded = load(path)
        assert list(loaded) if path is npz else True
        other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        other.load_state_dict(loaded)
        x = sn.randn(5, 3)
        assert np.array_equal(other(x).numpy(), model(x).numpy())
    save({"w": np.ones(2, np.float32)}, st, metadata={"a": "b"})
    assert load_safetensors_metadata(st) == {"a": "b"}
    with pytest.raises(TypeError, match="only for .safetensors"):
        save({"w": np.ones(2)}, npz, metadata={"a": "b"})


def test_tensors_and_parameters_are_saved_as_their_arrays(tmp_path):
    path = tmp_path / "t.safetensors"
    save(dict(nn.Linear(2, 3).named_parameters()) | {"t": sn.tensor([1, 2])}, path)
    loaded = load(path)
    assert loaded["weight"].shape == (3, 2) and loaded["t"].dtype == np.int64


@pytest.mark.parametrize("bad, message", [
    ({"x": {"nested": np.ones(2)}}, "flat dict of arrays"),
    ({"x": [1, 2]}, "flat dict of arrays"),
    ({"x": np.array(["a"])}, "dtype <U1"),
    ({"x": np.ones(2, complex)}, "dtype complex128"),
    ({3: np.ones(2)}, "keys must be str"),
    ({"__metadata__": np.ones(2)}, "reserved"),
])
def test_unsavable_values_name_the_key_and_write_nothing(tmp_path, bad, message):
    path = tmp_path / "bad.safetensors"
    with pytest.raises((TypeError, ValueError), match=message):
        save(bad, path)
    assert os.listdir(tmp_path) == []


def test_a_module_or_bad_metadata_is_refused(tmp_path):
    with pytest.raises(TypeError, match=r"pass model.state_dict\(\)"):
        save_safetensors(nn.Linear(2, 2), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        save_safetensors({"a": np.ones(1)}, tmp_path / "m.safetensors", metadata={"n": 1})


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    save_safetensors({"w": np.ones(3, np.float32)}, path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        save_safetensors({"w": np.zeros(100, np.float32)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.safetensors"]


def test_missing_file_is_a_checkpoint_error_naming_it(tmp_path):
    with pytest.raises(CheckpointError, match="nope.safetensors: no such file"):
        load(tmp_path / "nope.safetensors")
    assert issubclass(SafetensorsError, CheckpointError)


# ------------------------------------------------------- interop with the reference package
def test_files_load_in_the_reference_package_and_back(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    state = sample_state(np.random.default_rng(1))
    ours = tmp_path / "ours.safetensors"
    save_safetensors(state, ours, metadata={"who": "scratchnn"})
    theirs_view = st_numpy.load_file(str(ours))
    assert set(theirs_view) == set(state)
    for key, value in state.items():
        assert theirs_view[key].dtype == value.dtype and np.array_equal(theirs_view[key], value)

    theirs = tmp_path / "theirs.safetensors"
    st_numpy.save_file(state, str(theirs), metadata={"who": "reference"})
    loaded = load_safetensors(theirs)
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value)
    assert load_safetensors_metadata(theirs) == {"who": "reference"}
    # same layout rules: the reference writer's bytes are ours
    save_safetensors(state, ours, metadata={"who": "reference"})
    assert ours.read_bytes() == theirs.read_bytes()


def test_reference_float16_files_are_widened(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "h.safetensors"
    half = np.array([[0.25, -1.0]], dtype=np.float16)
    st_numpy.save_file({"h": half}, str(path))
    with pytest.warns(SafetensorsWidenedWarning):
        loaded = load_safetensors(path)
    assert loaded["h"].dtype == np.float32 and np.array_equal(loaded["h"], half)


# ---------------------------------------------------------------- training checkpoints
def test_safetensors_checkpoints_hold_weights_and_a_json_record(tmp_path):
    import math

    from scratchnn import optim
    from scratchnn.serialization import (
        CheckpointMismatchError,
        load_checkpoint,
        load_checkpoint_record,
        save_checkpoint,
    )

    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "ckpt.safetensors"
    extra = {"history": [0.5, float("nan")], "mean": np.array([1.5, 2.0]),
             "shape": (28, 28), "n": np.int64(7), "name": "run"}
    save_checkpoint(path, model, epoch=3, extra=extra)
    assert set(load(path)) == set(model.state_dict())  # a plain state dict to other tools

    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    checkpoint = load_checkpoint(path, other)
    assert checkpoint["epoch"] == 3 and checkpoint["optimizer"] is None
    got = checkpoint["extra"]
    assert got["history"][0] == 0.5 and math.isnan(got["history"][1])
    assert got["mean"] == [1.5, 2.0] and got["shape"] == (28, 28) and got["n"] == 7
    for key, value in model.state_dict().items():
        assert np.array_equal(other.state_dict()[key], value)

    with pytest.raises(CheckpointError, match="holds the weights only, no optimizer state"):
        load_checkpoint(path, other, optim.SGD(other.parameters(), lr=0.1))
    wrong = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(CheckpointMismatchError, match="size mismatch for 0.weight"):
        load_checkpoint(path, wrong)
    plain = tmp_path / "plain.safetensors"
    save(model.state_dict(), plain)
    with pytest.raises(CheckpointError, match="not a scratchnn checkpoint"):
        load_checkpoint_record(plain)
