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

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from scratchnn.functional.args import array_of
from scratchnn.nn.module import IncompatibleKeys, Module, state_dict_problems
from scratchnn.serialization.npz import (
    CHECKPOINT_KIND,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_KEY,
    CheckpointError,
    CheckpointMismatchError,
    PathLike,
    _decode,
    _Encoder,
    atomic_write,
    declared_model_shapes,
    read_npz,
)
from scratchnn.serialization.npz import load as load_npz
from scratchnn.serialization.npz import load_checkpoint as _load_npz_checkpoint
from scratchnn.serialization.npz import save as save_npz
from scratchnn.serialization.npz import save_checkpoint as _save_npz_checkpoint
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
# the safetensors metadata entry that makes a weights file a scratchnn checkpoint
CHECKPOINT_METADATA_KEY = "scratchnn.checkpoint"


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
    model: Module, shapes: Mapping[str, tuple[int, ...]], name: str, strict: bool,
    what: str = "the weights do",
) -> None:
    """Raise :class:`CheckpointMismatchError` listing every missing, unexpected and mis-shaped
    key (as ``load_state_dict`` words them) when ``shapes`` do not fit ``model``."""
    targets = {key: np.shape(array_of(value)) for key, value in model._state_items()}
    missing = [key for key in targets if key not in shapes]
    unexpected = [key for key in shapes if key not in targets]
    mismatches = [
        (key, tuple(shapes[key]), targets[key])
        for key in targets
        if key in shapes and tuple(shapes[key]) != targets[key]
    ]
    problems = state_dict_problems(missing, unexpected, mismatches, strict)
    if problems:
        raise CheckpointMismatchError(
            f"{name}: {what} not fit the model. Error(s) in loading state_dict for "
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


# ------------------------------------------------------------------------- checkpoints
def _plain(value: Any) -> Any:
    """Arrays, Tensors and NumPy scalars as plain Python values (for a JSON record)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "numpy") and hasattr(value, "grad_fn"):  # a Tensor
        return value.numpy().tolist()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    return value


def save_checkpoint(
    path: PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int,
    extra: Any = None,
) -> None:
    """Save a training checkpoint to ``path`` (atomically).

    ``.npz`` (the default): everything needed to resume training (model, optimizer, scheduler,
    RNG, epoch, ``extra``; see :func:`scratchnn.serialization.npz.save_checkpoint`).
    ``*.safetensors``: the model's weights as tensors (loadable by
    ``safetensors.torch.load_file`` as a state dict) and, in the metadata, ``epoch`` and
    ``extra`` as JSON (arrays inside ``extra`` become lists); the optimizer and scheduler
    states are not stored, so such a file is for inference, export and fine-tuning."""
    if not is_safetensors(path):
        _save_npz_checkpoint(path, model, optimizer, scheduler, epoch=epoch, extra=extra)
        return
    tree = _Encoder()
    record = {"kind": CHECKPOINT_KIND, "epoch": int(epoch),
              "extra": tree.encode(_plain(extra), "extra")}
    text = json.dumps(record, allow_nan=False, separators=(",", ":"))
    save_safetensors(model.state_dict(), path,
                     metadata={"format": "pt", CHECKPOINT_METADATA_KEY: text})


def load_checkpoint_record(path: PathLike) -> dict[str, Any]:
    """The checkpoint dict in ``path`` without restoring it: ``kind``, ``epoch``, ``model``
    (the state dict), ``optimizer``, ``scheduler``, ``rng_state`` (None in a safetensors
    checkpoint) and ``extra``. For an ``.npz`` file: whatever it holds (:func:`load`; the
    caller checks ``kind``); a ``.safetensors`` file without checkpoint metadata raises
    :class:`CheckpointError`."""
    name = os.fspath(path)
    if not is_safetensors(path):
        return load_npz(path)
    tensors, metadata = load_safetensors_with_metadata(path)
    text = metadata.get(CHECKPOINT_METADATA_KEY)
    if text is None:
        raise CheckpointError(
            f"{name}: a safetensors file of weights, but not a scratchnn checkpoint (no "
            f"{CHECKPOINT_METADATA_KEY!r} metadata); load it with load_weights(model, path)"
        )
    try:
        record = json.loads(text)
        if not isinstance(record, dict) or record.get("kind") != CHECKPOINT_KIND:
            raise ValueError("not a checkpoint record")
        extra = _decode(record.get("extra"), {})
        epoch = int(record.get("epoch", 0))
    except (ValueError, TypeError, RecursionError) as error:
        raise CheckpointError(f"{name}: corrupt checkpoint metadata ({error})") from None
    return {"kind": CHECKPOINT_KIND, "epoch": epoch, "model": tensors, "optimizer": None,
            "scheduler": None, "rng_state": None, "extra": extra}


def load_checkpoint(
    path: PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into ``model`` (and ``optimizer``,
    ``scheduler`` and the global RNG for an ``.npz`` checkpoint; see
    :func:`scratchnn.serialization.npz.load_checkpoint`). Returns the checkpoint dict. A
    ``.safetensors`` checkpoint holds weights only: asking it for an optimizer or scheduler
    state raises :class:`CheckpointError`. Mismatched models raise
    :class:`CheckpointMismatchError` listing every difference."""
    name = os.fspath(path)
    if not is_safetensors(path):
        if os.path.exists(name):  # check the model against the headers before reading data
            shapes = declared_model_shapes(path)
            if shapes is not None:
                _check_fits(model, shapes, name, True, "the checkpoint does")
        return _load_npz_checkpoint(path, model, optimizer, scheduler, restore_rng=restore_rng)
    for what, needed in (("optimizer", optimizer), ("scheduler", scheduler)):
        if needed is not None:
            raise CheckpointError(
                f"{name}: a .safetensors checkpoint holds the weights only, no {what} state "
                "(resume training from an .npz checkpoint)"
            )
    header = load_safetensors_header(path)
    _check_fits(model, {key: shape for key, (_, shape) in header.items()}, name, True,
                "the checkpoint does")
    checkpoint = load_checkpoint_record(path)
    model.load_state_dict(checkpoint["model"], strict=True)
    return checkpoint


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
    "CHECKPOINT_METADATA_KEY", "load_checkpoint_record",
    "load_npz", "load_safetensors", "load_safetensors_header", "load_safetensors_metadata",
    "load_safetensors_with_metadata", "load_weights", "read_npz", "save", "save_checkpoint",
    "save_npz", "save_safetensors",
]
