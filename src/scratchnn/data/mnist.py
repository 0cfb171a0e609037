"""MNIST and Fashion-MNIST: 28x28 grayscale images in 10 classes, 60000 train + 10000 test.

Given ``root``, ``load_mnist`` reads the split's two files (images + labels) from there and
nowhere else. Without it, it uses the first of these places that has them:

1. for Fashion-MNIST, Debian's package ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist/``);
2. the user cache, ``$XDG_CACHE_HOME/scratchnn/<name>`` (default ``~/.cache/scratchnn/<name>``);
3. a download into that cache from the public mirrors, each file checked by SHA-256.

Files may be raw (``train-images-idx3-ubyte``) or gzipped (``train-images-idx3-ubyte.gz``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from scratchnn.data.dataset import DataError
from scratchnn.data.idx import read_idx

# Per dataset: display name, download mirrors (tried in order), and for each file as served
# (gzipped) its size in bytes and SHA-256.
#
# MNIST: sizes and SHA-256 from TensorFlow Datasets' url_checksums/mnist.txt (for the
# storage.googleapis.com/cvdf-datasets mirror); the sizes match the ones LeCun's page lists.
# The ossci-datasets mirror is torchvision's, which checks it with the same MD5s as the
# original files, so it should serve the same bytes -- but we could not download the files
# here to compute the hashes ourselves (no network); the sizes are checked as well.
#
# Fashion-MNIST: sizes and SHA-256 from TensorFlow Datasets' url_checksums/fashion_mnist.txt,
# cross-checked locally: Debian's package ships the same gzip streams with the file name and
# time stripped from the gzip header; putting them back (mtime 2017-08-31) rebuilds files
# whose MD5s equal the ones in the Fashion-MNIST README and whose SHA-256s equal these.
_DATASETS: dict[str, dict] = {
    "mnist": {
        "display": "MNIST",
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ],
        "files": {
            "train-images-idx3-ubyte.gz": (
                9912422,
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            "train-labels-idx1-ubyte.gz": (
                28881,
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            "t10k-images-idx3-ubyte.gz": (
                1648877,
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                4542,
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        },
    },
    "fashion-mnist": {
        "display": "Fashion-MNIST",
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "files": {
            "train-images-idx3-ubyte.gz": (
                26421880,
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            ),
            "train-labels-idx1-ubyte.gz": (
                29515,
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            ),
            "t10k-images-idx3-ubyte.gz": (
                4422102,
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                5148,
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
        },
    },
}

# Directories where an OS package installs a dataset (checked after ``root``).
SYSTEM_DIRS: dict[str, list[Path]] = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}

_TIMEOUT = 60.0  # seconds per download request


def _fetch(url: str) -> bytes:
    """Download ``url`` and return its bytes. Tests replace this function."""
    with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
        return response.read()


def cache_dir(dataset: str) -> Path:
    """Where downloads go: ``$XDG_CACHE_HOME/scratchnn/<dataset>`` or
    ``~/.cache/scratchnn/<dataset>``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scratchnn" / dataset


def _split_names(train: bool) -> tuple[str, str]:
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find_file(directory: Path, stem: str) -> Path | None:
    """``directory/stem`` or ``directory/stem.gz``, whichever exists (raw first)."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_split(directory: Path, train: bool) -> tuple[Path, Path] | None:
    images, labels = (_find_file(directory, stem) for stem in _split_names(train))
    if images is None or labels is None:
        return None
    return images, labels


def _download(dataset: str, train: bool, target: Path) -> tuple[Path, Path]:
    """Download the split's two files into ``target``, checking size and SHA-256."""
    info = _DATASETS[dataset]
    display = info["display"]
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{target}: cannot create the download directory: {e.strerror}") from None
    paths = []
    for stem in _split_names(train):
        filename = f"{stem}.gz"
        size, sha256 = info["files"][filename]
        final = target / filename
        if final.is_file():  # e.g. the other file of the pair was already there
            paths.append(final)
            continue
        problems: list[str] = []
        network_only = True  # did every mirror fail just because it could not be reached?
        data = None
        for mirror in info["mirrors"]:
            url = mirror + filename
            print(f"downloading {url}", file=sys.stderr)
            try:
                body = _fetch(url)
            except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
                problems.append(f"{url}: {e}")
                continue
            digest = hashlib.sha256(body).hexdigest()
            if len(body) != size or digest != sha256:
                network_only = False
                problems.append(
                    f"{url}: wrong content: got {len(body)} bytes with SHA-256 {digest}, "
                    f"expected {size} bytes with SHA-256 {sha256}"
                )
                continue
            data = body
            break
        if data is None:
            tried = "\n  ".join(problems)
            if network_only:
                raise DataError(
                    f"could not download {display} (no network?). Put the four IDX files in "
                    f"{target} or pass --data DIR\n  {tried}"
                )
            raise DataError(f"could not download {display}: {filename} failed checks\n  {tried}")
        _write_atomic(final, data)
        paths.append(final)
    return paths[0], paths[1]


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file next to ``path``, then rename it into place, so a crash
    never leaves a half-written file under the real name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def find_mnist(
    dataset: str = "fashion-mnist",
    root: str | os.PathLike[str] | None = None,
    train: bool = True,
    download: bool = True,
) -> tuple[Path, Path]:
    """Paths of the (images, labels) files for the split, searching (and downloading) as
    described in the module docstring."""
    if dataset not in _DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(_DATASETS)}")
    if root is not None:  # an explicit directory is the only place looked at
        found = _find_split(Path(root), train)
        if found is None:
            split = "train" if train else "t10k"
            raise DataError(
                f"{root}: no {_DATASETS[dataset]['display']} {split} files there "
                f"(expected {split}-images-idx3-ubyte[.gz] and {split}-labels-idx1-ubyte[.gz])"
            )
        return found
    places = list(SYSTEM_DIRS.get(dataset, []))
    cache = cache_dir(dataset)
    places.append(cache)
    for place in places:
        found = _find_split(place, train)
        if found is not None:
            return found
    if not download:
        searched = ", ".join(str(p) for p in places)
        raise DataError(
            f"{_DATASETS[dataset]['display']} files not found (searched {searched}). "
            f"Put the four IDX files in {cache} or pass --data DIR"
        )
    return _download(dataset, train, cache)


def load_mnist(
    dataset: str = "fashion-mnist",
    root: str | os.PathLike[str] | None = None,
    train: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a split of MNIST or Fashion-MNIST (``dataset='mnist'`` or ``'fashion-mnist'``).

    Returns ``(images, labels)``: images uint8 of shape (N, 28, 28) with values 0..255 and
    labels int64 of shape (N,) with values 0..9; N is 60000 for train, 10000 for test.
    """
    images_path, labels_path = find_mnist(dataset, root, train)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{labels_path}: {labels.shape[0]} labels for {images.shape[0]} images in {images_path}"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: label {int(labels.max())} out of range 0..9")
    return images, labels.astype(np.int64)


def load_mnist_normalized(
    dataset: str = "fashion-mnist",
    root: str | os.PathLike[str] | None = None,
    train: bool = True,
    flatten: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``load_mnist`` but images are float32 scaled to [0, 1]: shape (N, 28, 28), or
    (N, 784) with ``flatten=True``. Labels are int64 of shape (N,)."""
    images, labels = load_mnist(dataset, root, train)
    x = images.astype(np.float32)
    x /= 255.0
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels
