"""IDX reader/writer: round trips, the exact byte layout, and errors on bad files."""

import gzip
import struct

import numpy as np
import pytest

from scratchnn.data import DataError, read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)])
def test_round_trip(tmp_path, dtype, suffix, shape):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        a = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    path = tmp_path / f"a-idx{len(shape)}-ubyte{suffix}"
    write_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.shape == shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_byte_layout_matches_the_spec(tmp_path):
    path = tmp_path / "x"
    write_idx(path, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8))
    assert path.read_bytes() == bytes.fromhex("0000 0802 00000002 00000003 010203040506")
    # A hand-made big-endian int32 file, independent of write_idx.
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + struct.pack(">3i", -1, 256, 7)
    (tmp_path / "y").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "y"), [-1, 256, 7])


def test_gzip_detected_by_magic_not_name(tmp_path):
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    write_idx(tmp_path / "a.gz", a)
    (tmp_path / "gz-without-suffix").write_bytes((tmp_path / "a.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "gz-without-suffix"), a)
    write_idx(tmp_path / "raw", a)
    (tmp_path / "raw-named.gz").write_bytes((tmp_path / "raw").read_bytes())
    np.testing.assert_array_equal(read_idx(str(tmp_path / "raw-named.gz")), a)


def test_write_rejects_unsupported(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.uint8(3))


def header(code, dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def assert_data_error(path, *fragments):
    with pytest.raises(DataError) as info:
        read_idx(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(path) in str(err)
    for fragment in fragments:
        assert fragment in str(err)
    # No NumPy/zlib traceback chained underneath.
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return str(err)


def test_truncated_payload_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header(0x08, (60000, 28, 28)) + bytes(1000)))
    msg = assert_data_error(path, "truncated")
    assert "header says 60000x28x28 = 47040000 bytes, file has 1000" in msg


def test_trailing_payload(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(header(0x08, (4,)) + bytes(5))
    assert_data_error(path, "header says 4 = 4 bytes, file has 5")


def test_payload_size_uses_item_size(tmp_path):
    path = tmp_path / "floats"
    path.write_bytes(header(0x0D, (2, 3)) + bytes(6))  # needs 24 bytes for float32
    assert_data_error(path, "2x3 = 24 bytes, file has 6")


def test_corrupt_magic(tmp_path):
    path = tmp_path / "bad-magic"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    assert_data_error(path, "magic")


def test_wrong_type_code(tmp_path):
    path = tmp_path / "bad-type.gz"
    path.write_bytes(gzip.compress(header(0x0A, (2,)) + bytes(2)))
    assert_data_error(path, "type code 0x0A")


def test_missing_file(tmp_path):
    assert_data_error(tmp_path / "t10k-labels-idx1-ubyte", "No such file")


def test_directory_is_not_a_file(tmp_path):
    assert_data_error(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\x00\x00", header(0x08, (5, 5))[:9]])
def test_truncated_header(tmp_path, content):
    path = tmp_path / "short"
    path.write_bytes(content)
    assert_data_error(path)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_data_error(path, "truncated")


def test_corrupt_gzip_stream(tmp_path):
    path = tmp_path / "garbage.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    assert_data_error(path, "gzip")
