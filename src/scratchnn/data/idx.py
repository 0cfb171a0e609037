"""The IDX file format, in which MNIST and Fashion-MNIST are distributed.

An IDX file is a tiny header followed by the raw array, all big-endian::

    bytes 0-1   0x00 0x00                  (magic)
    byte  2     type code                  (0x08 = uint8, see _TYPES below)
    byte  3     ndim                       (3 for images: N, rows, cols)
    then ndim   uint32 dims                (e.g. 60000, 28, 28)
    then        prod(dims) items of the type, row-major (C order)

Files are often gzipped (``*.gz``); ``read_idx`` detects that from the gzip magic bytes
(0x1f 0x8b), not from the name.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from scratchnn.data.dataset import DataError

# type code -> big-endian dtype
_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),  # unsigned byte
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
}
_CODES: dict[np.dtype, int] = {dt.newbyteorder("="): code for code, dt in _TYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a native-endian array of shape ``dims``.

    Raises ``DataError`` naming the file if it is missing, unreadable, not IDX, or its
    payload does not match the header.
    """
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as e:
        raise DataError(f"{name}: cannot read file: {e.strerror or e}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except EOFError:
            raise DataError(f"{name}: truncated gzip stream (download incomplete?)") from None
        except (OSError, zlib.error) as e:
            raise DataError(f"{name}: corrupt gzip data: {e}") from None
    return _parse_idx(raw, name)


def _parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ``name`` is used in error messages."""
    if len(raw) < 4:
        raise DataError(f"{name}: too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"{name}: not an IDX file: bad magic {raw[:4].hex(' ')} (expected 00 00 <type> <ndim>)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        known = ", ".join(f"0x{c:02X}" for c in _TYPES)
        raise DataError(f"{name}: unsupported IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DataError(f"{name}: IDX header says 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"{name}: truncated header: {ndim} dims need {header} bytes, file has {len(raw)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "trailing data"
        shape = "x".join(map(str, dims))
        raise DataError(f"{name}: {what}: header says {shape} = {expected} bytes, file has {got}")
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(dims), offset=header)
    # astype makes a writable, native-endian copy (the buffer itself is read-only bytes).
    return data.astype(dtype.newbyteorder("=")).reshape(dims)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64; ndim >= 1) as IDX.

    The file is gzipped when ``path`` ends in ``.gz``.
    """
    a = np.asarray(array)
    native = a.dtype.newbyteorder("=")
    if native not in _CODES:
        names = ", ".join(str(d) for d in _CODES)
        raise ValueError(f"IDX cannot store dtype {a.dtype}; use one of: {names}")
    if not 1 <= a.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got shape {a.shape}")
    if any(d >= 2**32 for d in a.shape):
        raise ValueError(f"IDX dimensions must be < 2**32, got shape {a.shape}")
    header = bytes([0, 0, _CODES[native], a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    payload = header + np.ascontiguousarray(a, dtype=_TYPES[_CODES[native]]).tobytes()
    if os.fspath(path).endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    Path(path).write_bytes(payload)
