"""Saving and loading: scratchnn's own ``.npz`` files (any tree of arrays, full training
checkpoints) and ``.safetensors`` (flat dicts of arrays, shared with PyTorch and the hubs).

:func:`save` / :func:`load` pick the format from the file name: ``.safetensors`` for
safetensors, anything else the ``.npz`` format (see :mod:`scratchnn.serialization.npz` and
:mod:`scratchnn.serialization.safetensors` for the layouts). Neither format can run code when
loaded, both are written atomically, and both readers check every declared shape and dtype
against the bytes actually in the file before allocating, so a corrupt, truncated or crafted
file is refused with one :class:`CheckpointError` line naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from scratchnn.serialization.npz import (
    CHECKPOINT_KIND,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_KEY,
    CheckpointError,
    CheckpointMismatchError,
    PathLike,
    atomic_write,
    load_checkpoint,
    read_npz,
    save_checkpoint,
)
from scratchnn.serialization.npz import load as load_npz
from scratchnn.serialization.npz import save as save_npz
from scratchnn.serialization.safetensors import (
    SafetensorsError,
    SafetensorsWidenedWarning,
    load_safetensors,
    load_safetensors_header,
    load_safetensors_metadata,
    load_safetensors_with_metadata,
    save_safetensors,
)

SAFETENSORS_SUFFIX = ".safetensors"


def is_safetensors(path: PathLike) -> bool:
    """True when ``path`` names a safetensors file (by its extension, case-insensitive)."""
    return os.fspath(path).lower().endswith(SAFETENSORS_SUFFIX)


def save(obj: Any, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Save ``obj`` to ``path``, atomically, in the format the extension names.

    ``*.safetensors``: ``obj`` must be a flat dict ``str -> array/Tensor`` (a state dict),
    ``metadata`` an optional ``str -> str`` dict. Anything else: scratchnn's ``.npz`` format,
    which holds any tree of dicts/lists/tuples of arrays, Tensors, NumPy scalars, ints, floats,
    bools, strings and None (``metadata`` is not allowed there: put it in the tree).
    """
    if is_safetensors(path):
        save_safetensors(obj, path, metadata=metadata)
        return
    if metadata is not None:
        raise TypeError(
            "save: metadata= is only for .safetensors files; in an .npz file put it in the "
            "saved object itself"
        )
    save_npz(obj, path)


def load(path: PathLike) -> Any:
    """Load what :func:`save` wrote: a dict ``str -> np.ndarray`` from ``*.safetensors``
    (float16/bfloat16 widened to float32 with a warning), else the ``.npz`` tree."""
    if is_safetensors(path):
        return load_safetensors(path)
    return load_npz(path)


__all__ = [
    "CHECKPOINT_KIND", "FORMAT_NAME", "FORMAT_VERSION", "HEADER_KEY", "SAFETENSORS_SUFFIX",
    "CheckpointError", "CheckpointMismatchError", "SafetensorsError",
    "SafetensorsWidenedWarning", "atomic_write", "is_safetensors", "load", "load_checkpoint",
    "load_npz", "load_safetensors", "load_safetensors_header", "load_safetensors_metadata",
    "load_safetensors_with_metadata", "read_npz", "save", "save_checkpoint", "save_npz",
    "save_safetensors",
]
