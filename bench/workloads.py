"""The contestants: one epoch of the 784-hidden-10 ReLU MLP, written five ways.

Every contestant trains on the same float32 arrays (Fashion-MNIST train, ``(x/255 - 0.5)/0.5``,
flattened to a contiguous (N, 784)), with the same architecture, cross-entropy loss, SGD with
lr 0.01 and momentum 0.9 (PyTorch's rule), a fresh shuffle every epoch and, unless told
otherwise, the same initial weights. Each ``*_mlp`` builder returns a :class:`Run` whose
``epoch()`` trains one epoch (the thing that is timed) and whose ``predict(x)`` gives class
indices (for the accuracy row).

* ``scratchnn_mlp``: exactly the code a user writes (nn.Sequential, nn.CrossEntropyLoss,
  optim.SGD, DataLoader(TensorDataset)).
* ``torch_preloaded_mlp``: PyTorch eager, data already in tensors, batches by ``x[perm[i:j]]``.
* ``torch_dataloader_mlp``: PyTorch with ``TensorDataset`` + ``DataLoader(shuffle=True)``.
* ``numpy_mlp``: the same math by hand, explicit backward, no autograd.
* ``matmuls_only``: per batch just the five matmuls of a step (forward 2; backward dW2, dh, dW1).

PyTorch is imported inside the functions that use it, never at module level.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IN_FEATURES = 784
HIDDEN = 128
CLASSES = 10
LR = 0.01
MOMENTUM = 0.9


@dataclass
class Run:
    """A built contestant: ``epoch()`` trains one epoch and returns the last batch's loss;
    ``predict(x)`` returns the predicted class of every row of ``x`` (None if not a model)."""

    epoch: Callable[[], float]
    predict: Callable[[np.ndarray], np.ndarray] | None = None


# --------------------------------------------------------------------------- data
def load_split(train: bool = True, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST as the contestants see it: float32 (N, 784), contiguous, normalised like
    the seed (``(x/255 - 0.5)/0.5``), and int64 labels (N,). ``limit`` keeps the first rows.

    The uint8 images become float32 exactly once (one ``astype``, then in-place arithmetic)
    and are dropped at once, so no needless copy of the data stays alive.
    """
    from scratchnn.data import load_mnist

    images, labels = load_mnist("fashion-mnist", train=train)
    if limit is not None:
        images, labels = images[:limit], labels[:limit].copy()
    n = len(images)
    x = images.reshape(n, IN_FEATURES).astype(np.float32)
    del images
    x /= 255.0
    x -= 0.5
    x /= 0.5
    return x, np.ascontiguousarray(labels, dtype=np.int64)


def initial_weights(hidden: int = HIDDEN, seed: int = 0) -> dict[str, np.ndarray]:
    """One set of initial weights for every contestant, drawn like PyTorch's nn.Linear default
    (``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``); keys are both libraries' Sequential names, and
    weights are (out, in) in both."""
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return {
        "0.weight": uniform((hidden, IN_FEATURES), IN_FEATURES),
        "0.bias": uniform((hidden,), IN_FEATURES),
        "2.weight": uniform((CLASSES, hidden), hidden),
        "2.bias": uniform((CLASSES,), hidden),
    }


def shuffle_orders(n: int, epochs: int, seed: int) -> list[np.ndarray]:
    """The permutations scratchnn's DataLoader draws after ``scratchnn.random.manual_seed(seed)``
    (one ``generator().permutation(n)`` per epoch): lets another contestant replay them."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


# ------------------------------------------------------------------ contestants
def scratchnn_mlp(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    hidden: int = HIDDEN,
    weights: dict[str, np.ndarray] | None = None,
    seed: int | None = None,
) -> Run:
    """scratchnn, exactly as a user writes it. ``seed`` seeds scratchnn's generator just before
    training, so the DataLoader's shuffles are ``shuffle_orders(len(x), epochs, seed)``."""
    import scratchnn
    from scratchnn import nn, optim
    from scratchnn.data import DataLoader, TensorDataset
    from scratchnn.random import manual_seed

    # A hand-written loop applies the allocator setting itself (fit does it for you); it
    # respects SCRATCHNN_KEEP_FREED_MEMORY=0, which bench.page_faults uses for its control.
    scratchnn.allocator.keep_freed_memory()
    model = nn.Sequential(nn.Linear(IN_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, CLASSES))
    if weights is not None:
        model.load_state_dict(weights)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loader = DataLoader(
        TensorDataset(scratchnn.Tensor(x), scratchnn.Tensor(y)),
        batch_size=batch_size,
        shuffle=True,
    )
    if seed is not None:
        manual_seed(seed)

    def epoch() -> float:
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        return loss.item()

    def predict(inputs: np.ndarray) -> np.ndarray:
        with scratchnn.no_grad():
            return model(scratchnn.Tensor(inputs)).data.argmax(axis=1)

    return Run(epoch, predict)


