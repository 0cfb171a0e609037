"""The safetensors format, read and written with NumPy alone (no ``safetensors`` package).

Layout of a ``.safetensors`` file (what PyTorch and the model hubs share weights in)::

    8 bytes     N, the header's length: an unsigned 64-bit little-endian integer
    N bytes     a UTF-8 JSON object, padded with spaces to a multiple of 8 bytes:
                {"__metadata__": {str: str, ...},                    (optional)
                 "<name>": {"dtype": "F32", "shape": [128, 784],
                            "data_offsets": [begin, end]}, ...}
    the rest    the tensors' raw bytes, little-endian, C order; ``data_offsets`` are relative
                to the start of this section and the tensors tile it exactly (no gaps, no
                overlaps, nothing after the last one)

Nothing in a safetensors file can run code. Loading checks the whole header against the file's
real size *before* allocating anything: a header that claims more bytes than the file holds,
offsets that overlap, leave gaps or disagree with ``shape x dtype``, an unknown dtype or
malformed JSON are refused with one :class:`SafetensorsError` line naming the file.

Writing follows the reference writer: tensors are laid out widest dtype first, then by name;
the header is compact JSON padded with spaces so the data starts 8-byte aligned; the file is
written atomically (a temporary file renamed over the target).
"""

from __future__ import annotations

import json
import math
import os
import struct
import warnings
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from scratchnn.serialization.npz import CheckpointError, PathLike, atomic_write
from scratchnn.tensor import Tensor

# safetensors dtype name -> little-endian NumPy dtype (BF16 has no NumPy dtype: see _widen)
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # raw bits; widened to float32 when read
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
}
_NAME_OF_KIND_SIZE = {
    (np.dtype(dtype).kind, np.dtype(dtype).itemsize): name
    for name, dtype in DTYPES.items()
    if name != "BF16"
}
# the reference writer lays tensors out by this order of dtypes, last first, then by name
_LAYOUT_RANK = {name: rank for rank, name in enumerate(
    ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
)}
WIDENED = ("F16", "BF16")  # read as float32, with a warning
MAX_HEADER_BYTES = 100_000_000  # the reference reader's limit
METADATA_KEY = "__metadata__"


class SafetensorsError(CheckpointError):
    """A file is not a valid safetensors file (the message names the file and the problem)."""


class SafetensorsWidenedWarning(UserWarning):
    """F16/BF16 tensors were read as float32 (scratchnn computes in float32/float64)."""


# --------------------------------------------------------------------------------- writing
def _as_array(key: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, Mapping | list | tuple) or not isinstance(value, np.ndarray | np.generic):
        raise TypeError(
            f"save_safetensors: {key!r} is a {type(value).__name__}; a safetensors file holds "
            "a flat dict of arrays/Tensors (save nested checkpoints as .npz)"
        )
    return np.asarray(value)


def _dtype_name(key: str, array: np.ndarray) -> str:
    name = _NAME_OF_KIND_SIZE.get((array.dtype.kind, array.dtype.itemsize))
    if name is None:
        raise TypeError(
            f"save_safetensors: {key!r} has dtype {array.dtype}, which safetensors cannot "
            "hold (bool, int8-64, uint8-64, float16/32/64 only)"
        )
    return name


