"""Saving and loading state dicts and training checkpoints, safely and atomically.

File format
-----------
A scratchnn file is an ordinary ``.npz`` archive (``np.savez``) holding

* one entry per array leaf (``a0``, ``a1``, ...), and
* ``__scratchnn__``: a UTF-8 JSON document (stored as a ``uint8`` array) describing the tree::

      {"format": "scratchnn", "version": 1, "tree": <node>}

  where a node is a JSON ``null``/``true``/``false``/number/string (Python ``None``, ``bool``,
  ``int`` of any size, finite ``float``, ``str``), a JSON list (Python ``list``), or a
  one-key object: ``{"$dict": [[key, value], ...]}`` (keys may be str, int, float, bool,
  None or tuples of those), ``{"$tuple": [...]}``, ``{"$array": "a0"}``,
  ``{"$scalar": "a1"}`` (a NumPy scalar, kept as a 0-d array to keep its dtype) or
  ``{"$float": "nan" | "inf" | "-inf"}``.

Nothing is ever pickled: object arrays are refused when saving, and files are read with
``np.load(allow_pickle=False)``, so loading a file cannot run code. Tensors are saved as their
arrays (and come back as ``np.ndarray``); every array keeps its dtype and shape.

Writes are atomic: the archive is written to a temporary file next to the target, flushed and
``fsync``-ed, then renamed over the target with ``os.replace`` (and the directory is
``fsync``-ed), so a crash during a save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import math
import os
import secrets
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from scratchnn.nn.module import Module, StateDictError
from scratchnn.random import get_rng_state, set_rng_state
from scratchnn.tensor import Tensor

PathLike = str | os.PathLike[str]

HEADER_KEY = "__scratchnn__"
FORMAT_NAME = "scratchnn"
FORMAT_VERSION = 1
CHECKPOINT_KIND = "scratchnn.checkpoint"


class CheckpointError(ValueError):
    """A file could not be saved or loaded as a scratchnn file (the message names the file)."""


class CheckpointMismatchError(CheckpointError, StateDictError):
    """A checkpoint's model state does not fit the model: missing, unexpected or mis-shaped
    keys (all listed, as in :class:`scratchnn.nn.StateDictError`, plus the file name)."""

    def __init__(
        self,
        message: str,
        missing_keys: list[str],
        unexpected_keys: list[str],
        shape_mismatches: list[tuple[str, tuple[int, ...], tuple[int, ...]]],
    ) -> None:
        StateDictError.__init__(self, message, missing_keys, unexpected_keys, shape_mismatches)


# ------------------------------------------------------------------------------ encoding
class _Encoder:
    """Turns a tree of Python/NumPy values into a JSON-able node plus a dict of arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _add_array(self, array: np.ndarray, where: str) -> str:
        if array.dtype.hasobject:
            raise TypeError(
                f"cannot save {where}: arrays of dtype {array.dtype} (Python objects) would "
                "need pickle, which scratchnn never uses"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def encode(self, value: Any, where: str = "obj") -> Any:
        # bool before int (bool is an int subclass); NumPy scalars before float (np.float64
        # is a float subclass) so they keep their dtype.
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, np.generic):
            return {"$scalar": self._add_array(np.asarray(value), where)}
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
        if isinstance(value, Tensor):
            return {"$array": self._add_array(value.data, where)}
        if isinstance(value, np.ndarray):
            return {"$array": self._add_array(np.asarray(value), where)}
        if isinstance(value, list):
            return [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
        if isinstance(value, Mapping):
            pairs = []
            for key, item in value.items():
                pairs.append([self._encode_key(key, where), self.encode(item, f"{where}[{key!r}]")])
            return {"$dict": pairs}
        raise TypeError(
            f"cannot save {where}: unsupported type {type(value).__name__} (supported: dict, "
            "list, tuple, np.ndarray, Tensor, NumPy scalars, int, float, bool, str, None)"
        )

    def _encode_key(self, key: Any, where: str) -> Any:
        if isinstance(key, np.generic) and not isinstance(key, np.flexible):
            key = key.item()  # a NumPy number as a dict key: store the Python number
        if key is None or isinstance(key, bool | str | int | float):
            return self.encode(key, where)
        if isinstance(key, tuple):
            return {"$tuple": [self._encode_key(k, where) for k in key]}
        raise TypeError(
            f"cannot save {where}: dict key {key!r} of type {type(key).__name__} "
            "(keys must be str, int, float, bool, None or tuples of those)"
        )


def _decode(node: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of ``_Encoder.encode``; raises ValueError on anything malformed."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, list):
        return [_decode(item, arrays) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"malformed node {str(node)[:80]}")
    tag, body = next(iter(node.items()))
    if tag == "$dict":
        if not isinstance(body, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in body
        ):
            raise ValueError("malformed $dict node")
        return {_decode(key, arrays): _decode(item, arrays) for key, item in body}
    if tag == "$tuple":
        if not isinstance(body, list):
            raise ValueError("malformed $tuple node")
        return tuple(_decode(item, arrays) for item in body)
    if tag in ("$array", "$scalar"):
        if not isinstance(body, str) or body not in arrays:
            raise ValueError(f"reference to a missing array entry {body!r}")
        array = arrays[body]
        if tag == "$scalar":
            if array.ndim != 0:
                raise ValueError(f"scalar entry {body!r} is not 0-d")
            return array[()]
        return array
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    raise ValueError(f"unknown node tag {tag!r}")


def _array_refs(node: Any) -> set[str]:
    """Names of the array entries a decoded-JSON tree refers to."""
    refs: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for tag, body in item.items():
                if tag in ("$array", "$scalar") and isinstance(body, str):
                    refs.add(body)
                else:
                    stack.append(body)
    return refs


# --------------------------------------------------------------------------- atomic write
def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (not possible on every OS: then a no-op)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then atomically move it onto
    ``path``. On any error the temporary file is removed and ``path`` is untouched."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, f"cannot save to {target}: no directory {str(directory)!r}", str(target)
        )
    temp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # 0o666 filtered by the umask: the same permissions as a file made with open(path, "w").
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


# -------------------------------------------------------------------------- save / load
def save(obj: Any, path: PathLike) -> None:
    """Save a state dict (or any tree of dicts/lists/tuples of arrays, Tensors, NumPy scalars,
    ints, floats, bools, strings and None) to ``path``, atomically. ``path`` is used as given
    (no ``.npz`` is appended). Raises ``TypeError`` for values that would need pickle."""
    encoder = _Encoder()
    tree = encoder.encode(obj)
    header = json.dumps(
        {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree},
        allow_nan=False,
        separators=(",", ":"),
    )
    entries = {HEADER_KEY: np.frombuffer(header.encode("utf-8"), dtype=np.uint8)}
    entries.update(encoder.arrays)
    atomic_write(path, lambda file: _savez(file, entries))


def _savez(file: IO[bytes], entries: dict[str, np.ndarray]) -> None:
    """``np.savez`` refusing pickle. NumPy < 2.1 has no ``allow_pickle`` parameter there and
    would store the flag as an array named ``allow_pickle`` (the encoder never hands it
    object arrays anyway)."""
    if "allow_pickle" in inspect.signature(np.savez).parameters:
        np.savez(file, allow_pickle=False, **entries)
    else:
        np.savez(file, **entries)


def _read_archive(name: str, archive: Any) -> Any:
    """Check the header of an open ``NpzFile`` and rebuild the tree it describes."""
    if HEADER_KEY not in archive.files:
        raise CheckpointError(
            f"{name}: not a scratchnn file (no {HEADER_KEY!r} entry in the archive)"
        )
    header = json.loads(bytes(archive[HEADER_KEY]).decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{name}: not a scratchnn file (unknown header)")
    if header.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{name}: unsupported scratchnn file version {header.get('version')!r} "
            f"(this version reads {FORMAT_VERSION})"
        )
    arrays = {}
    for key in sorted(_array_refs(header.get("tree"))):
        if key not in archive.files:
            raise CheckpointError(f"{name}: corrupt file (array entry {key!r} missing)")
        arrays[key] = archive[key]  # raises ValueError for object arrays (no pickle)
    return _decode(header.get("tree"), arrays)


def load(path: PathLike) -> Any:
    """Load what :func:`save` wrote. Never unpickles: a missing, corrupt or foreign file (or
    one containing object arrays) raises :class:`CheckpointError` naming the file.

    Every array entry's declared shape and dtype are checked against the bytes the file
    actually holds before anything is allocated (see :func:`read_npz`), so a crafted header
    claiming a huge shape is refused with one line instead of exhausting memory."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise CheckpointError(f"{name}: no such file")
    try:
        arrays = read_npz(name, lazy=True)
        with arrays:
            return _read_archive(name, arrays)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(
            f"{name}: not a readable scratchnn file: its header is nested too deeply"
        ) from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{name}: not a readable scratchnn file: {error}") from error


# ------------------------------------------------------------------------ safe .npz reading
# Deflate cannot expand data by more than about 1032:1; anything claiming more is a lie.
_MAX_DEFLATE_RATIO = 1100
_NPY_MAGIC = b"\x93NUMPY"


class _SafeNpz:
    """The entries of an ``.npz`` archive, each read on demand by :func:`_read_member` (like
    ``np.load``'s ``NpzFile``, but checked and never pickled). A context manager."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.size = os.path.getsize(name)
        self._file = open(name, "rb")  # noqa: SIM115 (closed by close())
        try:
            self._zip = zipfile.ZipFile(self._file)
        except BaseException:
            self._file.close()
            raise
        self.members = {}
        for info in self._zip.infolist():
            if info.filename.endswith(".npy"):
                self.members[info.filename[:-4]] = info
        self.files = list(self.members)

    def __getitem__(self, key: str) -> np.ndarray:
        return _read_member(self.name, self.size, self._zip, self.members[key])

    def declared(self, key: str) -> tuple[tuple[int, ...], np.dtype]:
        """(shape, dtype) of an entry from its header alone, checked against its size."""
        return _read_member(self.name, self.size, self._zip, self.members[key],
                            header_only=True)

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> _SafeNpz:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_sizes_in_zip(name: str, archive_size: int, info: zipfile.ZipInfo) -> None:
    """The zip directory's sizes for ``info`` must be possible in a file of ``archive_size``
    bytes: stored entries hold exactly their size, deflated ones at most ~1032x theirs."""
    entry = info.filename
    if info.compress_size > archive_size:
        raise CheckpointError(
            f"{name}: corrupt or truncated file: entry {entry!r} claims {info.compress_size} "
            f"bytes but the whole file has {archive_size}"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise CheckpointError(
            f"{name}: corrupt file: stored entry {entry!r} claims {info.file_size} bytes "
            f"uncompressed but {info.compress_size} stored"
        )
    if info.file_size > info.compress_size * _MAX_DEFLATE_RATIO + 1024:
        raise CheckpointError(
            f"{name}: corrupt file: entry {entry!r} claims {info.file_size} bytes "
            f"uncompressed from {info.compress_size} compressed (impossible ratio)"
        )


def _read_member(
    name: str, archive_size: int, archive: zipfile.ZipFile, info: zipfile.ZipInfo,
    header_only: bool = False,
) -> Any:
    """One ``.npy`` entry of an archive as a new writable array, after checking that the
    shape and dtype its header declares need exactly the bytes the entry holds
    (``header_only``: just that shape and dtype)."""
    entry = info.filename
    _check_sizes_in_zip(name, archive_size, info)
    with archive.open(info) as member:
        magic = member.read(8)
        if len(magic) < 8 or magic[:6] != _NPY_MAGIC:
            raise CheckpointError(f"{name}: corrupt file: entry {entry!r} is not a .npy array")
        version = (magic[6], magic[7])
        if version == (1, 0):
            read_header = np.lib.format.read_array_header_1_0
        elif version == (2, 0):
            read_header = np.lib.format.read_array_header_2_0
        else:
            raise CheckpointError(
                f"{name}: entry {entry!r} uses .npy format version {version[0]}.{version[1]}, "
                "which scratchnn does not read (1.0 and 2.0 only)"
            )
        try:
            shape, fortran_order, dtype = read_header(member)
        except ValueError as error:
            raise CheckpointError(
                f"{name}: corrupt file: entry {entry!r} has a bad header: {error}"
            ) from None
        if dtype.hasobject:
            raise CheckpointError(
                f"{name}: not a scratchnn file: entry {entry!r} holds Python objects (dtype "
                f"{dtype}), which would need pickle, which scratchnn never uses to load"
            )
        header_size = member.tell()  # magic + header: where the data starts
        count = math.prod(shape)  # Python ints: no overflow
        needed = count * dtype.itemsize
        present = info.file_size - header_size
        if needed != present:
            raise CheckpointError(
                f"{name}: corrupt or truncated file: entry {entry!r} declares shape "
                f"{tuple(shape)} of {dtype} ({needed} bytes) but holds {present} bytes"
            )
        if header_only:
            return tuple(shape), dtype
        data = member.read(needed)
    if len(data) != needed:
        raise CheckpointError(
            f"{name}: truncated file: entry {entry!r} holds {len(data)} of its {needed} bytes"
        )
    array = np.frombuffer(bytearray(data), dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran_order else "C")


def declared_model_shapes(path: PathLike) -> dict[str, tuple[int, ...]] | None:
    """name -> shape of the model state in a :func:`save_checkpoint` file, from the array
    headers alone (no tensor data is read); None when the file is not laid out as one."""
    with read_npz(path, lazy=True) as archive:
        if HEADER_KEY not in archive.files:
            return None
        try:
            header = json.loads(bytes(archive[HEADER_KEY]).decode("utf-8"))
            pairs = header["tree"]["$dict"]
            model = next(node for key, node in pairs if key == "model")["$dict"]
            references = {key: node["$array"] for key, node in model}
        except (ValueError, KeyError, TypeError, StopIteration, RecursionError):
            return None
        if not all(isinstance(ref, str) and ref in archive.members
                   for ref in references.values()):
            return None
        return {key: archive.declared(ref)[0] for key, ref in references.items()}


def read_npz(path: PathLike, lazy: bool = False) -> Any:
    """The arrays of any ``.npz`` archive (``np.savez``) as a dict ``name -> np.ndarray``,
    read without pickle and with every entry's declared shape/dtype checked against the bytes
    present before allocating (a :class:`CheckpointError` names the file and the entry).
    ``lazy=True`` returns an open archive object instead (``files``, ``[key]``, ``close()``)."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise CheckpointError(f"{name}: no such file")
    try:
        archive = _SafeNpz(name)
    except zipfile.BadZipFile as error:
        raise CheckpointError(f"{name}: not an .npz archive ({error})") from None
    if lazy:
        return archive
    with archive:
        return {key: archive[key] for key in archive.files}


# ------------------------------------------------------------------------- checkpoints
def save_checkpoint(
    path: PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int,
    extra: Any = None,
) -> None:
    """Save everything needed to resume training to ``path`` (atomically).

    Stored: ``model.state_dict()``, ``optimizer.state_dict()``, ``scheduler.state_dict()``
    (None when not given), ``epoch`` (the number of *completed* epochs, to pass to
    ``fit(..., initial_epoch=epoch)``), the global RNG state (``scratchnn.random``; it drives
    shuffling and dropout) and ``extra`` (any saveable value, e.g. the history).
    """
    checkpoint = {
        "kind": CHECKPOINT_KIND,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng_state": get_rng_state(),
        "extra": extra,
    }
    save(checkpoint, path)


def load_checkpoint(
    path: PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into ``model`` (strictly: every key must match),
    ``optimizer`` and ``scheduler`` (when given) and, unless ``restore_rng=False``, the global
    RNG. Returns the whole checkpoint dict (``epoch``, ``extra``, the raw states, ...).

    A model that does not fit raises :class:`CheckpointMismatchError` (a ``CheckpointError``
    and a ``StateDictError``) listing missing, unexpected and mis-shaped keys. If restoring the
    optimizer or scheduler fails, the model and optimizer are put back as they were.
    """
    name = os.fspath(path)
    checkpoint = load(path)
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(
            f"{name}: a scratchnn file, but not a training checkpoint (save_checkpoint)"
        )
    for what, needed in (("optimizer", optimizer), ("scheduler", scheduler)):
        if needed is not None and checkpoint.get(what) is None:
            raise CheckpointError(f"{name}: the checkpoint holds no {what} state")

    previous_model = model.state_dict()
    previous_optimizer = None if optimizer is None else optimizer.state_dict()
    try:
        model.load_state_dict(checkpoint["model"], strict=True)
    except StateDictError as error:
        raise CheckpointMismatchError(
            f"{name}: the checkpoint does not fit the model. {error}",
            error.missing_keys,
            error.unexpected_keys,
            error.shape_mismatches,
        ) from error
    try:
        if optimizer is not None:
            optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(checkpoint["scheduler"])
        if restore_rng:
            set_rng_state(checkpoint["rng_state"])
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        model.load_state_dict(previous_model)
        if previous_optimizer is not None:
            optimizer.load_state_dict(previous_optimizer)
        raise CheckpointError(f"{name}: cannot restore the checkpoint: {error}") from error
    return checkpoint