def _torch_training(hidden: int, weights: dict[str, np.ndarray] | None) -> tuple[Any, Any, Any]:
    """The PyTorch contestants' model (the given initial weights), loss and optimizer."""
    import torch

    model = torch.nn.Sequential(
        torch.nn.Linear(IN_FEATURES, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, CLASSES)
    )
    if weights is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return model, torch.nn.CrossEntropyLoss(), optimizer


def _torch_predict(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def predict(inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(inputs)).argmax(dim=1).numpy()

    return predict


def torch_preloaded_mlp(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    hidden: int = HIDDEN,
    weights: dict[str, np.ndarray] | None = None,
    orders: list[np.ndarray] | None = None,
) -> Run:
    """PyTorch eager with the data preloaded as tensors (``torch.from_numpy``, no copy): each
    epoch ``torch.randperm``, each batch ``x[perm[i:j]]``. ``orders`` replays given
    permutations instead (epoch k uses ``orders[k]``)."""
    import torch

    model, loss_fn, optimizer = _torch_training(hidden, weights)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)
    epochs_done = 0

    def epoch() -> float:
        nonlocal epochs_done
        if orders is None:
            perm = torch.randperm(n)
        else:
            perm = torch.from_numpy(orders[epochs_done])
        epochs_done += 1
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        return loss.item()

    return Run(epoch, _torch_predict(model))


def torch_dataloader_mlp(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    hidden: int = HIDDEN,
    weights: dict[str, np.ndarray] | None = None,
) -> Run:
    """PyTorch as its tutorials write it: ``DataLoader(TensorDataset(x, y), shuffle=True)``
    (default ``num_workers=0``: per-sample indexing plus ``default_collate``)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    model, loss_fn, optimizer = _torch_training(hidden, weights)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        shuffle=True,
    )

    def epoch() -> float:
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        return loss.item()

    return Run(epoch, _torch_predict(model))


def numpy_mlp(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    hidden: int = HIDDEN,
    weights: dict[str, np.ndarray] | None = None,
    seed: int = 0,
) -> Run:
    """The same math by hand, no autograd: forward, the loss (log-sum-exp), the softmax-CE
    gradient ``(p - onehot)/B``, explicit backward, and PyTorch's momentum rule
    (``buf = mu*buf + g``, the first step ``buf = g``; ``p -= lr*buf``)."""
    weights = weights if weights is not None else initial_weights(hidden, seed)
    w1, b1 = weights["0.weight"].copy(), weights["0.bias"].copy()
    w2, b2 = weights["2.weight"].copy(), weights["2.bias"].copy()
    params = (w1, b1, w2, b2)
    buffers: list[np.ndarray | None] = [None] * 4
    rng = np.random.default_rng(seed)
    n = len(x)

    def forward(xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = xb @ w1.T
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ w2.T
        z += b2
        return h, z

    def epoch() -> float:
        perm = rng.permutation(n)
        loss = np.float32(0)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            xb, yb = x[idx], y[idx]
            rows = np.arange(len(idx))
            h, z = forward(xb)
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = (np.log(s[:, 0]) - z[rows, yb]).mean()
            g = e / s  # softmax
            g[rows, yb] -= 1.0
            g /= len(idx)  # d(mean CE)/dz = (p - onehot)/B
            dw2 = g.T @ h
            db2 = g.sum(axis=0)
            dh = g @ w2
            dh *= h > 0  # ReLU mask
            dw1 = dh.T @ xb
            db1 = dh.sum(axis=0)
            for i, (p, grad) in enumerate(zip(params, (dw1, db1, dw2, db2), strict=True)):
                buf = buffers[i]
                if buf is None:
                    buf = buffers[i] = grad.copy()
                else:
                    buf *= MOMENTUM
                    buf += grad
                p -= LR * buf
        return float(loss)

    def predict(inputs: np.ndarray) -> np.ndarray:
        return forward(inputs)[1].argmax(axis=1)

    return Run(epoch, predict)


def matmuls_only(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    hidden: int = HIDDEN,
    weights: dict[str, np.ndarray] | None = None,
    seed: int = 0,
) -> Run:
    """Per batch exactly the matmuls of a training step, float32, the same shapes and the same
    transposed-view operands as a real step: forward ``x @ W1.T``, ``h @ W2.T``; backward
    ``dW2 = g.T @ h``, ``dh = g @ W2``, ``dW1 = dh.T @ x`` (no dx: the input needs none).
    Batches are contiguous slices of the data (no gather, no shuffle: only matmuls); ``y`` and
    ``weights`` are accepted for a uniform signature and unused (the values do not matter)."""
    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    w1, w2 = rand(hidden, IN_FEATURES), rand(CLASSES, hidden)
    h_full, g_full, dh_full = rand(batch_size, hidden), rand(batch_size, CLASSES), rand(
        batch_size, hidden
    )
    n = len(x)

    def epoch() -> float:
        for start in range(0, n, batch_size):
            xb = x[start : start + batch_size]
            b = len(xb)
            h, g, dh = h_full[:b], g_full[:b], dh_full[:b]
            xb @ w1.T
            h @ w2.T
            g.T @ h
            g @ w2
            dh.T @ xb
        return 0.0

    return Run(epoch)


# ------------------------------------------------------------- per-step overhead
def overhead_scratchnn() -> Callable[[], None]:
    """``(a + b).sum().backward()`` on 4x4 float32 leaves: the fixed cost of two ops, graph
    recording and a backward pass, with no arithmetic to speak of."""
    from scratchnn import Tensor

    rng = np.random.default_rng(0)
    a = Tensor(rng.random((4, 4), dtype=np.float32), requires_grad=True)
    b = Tensor(rng.random((4, 4), dtype=np.float32), requires_grad=True)

    def step() -> None:
        (a + b).sum().backward()

    return step


def overhead_torch() -> Callable[[], None]:
    import torch

    a = torch.rand(4, 4, requires_grad=True)
    b = torch.rand(4, 4, requires_grad=True)

    def step() -> None:
        (a + b).sum().backward()

    return step


# -------------------------------------------------------------------- machine
def _openblas() -> ctypes.CDLL | None:
    """numpy's bundled OpenBLAS (already loaded by numpy, so dlopen returns the same one)."""
    libs_dir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libs_dir.glob("*openblas*")):
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            continue
    return None


