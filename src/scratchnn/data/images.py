"""Grayscale PNG images: one file (:func:`read_png`) or a folder of class folders
(:func:`load_png_folders`: ``DIR/cat/*.png``, ``DIR/dog/*.png`` -> images labelled ``cat``,
``dog``). PNG decoding uses matplotlib (the extra ``scratchnn[plot]``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scratchnn.data.dataset import DataError

__all__ = ["load_png_folders", "png_folders", "read_png"]


def _size(shape: Sequence[int]) -> str:
    return "x".join(map(str, tuple(shape)[::-1]))  # width x height


def read_png(path: str | os.PathLike[str], image_shape: Sequence[int] | None = None
             ) -> np.ndarray:
    """A grayscale PNG as an (H, W) float32 array of 0..255 values. A color image (channels
    that differ) or, when ``image_shape`` (H, W) is given, an image of another size raises a
    :class:`DataError` naming the file."""
    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise DataError("reading PNG images needs matplotlib: install scratchnn[plot]") \
            from None
    try:
        image = np.asarray(mpimg.imread(path, format="png"), dtype=np.float64)
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{path}: cannot read the PNG image: {error}") from None
    wanted = f"grayscale {_size(image_shape)} images" if image_shape else "grayscale images"
    if image.ndim == 3:
        color = image[..., :3]
        if image.shape[2] < 3 or not np.allclose(color, color[..., :1], atol=1 / 255):
            raise DataError(f"{path}: a color image; the model takes {wanted}")
        image = color[..., 0]
    if image_shape is not None and image.shape != tuple(image_shape):
        raise DataError(f"{path}: is {_size(image.shape)} pixels; the model takes {wanted}")
    if image.max() <= 1.0:  # 8-bit PNGs are read as floats in [0, 1]
        image = image * 255.0
    return image.astype(np.float32)


def png_folders(directory: str | os.PathLike[str]) -> dict[str, list[Path]]:
    """``{class name: [its PNG files, sorted]}`` for the sub-folders of ``directory`` that hold
    PNG files (empty when there are none)."""
    folders: dict[str, list[Path]] = {}
    for sub in sorted(Path(directory).iterdir()):
        if sub.is_dir():
            files = sorted(p for p in sub.iterdir() if p.suffix.lower() == ".png")
            if files:
                folders[sub.name] = files
    return folders


def load_png_folders(directory: str | os.PathLike[str]
                     ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], int]:
    """Every PNG of every class folder: (features (N, H*W) float32 0..255, target (N,) the
    folder names as strings, the image shape, the number of folders); all images must have the
    first one's size."""
    folders = png_folders(directory)
    if len(folders) < 1:
        raise DataError(f"{directory}: no class folders with PNG images")
    rows, labels, shape = [], [], None
    for name, files in folders.items():
        for file in files:
            image = read_png(file, shape)
            shape = shape or image.shape
            rows.append(image.reshape(-1))
            labels.append(name)
    return np.stack(rows), np.array(labels), tuple(int(s) for s in shape), len(folders)
