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

import numpy as np

from scratchnn.nn.module import IncompatibleKeys, Module, _array_of, _quoted
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


def _check_fits(
    model: Module, shapes: Mapping[str, tuple[int, ...]], name: str, strict: bool
) -> None:
    """Raise :class:`CheckpointMismatchError` listing every missing, unexpected and mis-shaped
    key (as ``load_state_dict`` words them) when ``shapes`` do not fit ``model``."""
    targets = {key: np.shape(_array_of(value)) for key, value in model._state_items()}
    missing = [key for key in targets if key not in shapes]
    unexpected = [key for key in shapes if key not in targets]
    mismatches = [
        (key, tuple(shapes[key]), targets[key])
        for key in targets
        if key in shapes and tuple(shapes[key]) != targets[key]
    ]
    problems = []
    if strict and missing:
        problems.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
    if strict and unexpected:
        problems.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
    for key, given, expected in mismatches:
        problems.append(
            f"size mismatch for {key}: copying a param with shape {given} from checkpoint, "
            f"the shape in current model is {expected}."
        )
    if problems:
        raise CheckpointMismatchError(
            f"{name}: the weights do not fit the model. Error(s) in loading state_dict for "
            f"{type(model).__name__}:\n\t" + "\n\t".join(problems),
            missing if strict else [],
            unexpected if strict else [],
            mismatches,
        )


def load_weights(model: Module, path: PathLike, strict: bool = True) -> IncompatibleKeys:
    """Load a weights file into ``model`` (in place) and return ``(missing_keys,
    unexpected_keys)`` as ``load_state_dict`` does.

    ``*.safetensors``: the header's shapes are checked against the model *before* any tensor
    data is read. Otherwise an ``.npz``: a state dict saved with :func:`save`, a
    :func:`save_checkpoint` file (its model state) or a plain ``np.savez`` archive of arrays.
    Anything that does not fit raises :class:`CheckpointMismatchError` listing every missing,
    unexpected and mis-shaped key at once; the model is then left unchanged.
    """
    name = os.fspath(path)
    if is_safetensors(path):
        header = load_safetensors_header(path)
        _check_fits(model, {key: shape for key, (_, shape) in header.items()}, name, strict)
        state: Any = load_safetensors(path)
    else:
        try:
            state = load_npz(path)
        except CheckpointError as error:
            if "not a scratchnn file (no" not in str(error):
                raise
            state = read_npz(path)  # a plain np.savez archive of arrays
        if isinstance(state, dict) and state.get("kind") == CHECKPOINT_KIND:
            state = state["model"]
        if not isinstance(state, Mapping) or not all(
            isinstance(key, str) and isinstance(value, np.ndarray) for key, value in state.items()
        ):
            raise CheckpointError(f"{name}: does not hold a state dict (name -> array)")
    _check_fits(model, {key: np.shape(value) for key, value in state.items()}, name, strict)
    return model.load_state_dict(state, strict=strict)


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
    "load_safetensors_with_metadata", "load_weights", "read_npz", "save", "save_checkpoint",
    "save_npz", "save_safetensors",
]