def _call(lib: ctypes.CDLL | None, names: tuple[str, ...], restype: Any) -> Any:
    for name in names:
        function = getattr(lib, name, None) if lib is not None else None
        if function is not None:
            function.restype = restype
            return function()
    return None


def blas_threads() -> int:
    """The thread count numpy's BLAS uses (OpenBLAS asked directly; else the usable cores)."""
    count = _call(
        _openblas(),
        ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
         "openblas_get_num_threads"),
        ctypes.c_int,
    )
    return int(count) if count else len(os.sched_getaffinity(0))


def set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def blas_info() -> dict[str, Any]:
    """numpy's BLAS as built and as running (OpenBLAS config string, core type, threads)."""
    info: dict[str, Any] = {}
    try:
        config = np.show_config(mode="dicts")
        info["numpy_build"] = config["Build Dependencies"]["blas"]
    except Exception as error:  # noqa: BLE001 (older numpy: no dict mode)
        info["numpy_build"] = f"unavailable: {error}"
    lib = _openblas()
    for key, names in {
        "openblas_config": ("scipy_openblas_get_config64_", "openblas_get_config64_",
                            "openblas_get_config"),
        "openblas_corename": ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                              "openblas_get_corename"),
    }.items():
        value = _call(lib, names, ctypes.c_char_p)
        if value is not None:
            info[key] = value.decode()
    info["threads"] = blas_threads()
    # What the environment forces (OpenBLAS reads these once, at load): some machine images
    # set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old OpenBLAS builds (see bench/README.md)
    info["environment"] = {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")}
    return info


def torch_info() -> dict[str, Any]:
    import torch

    show = torch.__config__.show()
    lines = [line.strip(" -") for line in show.splitlines()]
    settings = dict(
        part.strip().split("=", 1) for line in lines if line.startswith("Build settings:")
        for part in line.removeprefix("Build settings:").split(",") if "=" in part
    )
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "blas": settings.get("BLAS_INFO", "unknown"),
        "libraries": [line for line in lines if "Math Kernel" in line or "MKL-DNN" in line
                      or "OpenMP" in line or "CPU capability" in line],
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


BUILDERS: dict[str, Callable[..., Run]] = {
    "scratchnn": scratchnn_mlp,
    "torch_preloaded": torch_preloaded_mlp,
    "torch_dataloader": torch_dataloader_mlp,
    "numpy": numpy_mlp,
    "matmuls": matmuls_only,
}

LABELS = {
    "scratchnn": "scratchnn (nn + optim + DataLoader)",
    "torch_preloaded": "PyTorch eager, data preloaded",
    "torch_dataloader": "PyTorch + TensorDataset/DataLoader",
    "numpy": "hand-written NumPy MLP",
    "matmuls": "the matmuls alone",
}
