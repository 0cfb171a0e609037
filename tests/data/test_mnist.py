"""(Fashion-)MNIST loading: search order, downloads (never over the network), errors.

Every test runs with the cache in a temp dir, no system dirs, and a ``_fetch`` that fails
the test if called, unless the test installs its own.
"""

import hashlib
import http.server
import threading
import urllib.error
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import DataError, find_mnist, load_mnist, load_mnist_normalized, write_idx
from scratchnn.data import mnist as mnist_mod

STEMS = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
REAL_FETCH = mnist_mod._fetch  # saved before any test patches it


def make_files(directory, n_train=6, n_test=4, gz=True, seed=0):
    """Write the four IDX files (small, random) into ``directory``; return the arrays."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for train, n in ((True, n_train), (False, n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(directory / (STEMS[train][0] + suffix), images)
        write_idx(directory / (STEMS[train][1] + suffix), labels)
        arrays[train] = (images, labels)
    return arrays


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Temp cache, no system dirs, and no network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {})

    def no_network(url):
        raise AssertionError(f"test tried to download {url}")

    monkeypatch.setattr(mnist_mod, "_fetch", no_network)
    return tmp_path


def test_cache_dir(monkeypatch, tmp_path):
    assert mnist_mod.cache_dir("mnist") == tmp_path / "xdg" / "scratchnn" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_mod.cache_dir("mnist") == tmp_path / "home" / ".cache" / "scratchnn" / "mnist"


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("train", [True, False])
def test_load_from_root(tmp_path, gz, train):
    arrays = make_files(tmp_path / "root", gz=gz)
    images, labels = load_mnist("mnist", root=tmp_path / "root", train=train)
    n = 6 if train else 4
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    np.testing.assert_array_equal(images, arrays[train][0])
    np.testing.assert_array_equal(labels, arrays[train][1])


def test_search_order(tmp_path, monkeypatch):
    root, system = tmp_path / "root", tmp_path / "system"
    cache = mnist_mod.cache_dir("fashion-mnist")
    make_files(root, n_train=1)
    make_files(system, n_train=2)
    make_files(cache, n_train=3)
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {"fashion-mnist": [system]})

    def n_loaded(**kw):
        return len(load_mnist("fashion-mnist", **kw)[1])

    assert n_loaded(root=root) == 1  # (a) explicit root first
    assert n_loaded() == 2  # (b) then the system package dir
    with pytest.raises(DataError, match="empty: no Fashion-MNIST train files"):
        n_loaded(root=tmp_path / "empty")  # an explicit root is never silently replaced
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {})
    assert n_loaded() == 3  # (c) then the user cache
    # The system dir is only for Fashion-MNIST.
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {"fashion-mnist": [system]})
    with pytest.raises(AssertionError, match="tried to download"):
        load_mnist("mnist")


def test_split_needs_both_files(tmp_path):
    make_files(tmp_path / "root", n_train=5)
    (tmp_path / "root" / "train-labels-idx1-ubyte.gz").unlink()
    make_files(mnist_mod.cache_dir("mnist"), n_train=7)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        load_mnist("mnist", root=tmp_path / "root")  # root incomplete: say so, no fallback
    assert len(load_mnist("mnist", root=tmp_path / "root", train=False)[0]) == 4


def serve_generated(monkeypatch, tmp_path, dataset="mnist", fail_first=0):
    """Generate gzipped files, put their real sizes and SHA-256s in the dataset's table,
    and install a ``_fetch`` that serves them. Returns (arrays, list of fetched URLs)."""
    arrays = make_files(tmp_path / "served", gz=True)
    files = {}
    for stems in STEMS.values():
        for stem in stems:
            body = (tmp_path / "served" / f"{stem}.gz").read_bytes()
            files[f"{stem}.gz"] = (len(body), hashlib.sha256(body).hexdigest())
    monkeypatch.setitem(mnist_mod._DATASETS[dataset], "files", files)
    fetched = []

    def fake_fetch(url):
        fetched.append(url)
        if len(fetched) <= fail_first:
            raise urllib.error.URLError("mirror down")
        return (tmp_path / "served" / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(mnist_mod, "_fetch", fake_fetch)
    return arrays, fetched


def test_download_into_cache(tmp_path, monkeypatch):
    arrays, fetched = serve_generated(monkeypatch, tmp_path)
    images, labels = load_mnist("mnist", train=True)
    np.testing.assert_array_equal(images, arrays[True][0])
    np.testing.assert_array_equal(labels, arrays[True][1])
    mirror = mnist_mod._DATASETS["mnist"]["mirrors"][0]
    assert fetched == [mirror + "train-images-idx3-ubyte.gz", mirror + "train-labels-idx1-ubyte.gz"]
    cache = mnist_mod.cache_dir("mnist")
    assert sorted(p.name for p in cache.iterdir()) == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]  # no temp files left behind
    load_mnist("mnist", train=True)  # now from the cache: no second download
    assert len(fetched) == 2
    load_mnist("mnist", train=False)
    assert len(fetched) == 4


def test_download_falls_back_to_next_mirror(tmp_path, monkeypatch):
    arrays, fetched = serve_generated(monkeypatch, tmp_path, fail_first=1)
    images, _ = load_mnist("mnist", train=False)
    np.testing.assert_array_equal(images, arrays[False][0])
    first, second = mnist_mod._DATASETS["mnist"]["mirrors"]
    assert fetched[:2] == [
        first + "t10k-images-idx3-ubyte.gz",
        second + "t10k-images-idx3-ubyte.gz",
    ]


def test_fashion_download_uses_its_mirror(tmp_path, monkeypatch):
    _, fetched = serve_generated(monkeypatch, tmp_path, dataset="fashion-mnist")
    load_mnist("fashion-mnist")
    assert all(
        u.startswith("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/") for u in fetched
    )
    assert (mnist_mod.cache_dir("fashion-mnist") / "train-images-idx3-ubyte.gz").is_file()


def test_download_rejects_wrong_hash(tmp_path, monkeypatch):
    serve_generated(monkeypatch, tmp_path)
    files = dict(mnist_mod._DATASETS["mnist"]["files"])
    size, _ = files["train-labels-idx1-ubyte.gz"]
    files["train-labels-idx1-ubyte.gz"] = (size, "0" * 64)
    monkeypatch.setitem(mnist_mod._DATASETS["mnist"], "files", files)
    with pytest.raises(DataError, match="SHA-256") as info:
        load_mnist("mnist")
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    assert not (mnist_mod.cache_dir("mnist") / "train-labels-idx1-ubyte.gz").exists()


def test_real_hash_table_rejects_generated_files(tmp_path, monkeypatch):
    """With the shipped table, a file that is not the real one must not be accepted."""
    served = tmp_path / "served"
    make_files(served)

    def fetch(url):
        return (served / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(mnist_mod, "_fetch", fetch)
    with pytest.raises(DataError, match="SHA-256"):
        load_mnist("mnist")


def test_offline_error(monkeypatch):
    def offline(url):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(mnist_mod, "_fetch", offline)
    with pytest.raises(DataError) as info:
        load_mnist("mnist")
    msg = str(info.value)
    assert "could not download MNIST (no network?)" in msg
    assert str(mnist_mod.cache_dir("mnist")) in msg and "--data DIR" in msg
    assert isinstance(info.value, ValueError)


def test_no_download_mode(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {})
    with pytest.raises(DataError, match="not found"):
        find_mnist("mnist", download=False)


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/served; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir(exist_ok=True)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_real_fetch_from_local_http_server(tmp_path, monkeypatch, local_server):
    """The real urllib ``_fetch``, against localhost only: a dead mirror, then a live one."""
    arrays, _ = serve_generated(monkeypatch, tmp_path)  # writes tmp_path/served, the table
    monkeypatch.setattr(mnist_mod, "_fetch", REAL_FETCH)
    monkeypatch.setattr(mnist_mod, "_TIMEOUT", 5.0)
    dead = "http://127.0.0.1:9/"  # the discard port: nothing listens, connection refused
    monkeypatch.setitem(mnist_mod._DATASETS["mnist"], "mirrors", [dead, local_server])
    images, labels = load_mnist("mnist", train=False)
    np.testing.assert_array_equal(images, arrays[False][0])
    np.testing.assert_array_equal(labels, arrays[False][1])
    monkeypatch.setitem(mnist_mod._DATASETS["mnist"], "mirrors", [dead])
    with pytest.raises(DataError, match="no network"):
        load_mnist("mnist", train=True)


def test_corrupt_file_in_root_names_it(tmp_path):
    make_files(tmp_path / "root")
    bad = tmp_path / "root" / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load_mnist("mnist", root=tmp_path / "root")


def test_inconsistent_files(tmp_path):
    root = tmp_path / "root"
    make_files(root)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match="5 labels for 6 images"):
        load_mnist("mnist", root=root)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.full(6, 10, dtype=np.uint8))
    with pytest.raises(DataError, match="out of range"):
        load_mnist("mnist", root=root)
    write_idx(root / "train-images-idx3-ubyte.gz", np.zeros((6, 28, 27), dtype=np.uint8))
    with pytest.raises(DataError, match=r"\(N, 28, 28\)"):
        load_mnist("mnist", root=root)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="cifar"):
        load_mnist("cifar")


def test_normalized(tmp_path):
    arrays = make_files(tmp_path / "root")
    x, y = load_mnist_normalized("mnist", root=tmp_path / "root")
    assert x.dtype == np.float32 and x.shape == (6, 28, 28)
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x * 255, arrays[True][0], atol=1e-4)
    assert y.dtype == np.int64
    x, _ = load_mnist_normalized("mnist", root=tmp_path / "root", train=False, flatten=True)
    assert x.shape == (4, 784)


@pytest.mark.skipif(not DEBIAN_FASHION.exists(), reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {"fashion-mnist": [DEBIAN_FASHION]})
    images, labels = load_mnist("fashion-mnist", train=True)  # found via the system dir
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [6000] * 10
    images, labels = load_mnist("fashion-mnist", root=DEBIAN_FASHION, train=False)
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == [1000] * 10
    assert labels[:5].tolist() == [9, 2, 1, 1, 6]  # ankle boot, pullover, trouser, ...
