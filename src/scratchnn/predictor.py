"""A trained network together with what it needs to be used: :class:`Predictor`.

``scratchnn train`` (the command line) and the scikit-learn estimators
(:mod:`scratchnn.sklearn`) both produce one; :func:`load_model` reads one back from a
checkpoint that ``scratchnn train`` wrote::

    model = scratchnn.load_model("iris.model.npz")
    model.classes               # ['setosa', 'versicolor', 'virginica']
    model.feature_names         # ['sepal_length', ...]
    model.predict(rows)         # class names (classification) or numbers (regression)
    model.predict_proba(rows)   # (N, classes) probabilities

``rows`` is a 2-D array with the columns in the training order, or a mapping / DataFrame of
columns, matched by name. The predictor applies the training preprocessing itself:
``x' = (x * scale - mean) / std`` for the features and, for regression, ``y = y' * target_std
+ target_mean`` for the network's output ``y'``.

Also here, shared by the command line and the estimators: the task rule (:func:`infer_task`),
class encoding (:func:`encode_labels`), a stratified split, the Huber loss and the metric
reports.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scratchnn import nn
from scratchnn.nn.module import Module
from scratchnn.tensor import Tensor, no_grad

CHECKPOINT_FORMAT = "scratchnn.cli.mlp"
CHECKPOINT_VERSION = 2
ACTIVATIONS = ("relu", "sigmoid", "tanh")
TASKS = ("classification", "regression")
MAX_AUTO_CLASSES = 20

__all__ = [
    "CHECKPOINT_FORMAT", "HuberLoss", "Predictor", "build_mlp", "build_network",
    "classification_report", "encode_labels", "infer_task", "load_model",
    "regression_metrics", "sequential_spec", "stratified_split",
]


# ------------------------------------------------------------------------------ networks
def build_mlp(layers: Sequence[int], activation: str = "relu") -> Module:
    """``Sequential(Linear(l0, l1), Act(), ..., Linear(l[-2], l[-1]))``: raw outputs (class
    scores for ``CrossEntropyLoss``, or values for regression)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, "
                         f"got {activation!r}")
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    modules: list[Module] = []
    for index, (n_in, n_out) in enumerate(zip(layers, layers[1:], strict=False)):
        if index:
            modules.append(act())
        modules.append(nn.Linear(int(n_in), int(n_out)))
    return nn.Sequential(*modules)


_SKIPPED_ARGUMENTS = ("self", "device", "dtype", "inplace")


def sequential_spec(model: Module) -> list[list[Any]]:
    """A plain record of an ``nn.Sequential`` of scratchnn layers: ``[[class name, {init
    argument: value}], ...]``, read from each layer's attributes (``bias`` from whether it
    has one). :func:`build_network` rebuilds it; only classes of ``scratchnn.nn`` are
    allowed, so a record cannot name arbitrary code."""
    import inspect

    spec: list[list[Any]] = []
    for child in model._modules.values():
        cls = type(child)
        if getattr(nn, cls.__name__, None) is not cls:
            raise ValueError(f"cannot record {cls.__name__}: not a layer of scratchnn.nn")
        kwargs: dict[str, Any] = {}
        for name in inspect.signature(cls.__init__).parameters:
            if name in _SKIPPED_ARGUMENTS:
                continue
            if name == "bias" and "bias" in child._parameters:
                kwargs["bias"] = child._parameters["bias"] is not None
            elif name in vars(child):
                kwargs[name] = vars(child)[name]
        spec.append([cls.__name__, kwargs])
    return spec


def build_network(architecture: Mapping[str, Any]) -> Module:
    """The network an architecture record describes: ``{'kind': 'mlp', 'layers': [sizes],
    'activation': ...}``, or ``{'kind': 'sequential', 'layers': sequential_spec(model),
    'input_shape': [C, H, W]}`` (e.g. a CNN)."""
    kind = architecture.get("kind", "mlp")
    if kind == "mlp":
        return build_mlp([int(n) for n in architecture["layers"]], architecture["activation"])
    if kind == "sequential":
        layers = []
        for name, kwargs in architecture["layers"]:
            cls = getattr(nn, str(name), None)
            if not (isinstance(cls, type) and issubclass(cls, Module)):
                raise ValueError(f"unknown layer {name!r}")
            layers.append(cls(**{str(k): tuple(v) if isinstance(v, list) else v
                                 for k, v in dict(kwargs).items()}))
        return nn.Sequential(*layers)
    raise ValueError(f"unknown architecture kind {kind!r}")