def encode_safetensors(
    state_dict: Mapping[str, Any], metadata: Mapping[str, str] | None = None
) -> tuple[bytes, list[np.ndarray]]:
    """The padded header (with its 8-byte length in front) and the arrays in file order."""
    if not isinstance(state_dict, Mapping):
        hint = " (pass model.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(
            f"save_safetensors: expected a dict of name -> array, got "
            f"{type(state_dict).__name__}{hint}"
        )
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    entries = []
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save_safetensors: keys must be str, got {key!r}")
        if key == METADATA_KEY:
            raise ValueError(f"save_safetensors: {METADATA_KEY!r} is reserved for the metadata")
        array = _as_array(key, value)
        name = _dtype_name(key, array)
        array = np.asarray(array, dtype=DTYPES[name], order="C")  # little-endian, C order
        entries.append((key, name, array))
    # the reference layout: dtypes in its order (widest first), then names
    entries.sort(key=lambda entry: (-_LAYOUT_RANK[entry[1]], entry[0]))
    header: dict[str, Any] = {}
    if metadata:
        header[METADATA_KEY] = dict(metadata)
    offset = 0
    for key, name, array in entries:
        header[key] = {
            "dtype": name,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, [array for _, _, array in entries]


def save_safetensors(
    state_dict: Mapping[str, Any], path: PathLike, metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``state_dict`` (name -> np.ndarray or Tensor) to ``path`` as safetensors,
    atomically, with optional ``metadata`` (str -> str). Loads in
    ``safetensors.torch.load_file`` (same names, shapes, dtypes)."""
    prefix, arrays = encode_safetensors(state_dict, metadata)

    def write(file: IO[bytes]) -> None:
        file.write(prefix)
        for array in arrays:
            file.write(array.reshape(-1).view(np.uint8).data)

    atomic_write(path, write)


# --------------------------------------------------------------------------------- reading
def _fail(name: str, problem: str) -> SafetensorsError:
    return SafetensorsError(f"{name}: not a valid safetensors file: {problem}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r} in the header")
        result[key] = value
    return result


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_header(
    file: IO[bytes], name: str, file_size: int
) -> tuple[int, dict[str, str], list[tuple[str, str, tuple[int, ...], int, int]]]:
    """Parse and check the header: returns (where the data starts, metadata, and the tensors
    as (key, dtype, shape, begin, end) in file order). Nothing is allocated beyond the header,
    whose size is checked against the file first."""
    prefix = file.read(8)
    if len(prefix) < 8:
        raise _fail(name, f"only {file_size} bytes (the 8-byte header length is missing)")
    (header_size,) = struct.unpack("<Q", prefix)
    if header_size > file_size - 8:
        raise _fail(
            name, f"the header claims {header_size} bytes but the file has {file_size - 8} "
            "after the length field (truncated or corrupt)"
        )
    if header_size > MAX_HEADER_BYTES:
        raise _fail(name, f"header of {header_size} bytes (more than {MAX_HEADER_BYTES})")
    raw = file.read(header_size)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _fail(name, f"the header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise _fail(name, "the header is not a JSON object")

    metadata = header.pop(METADATA_KEY, None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(value, str) for value in metadata.values()
    ):
        raise _fail(name, f"{METADATA_KEY!r} must map str to str")

    tensors = []
    for key, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _fail(name, f"tensor {key!r}: entry needs exactly dtype, shape, data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise _fail(
                name, f"tensor {key!r}: dtype {dtype!r} is not supported "
                f"(supported: {', '.join(DTYPES)})"
            )
        if not isinstance(shape, list) or not all(_is_count(size) for size in shape):
            raise _fail(name, f"tensor {key!r}: shape {shape!r} is not a list of sizes >= 0")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(offset) for offset in offsets)
            or offsets[0] > offsets[1]
        ):
            raise _fail(name, f"tensor {key!r}: data_offsets {offsets!r} is not [begin, end]")
        needed = math.prod(shape) * DTYPES[dtype].itemsize  # Python ints: no overflow
        if offsets[1] - offsets[0] != needed:
            raise _fail(
                name, f"tensor {key!r}: shape {shape} of {dtype} needs {needed} bytes but "
                f"data_offsets {offsets} span {offsets[1] - offsets[0]}"
            )
        tensors.append((key, dtype, tuple(shape), offsets[0], offsets[1]))

    tensors.sort(key=lambda tensor: (tensor[3], tensor[4]))
    data_size = file_size - 8 - header_size
    position = 0
    for key, _, _, begin, end in tensors:
        if begin != position:
            problem = "overlaps the previous tensor" if begin < position else "leaves a gap"
            raise _fail(name, f"tensor {key!r}: data_offsets [{begin}, {end}] {problem}")
        position = end
    if position != data_size:
        if position > data_size:
            problem = f"the tensors need {position} bytes of data but the file holds {data_size}"
            raise _fail(name, problem + " (truncated)")
        raise _fail(name, f"{data_size - position} bytes after the last tensor")
    return 8 + header_size, metadata, tensors


def _widen(dtype: str, array: np.ndarray) -> np.ndarray:
    if dtype == "BF16":  # bfloat16 = the top 16 bits of a float32
        return (array.astype("<u4") << 16).view("<f4").astype(np.float32)
    return array.astype(np.float32)


def _open(path: PathLike) -> tuple[str, IO[bytes], int]:
    name = os.fspath(path)
    try:
        file = open(name, "rb")  # noqa: SIM115 (the caller closes it)
    except FileNotFoundError:
        raise SafetensorsError(f"{name}: no such file") from None
    except OSError as error:
        raise SafetensorsError(f"{name}: cannot read: {error.strerror or error}") from None
    return name, file, os.fstat(file.fileno()).st_size


def load_safetensors_metadata(path: PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (``{}`` if none), reading only the header
    (which is checked in full)."""
    name, file, size = _open(path)
    with file:
        return read_header(file, name, size)[1]


def load_safetensors_header(path: PathLike) -> dict[str, tuple[str, tuple[int, ...]]]:
    """name -> (dtype name, shape) of every tensor, from the (fully checked) header only."""
    name, file, size = _open(path)
    with file:
        return {key: (dtype, shape) for key, dtype, shape, _, _ in read_header(file, name, size)[2]}


def load_safetensors_with_metadata(
    path: PathLike,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(name -> np.ndarray, metadata) from a safetensors file; see :func:`load_safetensors`."""
    name, file, size = _open(path)
    widened = []
    tensors: dict[str, np.ndarray] = {}
    with file:
        start, metadata, entries = read_header(file, name, size)
        file.seek(start)
        for key, dtype, shape, begin, end in entries:
            buffer = bytearray(end - begin)
            if file.readinto(buffer) != len(buffer):
                raise _fail(name, f"tensor {key!r}: the file ended early (truncated)")
            array = np.frombuffer(buffer, dtype=DTYPES[dtype]).reshape(shape)
            if dtype in WIDENED:
                array = _widen(dtype, array)
                widened.append(key)
            elif not array.dtype.isnative:
                array = array.astype(array.dtype.newbyteorder("="))
            tensors[key] = array
    if widened:
        shown = ", ".join(repr(key) for key in widened[:5]) + (" ..." if len(widened) > 5 else "")
        warnings.warn(
            f"{name}: {len(widened)} float16/bfloat16 tensor(s) ({shown}) were widened to "
            "float32",
            SafetensorsWidenedWarning,
            stacklevel=3,
        )
    return tensors, metadata


def load_safetensors(path: PathLike) -> dict[str, np.ndarray]:
    """name -> np.ndarray (writable, native byte order) of every tensor in a safetensors file
    (e.g. one written by ``safetensors.torch.save_file``), in file order. F16 and BF16 tensors
    come back as float32 with a :class:`SafetensorsWidenedWarning`. A corrupt, truncated or
    crafted file raises :class:`SafetensorsError` before anything large is allocated."""
    return load_safetensors_with_metadata(path)[0]
