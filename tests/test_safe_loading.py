"""Crafted, corrupt and truncated files are refused with one clear line before anything large
is allocated, in every format: scratchnn .npz files (checkpoints, state dicts), plain .npz
archives and safetensors. The crafted files claim 10^12 elements while holding 16 bytes."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scratchnn.serialization import (
    CheckpointError,
    SafetensorsError,
    load,
    load_safetensors,
    load_safetensors_metadata,
    read_npz,
    save,
    save_safetensors,
)

HUGE = 10**12
SRC = Path(__file__).resolve().parents[1] / "src"


def npy_bytes(shape: tuple[int, ...], descr: str, data: bytes, version=(1, 0)) -> bytes:
    """A .npy file whose header says ``shape``/``descr``, followed by ``data`` (any length)."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buffer, header)
    else:
        np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue() + data


def rewrite_entry(path: Path, entry: str, payload: bytes,
                  compression: int = zipfile.ZIP_STORED) -> None:
    """Replace one member of a zip archive, keeping the others."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members[entry] = payload
    with zipfile.ZipFile(path, "w", compression) as target:
        for name, data in members.items():
            target.writestr(name, data)


def lying_checkpoint(path: Path) -> None:
    """A valid scratchnn file {"w": <2 float64>} whose array header then claims 10^12."""
    save({"w": np.array([1.0, 2.0])}, path)
    rewrite_entry(path, "a0.npy", npy_bytes((HUGE,), "<f8", np.ones(2).tobytes()))


def patch_zip_sizes(path: Path, entry: str, size: int) -> None:
    """Make the zip directory claim ``size`` uncompressed bytes for ``entry`` (the local
    header and the central directory both)."""
    raw = bytearray(path.read_bytes())
    name = entry.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            if raw[start + name_at:start + name_at + len(name)] == name:
                raw[start + size_at:start + size_at + 4] = struct.pack("<I", size)
            start += 4
    path.write_bytes(bytes(raw))


# ---------------------------------------------------------------------------------- npz
def test_the_crafted_npz_is_dangerous_for_a_plain_np_load(tmp_path):
    """Control: NumPy itself tries to allocate 8 TB for it."""
    path = tmp_path / "liar.npz"
    lying_checkpoint(path)
    with np.load(path) as archive, pytest.raises((MemoryError, ValueError)):
        archive["a0"]


def test_npz_array_header_claiming_10_to_the_12_elements_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    lying_checkpoint(path)
    with pytest.raises(CheckpointError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and "'a0.npy'" in message
    assert "(1000000000000,)" in message and "8000000000000 bytes" in message
    assert "holds 16 bytes" in message
    with pytest.raises(CheckpointError, match="declares shape"):
        read_npz(path)


def test_npz_header_claiming_fewer_bytes_than_present_is_refused(tmp_path):
    path = tmp_path / "short.npz"
    save({"w": np.zeros(4)}, path)
    rewrite_entry(path, "a0.npy", npy_bytes((1,), "<f8", np.zeros(4).tobytes()))
    with pytest.raises(CheckpointError, match=r"declares shape \(1,\).*holds 32 bytes"):
        load(path)


def test_npz_whose_zip_directory_also_lies_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    lying_checkpoint(path)
    patch_zip_sizes(path, "a0.npy", 0xFFFF0000)
    with pytest.raises(CheckpointError, match="stored entry 'a0.npy' claims 4294901760 bytes"):
        load(path)


def test_deflated_entry_with_an_impossible_ratio_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    save({"w": np.zeros(3)}, path)
    rewrite_entry(path, "a0.npy", npy_bytes((3,), "<f8", np.zeros(3).tobytes()),
                  compression=zipfile.ZIP_DEFLATED)
    patch_zip_sizes(path, "a0.npy", 0xFFFF0000)
    with pytest.raises(CheckpointError, match="impossible ratio"):
        load(path)


def test_compressed_npz_files_still_load(tmp_path):
    path = tmp_path / "c.npz"
    weights = np.arange(12.0).reshape(3, 4)
    np.savez_compressed(path, w=weights, f=np.asfortranarray(weights))
    arrays = read_npz(path)
    assert np.array_equal(arrays["w"], weights) and np.array_equal(arrays["f"], weights)
    assert arrays["w"].flags.writeable


def test_version_2_headers_are_read_and_unknown_versions_refused(tmp_path):
    path = tmp_path / "v.npz"
    save({"w": np.arange(3.0)}, path)
    rewrite_entry(path, "a0.npy", npy_bytes((3,), "<f8", np.arange(3.0).tobytes(), (2, 0)))
    assert np.array_equal(load(path)["w"], np.arange(3.0))
    payload = bytearray(npy_bytes((3,), "<f8", np.arange(3.0).tobytes()))
    payload[6] = 9
    rewrite_entry(path, "a0.npy", bytes(payload))
    with pytest.raises(CheckpointError, match="format version 9.0"):
        load(path)


@pytest.mark.parametrize("cut", [40, 200, -30, -1])
def test_truncated_npz_files_are_refused(tmp_path, cut):
    path = tmp_path / "cut.npz"
    save({"w": np.ones((10, 10), np.float32)}, path)
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(CheckpointError, match="cut.npz"):
        load(path)


def test_plain_npz_state_dicts_are_checked_too(tmp_path):
    path = tmp_path / "state.npz"
    np.savez(path, **{"0.weight": np.ones((2, 3), np.float32)})
    assert read_npz(path)["0.weight"].shape == (2, 3)
    rewrite_entry(path, "0.weight.npy", npy_bytes((HUGE, 3), "<f4", b"\0" * 16))
    with pytest.raises(CheckpointError, match=r"'0.weight.npy' declares shape"):
        read_npz(path)


def test_an_object_array_header_is_refused_before_reading(tmp_path):
    path = tmp_path / "obj.npz"
    save({"w": np.zeros(2)}, path)
    rewrite_entry(path, "a0.npy", npy_bytes((1,), "|O", b"cos\nsystem\n"))
    with pytest.raises(CheckpointError, match="would need pickle"):
        load(path)


def test_cli_evaluate_refuses_a_crafted_checkpoint_in_one_line(tmp_path):
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.3f}" for v in row) + f",{int(row[0] > 0)}"
            for row in rng.normal(size=(40, 3))]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "scratchnn", *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)

    lying_checkpoint(tmp_path / "m.npz")  # refused at the load, whatever the file holds
    result = cli("evaluate", "--checkpoint", "m.npz", "--data", "d.csv")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "m.npz" in lines[0] and "declares shape" in lines[0], lines


# -------------------------------------------------------------------------- safetensors
def st_file(path: Path, header: dict, data: bytes, header_size: int | None = None) -> Path:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    size = len(text) if header_size is None else header_size
    path.write_bytes(struct.pack("<Q", size) + text + data)
    return path


def entry(dtype: str, shape: list, begin: int, end: int) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


@pytest.mark.parametrize("header, data, size, message", [
    ({"w": entry("F64", [HUGE], 0, 16)}, b"\0" * 16, None,
     r"shape \[1000000000000\] of F64 needs 8000000000000 bytes but data_offsets \[0, 16\]"),
    ({"w": entry("F64", [HUGE], 0, 8 * HUGE)}, b"\0" * 16, None,
     r"need 8000000000000 bytes of data but the file holds 16 \(truncated\)"),
    ({"w": entry("F32", [2], 0, 8)}, b"\0" * 4, None, "truncated"),
    ({"w": entry("F32", [2], 0, 8)}, b"\0" * 12, None, "4 bytes after the last tensor"),
    ({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}, b"\0" * 12, None,
     "overlaps"),
    ({"a": entry("F32", [1], 4, 8)}, b"\0" * 8, None, "leaves a gap"),
    ({"w": entry("F32", [2], 8, 0)}, b"\0" * 8, None, "is not \\[begin, end\\]"),
    ({"w": entry("F8_E4M3", [2], 0, 2)}, b"\0" * 2, None, "dtype 'F8_E4M3' is not supported"),
    ({"w": entry("F32", [-1], 0, 0)}, b"", None, "not a list of sizes"),
    ({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, None, "exactly dtype, shape"),
    ({"__metadata__": {"n": 1}}, b"", None, "must map str to str"),
    ([1, 2], b"", None, "not a JSON object"),
    ({}, b"", 2**64 - 1, "the header claims 18446744073709551615 bytes"),
    ({"w": entry("F32", [1], 0, 4)}, b"\0" * 4, 10**6, "the header claims 1000000 bytes"),
])
def test_crafted_safetensors_headers_are_refused_in_one_line(tmp_path, header, data, size,
                                                             message):
    path = st_file(tmp_path / "bad.safetensors", header, data, size)
    with pytest.raises(SafetensorsError, match=message) as caught:
        load_safetensors(path)
    assert "\n" not in str(caught.value) and "bad.safetensors" in str(caught.value)
    with pytest.raises(CheckpointError):
        load(path)


def test_safetensors_header_that_is_not_json_or_has_duplicate_keys(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", 8) + b"{nope:  ")
    with pytest.raises(SafetensorsError, match="not valid JSON"):
        load_safetensors(path)
    text = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},' \
           b'"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\0")
    with pytest.raises(SafetensorsError, match="duplicate key 'a'"):
        load_safetensors(path)
    path.write_bytes(b"\1\0\0")
    with pytest.raises(SafetensorsError, match="only 3 bytes"):
        load_safetensors_metadata(path)


@pytest.mark.parametrize("keep", [0, 7, 8, 20, -1])
def test_truncated_safetensors_files_are_refused(tmp_path, keep):
    path = tmp_path / "t.safetensors"
    save_safetensors({"w": np.ones((4, 4), np.float32), "b": np.ones(4)}, path)
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(SafetensorsError, match="t.safetensors"):
        load_safetensors(path)


def test_load_checkpoint_checks_the_model_against_array_headers_before_reading_data(
    tmp_path, monkeypatch
):
    from scratchnn import nn
    from scratchnn.serialization import CheckpointMismatchError, load_checkpoint, npz
    from scratchnn.serialization import save_checkpoint as save_ckpt

    path = tmp_path / "ckpt.npz"
    save_ckpt(path, nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), epoch=1)
    data_reads = []
    read_member = npz._read_member

    def spy(name, size, archive, info, header_only=False):
        if not header_only and info.filename != "__scratchnn__.npy":
            data_reads.append(info.filename)
        return read_member(name, size, archive, info, header_only)

    monkeypatch.setattr(npz, "_read_member", spy)
    wrong = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 2))
    with pytest.raises(CheckpointMismatchError) as caught:
        load_checkpoint(path, wrong)
    assert data_reads == []  # refused from the headers alone
    message = str(caught.value)
    assert "ckpt.npz: the checkpoint does not fit the model" in message
    assert "size mismatch for 0.weight: copying a param with shape (4, 3)" in message
    assert caught.value.missing_keys == ["3.weight", "3.bias"]
    right = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert load_checkpoint(path, right)["epoch"] == 1 and data_reads