class HuberLoss(nn.Module):
    """Huber loss (PyTorch's ``nn.HuberLoss``): per element, ``0.5 d²`` where ``|d| <= delta``
    and ``delta (|d| - 0.5 delta)`` elsewhere, ``d = input - target``; the mean over elements.
    Quadratic near the target, linear for outliers."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        if reduction != "mean":
            raise ValueError("HuberLoss here supports reduction='mean' only")
        self.delta = float(delta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        diff = input - target.reshape(input.shape)
        size = diff.abs()
        # min(|d|, delta) = c: loss = c (|d| - c/2) is 0.5 d² inside and delta(|d|-delta/2) out
        clipped = size.clamp(max=self.delta)
        return (clipped * (size - clipped * 0.5)).mean()


# ----------------------------------------------------------------------------- targets
def infer_task(target: np.ndarray) -> tuple[str, str]:
    """``('classification' | 'regression', why)`` for a target column.

    Strings and booleans are class names. Numbers are classes when every value is a whole
    number and there are few distinct values (at most 20, and at most half the samples);
    otherwise the target is a quantity to regress.
    """
    values = np.asarray(target)
    if values.dtype.kind in "USOb":
        return "classification", f"{len(np.unique(values))} distinct labels, not numbers"
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    distinct = np.unique(finite)
    whole = bool(np.all(np.mod(finite, 1) == 0)) if finite.size else True
    limit = min(MAX_AUTO_CLASSES, max(2, len(values) // 2))
    if whole and len(distinct) <= limit:
        return "classification", f"{len(distinct)} distinct whole-number labels"
    if not whole:
        return "regression", "the target holds fractional numbers"
    return "regression", (f"{len(distinct)} distinct whole numbers, more than {limit} "
                          "classes")


def _plain_label(value: Any) -> Any:
    """A class label as a plain Python value (str, int, float or bool) for the checkpoint."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value == int(value):
        return int(value)
    return value


def encode_labels(target: np.ndarray, classes: Sequence[Any] | None = None
                  ) -> tuple[np.ndarray, list[Any]]:
    """``(indices int64 (N,), classes)``: each label's position in the sorted ``classes``
    (found from the data when not given). A label outside given ``classes`` raises a
    ``ValueError`` naming it."""
    values = np.asarray(target)
    if values.dtype.kind in "US":
        values = np.char.strip(values.astype(str))
    if classes is None:
        found = np.unique(values)
        return np.searchsorted(found, values).astype(np.int64), \
            [_plain_label(v) for v in found]
    lookup = {str(_plain_label(c)): i for i, c in enumerate(classes)}
    keys = [str(_plain_label(v)) for v in values.tolist()] if values.dtype.kind != "U" \
        else values.tolist()
    indices = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        try:
            indices[i] = lookup[key]
        except KeyError:
            raise ValueError(f"label {key!r} (sample {i + 1}) is not one of the model's "
                             f"classes: {', '.join(map(str, classes))}") from None
    return indices, list(classes)


def stratified_split(labels: np.ndarray | None, n: int, fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(train_index, val_index)``, sorted: ``round(n * fraction)`` samples held out, drawn
    per class in proportion to its size when ``labels`` (class indices) are given (every
    class with at least 2 samples keeps one in training and, if there is room, one in
    validation)."""
    rng = np.random.default_rng(seed)
    n_val = int(round(n * fraction))
    if n_val == 0:
        return np.arange(n), np.arange(0)
    if labels is None:
        order = rng.permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    val: list[np.ndarray] = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(len(members) * fraction))
        if len(members) >= 2:
            k = min(max(k, 1), len(members) - 1)
        else:
            k = 0
        val.append(members[:k])
    val_index = np.sort(np.concatenate(val)) if val else np.arange(0)
    train_index = np.setdiff1d(np.arange(n), val_index)
    return train_index, val_index


# ----------------------------------------------------------------------------- reports
def regression_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """``{'mse', 'mae', 'r2'}`` in float64; R² = 1 - SS_res / SS_tot (0 for a constant
    target predicted exactly, -inf-free: a constant target gives R² = 0 or below)."""
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    t = np.asarray(target, dtype=np.float64).reshape(-1)
    residual = float(np.sum((t - p) ** 2))
    total = float(np.sum((t - t.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0 else (0.0 if residual == 0 else -math.inf)
    return {"mse": residual / len(t), "mae": float(np.mean(np.abs(t - p))), "r2": r2}


def format_number(value: float) -> str:
    """Four decimals below 10 (0.9852, 1.0000), four significant digits up to a million
    (2786, 42.64), scientific notation beyond or for tiny values (1.234e+07, 3.000e-05)."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
        return f"{value:.3e}"
    if abs(value) < 10:
        return f"{value:.4f}"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def classification_report(predicted: np.ndarray, target: np.ndarray,
                          classes: Sequence[Any]) -> str:
    """A text table like scikit-learn's: per class precision, recall, F1 and support, then
    the accuracy and the macro and support-weighted means."""
    from scratchnn.metrics import precision_recall_f1

    k = len(classes)
    scores = precision_recall_f1(np.asarray(predicted), np.asarray(target), num_classes=k)
    names = [str(c) for c in classes]
    width = max([len(n) for n in names] + [len("weighted avg")])
    lines = [f"{'':<{width}}  precision     recall         f1    support"]
    for i, name in enumerate(names):
        lines.append(f"{name:<{width}}  {scores['precision'][i]:9.4f}  {scores['recall'][i]:9.4f}"
                     f"  {scores['f1'][i]:9.4f}  {scores['support'][i]:9d}")
    support = scores["support"]
    total = int(support.sum())
    accuracy = float(np.mean(np.asarray(predicted) == np.asarray(target))) if total else 0.0
    weights = support / max(total, 1)
    lines.append("")
    lines.append(f"{'accuracy':<{width}}  {'':9}  {'':9}  {accuracy:9.4f}  {total:9d}")
    lines.append(f"{'macro avg':<{width}}  {scores['macro_precision']:9.4f}  "
                 f"{scores['macro_recall']:9.4f}  {scores['macro_f1']:9.4f}  {total:9d}")
    lines.append(f"{'weighted avg':<{width}}  {float(weights @ scores['precision']):9.4f}  "
                 f"{float(weights @ scores['recall']):9.4f}  "
                 f"{float(weights @ scores['f1']):9.4f}  {total:9d}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- predictor
class Predictor:
    """A trained network with its preprocessing, ready for :meth:`predict`.

    Attributes: ``network`` (the :class:`scratchnn.nn.Module`), ``task``
    (``'classification'`` or ``'regression'``), ``classes`` (class labels, index i = output
    i; None for regression), ``feature_names`` (None when trained on a headerless file or an
    array), ``target_name``, ``image_shape`` (for image models), ``architecture`` (what
    :func:`build_network` rebuilds), ``preprocess`` (``scale``, ``mean``, ``std``,
    ``target_mean``, ``target_std``).
    """

    def __init__(self, network: Module, *, task: str, architecture: Mapping[str, Any],
                 preprocess: Mapping[str, Any] | None = None,
                 classes: Sequence[Any] | None = None,
                 feature_names: Sequence[str] | None = None, target_name: str | None = None,
                 image_shape: Sequence[int] | None = None) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
        self.network = network
        self.task = task
        self.architecture = dict(architecture)
        self.preprocess = {"scale": 1.0, "mean": None, "std": None, "target_mean": 0.0,
                           "target_std": 1.0, **dict(preprocess or {})}
        self.classes = list(classes) if classes is not None else None
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.target_name = target_name
        self.image_shape = tuple(image_shape) if image_shape is not None else None

    @property
    def n_features(self) -> int:
        if self.feature_names is not None:
            return len(self.feature_names)
        if self.architecture.get("kind", "mlp") == "mlp":
            return int(self.architecture["layers"][0])
        return int(np.prod(self.architecture["input_shape"]))

    def __repr__(self) -> str:
        what = (f"classes={self.classes!r}" if self.task == "classification"
                else f"target={self.target_name!r}")
        return (f"Predictor(task={self.task!r}, {self.n_features} features, {what}, "
                f"architecture={self.architecture!r})")

    # ------------------------------------------------------------------ inputs
    def _columns(self, data: Any) -> np.ndarray:
        """A mapping or DataFrame of columns -> (N, F) in the training order, by name."""
        names = list(data.keys()) if isinstance(data, Mapping) else list(data.columns)
        if self.feature_names is None:
            return np.column_stack([np.asarray(data[n], dtype=np.float32) for n in names])
        missing = [n for n in self.feature_names if n not in names]
        if missing:
            raise ValueError(f"missing feature column(s): {', '.join(map(str, missing))} "
                             f"(the model takes {', '.join(self.feature_names)})")
        return np.column_stack([np.asarray(data[n], dtype=np.float32)
                                for n in self.feature_names])

    def transform(self, data: Any) -> np.ndarray:
        """The network's input (N, ...) float32 from raw features: columns matched by name for
        a mapping/DataFrame, then ``(x * scale - mean) / std``."""
        if isinstance(data, Mapping) or hasattr(data, "columns"):
            x = self._columns(data)
        else:
            x = np.array(data.numpy() if isinstance(data, Tensor) else data, dtype=np.float32)
            if x.ndim == 1:
                x = x.reshape(1, -1)
            x = x.reshape(len(x), -1)
        if x.shape[1] != self.n_features:
            raise ValueError(f"got {x.shape[1]} features per sample, the model takes "
                             f"{self.n_features}")
        x = x.astype(np.float32, copy=True)
        x *= np.float32(self.preprocess.get("scale") or 1.0)
        if self.preprocess.get("mean") is not None:
            x -= np.asarray(self.preprocess["mean"], dtype=np.float32)
            x /= np.asarray(self.preprocess["std"], dtype=np.float32)
        if self.architecture.get("input_shape") is not None:
            x = x.reshape(len(x), *self.architecture["input_shape"])
        return x

    def outputs(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Raw network outputs (N, outputs) for already transformed input, in eval mode."""
        self.network.eval()
        with no_grad():
            chunks = [self.network(Tensor(x[i:i + batch_size])).numpy()
                      for i in range(0, len(x), batch_size)]
        if not chunks:
            return np.zeros((0, len(self.classes or [0])), dtype=np.float32)
        return np.concatenate(chunks)

    # ------------------------------------------------------------------ outputs
    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Softmax of class scores, row by row (float64, stable)."""
        z = outputs.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def values(self, outputs: np.ndarray) -> np.ndarray:
        """Regression outputs in the target's units (N,)."""
        return (outputs.astype(np.float64).reshape(len(outputs), -1)[:, 0]
                * float(self.preprocess["target_std"]) + float(self.preprocess["target_mean"]))

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities (N, classes); classification only."""
        if self.task != "classification":
            raise ValueError("predict_proba needs a classification model; this one regresses")
        return self.probabilities(self.outputs(self.transform(data)))

    def predict(self, data: Any) -> np.ndarray:
        """Class labels (classification) or values in the target's units (regression), (N,)."""
        outputs = self.outputs(self.transform(data))
        if self.task == "regression":
            return self.values(outputs)
        return np.asarray(self.classes, dtype=object)[outputs.argmax(axis=1)] \
            if any(isinstance(c, str) for c in self.classes or []) \
            else np.asarray(self.classes)[outputs.argmax(axis=1)]

    # -------------------------------------------------------------- checkpoints
    def record(self) -> dict[str, Any]:
        """What a checkpoint's ``extra`` stores about this predictor (plain values)."""
        def plain(v: Any) -> Any:
            return None if v is None else np.asarray(v, dtype=np.float32)

        preprocess = dict(self.preprocess)
        preprocess["mean"], preprocess["std"] = plain(preprocess["mean"]), \
            plain(preprocess["std"])
        return {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "task": self.task,
            "architecture": self.architecture, "preprocess": preprocess,
            "classes": self.classes,
            "data": {"feature_names": self.feature_names, "target_name": self.target_name,
                     "image_shape": list(self.image_shape) if self.image_shape else None},
        }

    @classmethod
    def from_record(cls, extra: Mapping[str, Any], where: str = "checkpoint") -> Predictor:
        """Rebuild from a checkpoint's ``extra`` (weights not loaded); ``ValueError`` naming
        ``where`` if the record is not one ``scratchnn train`` wrote."""
        if not isinstance(extra, Mapping) or extra.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{where}: not a checkpoint written by 'scratchnn train' (it has "
                             "no record of the architecture)")
        architecture = dict(extra.get("architecture") or {})
        architecture.setdefault("kind", "mlp")
        layers = architecture.get("layers")
        if architecture["kind"] == "mlp" and (
                not isinstance(layers, list) or len(layers) < 2
                or architecture.get("activation") not in ACTIVATIONS):
            raise ValueError(f"{where}: corrupt architecture record {architecture!r}")
        data = extra.get("data") or {}
        task = extra.get("task", "classification")  # version 1: classifiers only
        classes = extra.get("classes")
        if task == "classification" and classes is None and architecture["kind"] == "mlp":
            classes = list(range(int(layers[-1])))
        if not isinstance(extra.get("preprocess"), Mapping):
            raise ValueError(f"{where}: corrupt checkpoint record (no preprocessing)")
        try:
            network = build_network(architecture)
        except (KeyError, TypeError, ValueError, ImportError) as error:
            raise ValueError(f"{where}: cannot rebuild the network: {error}") from None
        return cls(network, task=task, architecture=architecture,
                   preprocess=extra["preprocess"], classes=classes,
                   feature_names=data.get("feature_names"), target_name=data.get("target_name"),
                   image_shape=data.get("image_shape"))


def load_model(path: str | os.PathLike[str]) -> Predictor:
    """The :class:`Predictor` in a checkpoint written by ``scratchnn train`` (network weights,
    preprocessing, class names), in eval mode. Raises ``scratchnn.CheckpointError`` for a
    file that is not such a checkpoint."""
    from scratchnn.serialization import CheckpointError, load_checkpoint
    from scratchnn.serialization import load_checkpoint_record as load  # npz or safetensors

    name = os.fspath(path)
    checkpoint = load(name)
    extra = checkpoint.get("extra") if isinstance(checkpoint, dict) else None
    try:
        predictor = Predictor.from_record(extra or {}, name)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    load_checkpoint(name, predictor.network)
    predictor.network.eval()
    return predictor
