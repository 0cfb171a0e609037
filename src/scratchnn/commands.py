"""``scratchnn train | evaluate | predict``: an MLP classifier on your own data, from the shell.

::

    scratchnn train --data admissions.csv --target-column admit --layers 3,16,2 \\
        --standardize --epochs 30 --checkpoint admit.npz --plots plots/
    scratchnn evaluate --checkpoint admit.npz --data admissions.csv
    scratchnn predict --checkpoint admit.npz new_students.csv

Data is either a CSV file (one sample per row, one column holds the class index; see
:mod:`scratchnn.csvdata`) or a directory holding an IDX pair in the MNIST layout
(``train-images-idx3-ubyte[.gz]`` + ``train-labels-idx1-ubyte[.gz]``; ``evaluate`` prefers the
``t10k-*`` pair when present). uint8 images are scaled to [0, 1].

The checkpoint (:func:`scratchnn.serialization.save_checkpoint`, written after every epoch)
records in ``extra`` everything needed to rebuild and feed the model: the layer sizes and
activation, the optimizer, the input preprocessing (scale, standardization statistics), what
the data looked like (feature names, image shape) and the training history. Problems a user
can fix are reported as one line and exit status 2 (``scratchnn.cli.UsageError``).
"""

from __future__ import annotations

import argparse
import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.cli import UsageError

ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {"sgd": 0.01, "adam": 0.001}
DEFAULT_HIDDEN = 64
CHECKPOINT_FORMAT = "scratchnn.cli.mlp"
# train's options that shape the run; with --resume, a left-out one is the checkpoint's
TRAIN_DEFAULTS = {"batch_size": 32, "val_split": 0.1, "seed": 0}


def _usage_error(message: str) -> UsageError:
    """A ``UsageError`` (one line on stderr, exit status 2) with ``message`` on one line."""
    return UsageError(re.sub(r"\s*\n\s*", "; ", str(message).strip()))


# =========================================================================== the parser
_EXAMPLES = """\
examples:
  scratchnn train --data data.csv --target-column label --layers 4,16,3 --epochs 20 \\
      --checkpoint model.npz --plots plots/
  scratchnn train --data ~/mnist/ --layers 784,128,10 --optimizer sgd --lr 0.1 \\
      --momentum 0.9 --checkpoint mnist.npz
  scratchnn train --data ~/mnist/ --resume mnist.npz --checkpoint mnist.npz --epochs 20
"""


def _wrap(text: str) -> str:
    """A description for the raw help formatter (which keeps the examples' line breaks)."""
    return textwrap.fill(text, width=79)


def _add_data_options(parser: argparse.ArgumentParser, target_default: str) -> None:
    parser.add_argument(
        "--data", metavar="PATH", required=True,
        help="a CSV file (one sample per row, numbers only, optional header row) or a "
             "directory holding an IDX pair in the MNIST layout: train-images-idx3-ubyte and "
             "train-labels-idx1-ubyte, optionally gzipped",
    )
    parser.add_argument(
        "--target-column", metavar="NAME|INDEX",
        help="CSV only: the column holding the class labels (whole numbers 0, 1, ...), by "
             "header name or 0-based index, negative counting from the end "
             f"(default: {target_default})",
    )


def _add_batch_size(parser: argparse.ArgumentParser, default: int, resumable: bool = False
                    ) -> None:
    parser.add_argument("--batch-size", type=int, default=None if resumable else default,
                        metavar="N",
                        help=f"samples per mini-batch (default: {default}"
                             + ("; with --resume: the checkpoint's)" if resumable else ")"))


def add_commands(subparsers: Any) -> None:
    """Add ``train``, ``evaluate`` and ``predict`` to the ``scratchnn`` parser."""
    formatter = argparse.RawDescriptionHelpFormatter

    train = subparsers.add_parser(
        "train", help="train an MLP classifier on a CSV file or an IDX pair",
        description=_wrap(
            "Train a multi-layer perceptron (Linear layers with an activation between them, "
            "cross-entropy loss) to predict the class of each sample. Prints the loss and "
            "accuracy of every epoch, writes a checkpoint after every epoch (--checkpoint) "
            "and plots (--plots)."
        ),
        epilog=_EXAMPLES, formatter_class=formatter,
    )
    _add_data_options(train, "the last column")
    train.add_argument(
        "--layers", metavar="N,N,...",
        help="layer sizes from input to output, e.g. 784,128,10: the first is the number of "
             "features per sample, the last the number of classes (default: features,"
             f"{DEFAULT_HIDDEN},classes; with --resume: the checkpoint's)",
    )
    train.add_argument("--activation", choices=ACTIVATIONS,
                       help="activation between the Linear layers (default: relu; with "
                            "--resume: the checkpoint's)")
    train.add_argument("--optimizer", choices=OPTIMIZERS,
                       help="optimizer (default: adam; with --resume: the checkpoint's)")
    train.add_argument("--lr", type=float, metavar="RATE",
                       help="learning rate (default: 0.01 for sgd, 0.001 for adam; with "
                            "--resume: the checkpoint's)")
    train.add_argument("--momentum", type=float, metavar="M",
                       help="momentum of --optimizer sgd (default: 0; with --resume: the "
                            "checkpoint's)")
    _add_batch_size(train, TRAIN_DEFAULTS["batch_size"], resumable=True)
    train.add_argument("--epochs", type=int, default=10, metavar="N",
                       help="total number of epochs; with --resume, training continues from "
                            "the checkpoint's epoch up to N (default: 10)")
    train.add_argument("--val-split", type=float, metavar="FRACTION",
                       help="fraction of the samples held out for validation, from 0 "
                            "(none) to below 1 (default: 0.1; with --resume: the "
                            "checkpoint's, so the same samples stay held out)")
    train.add_argument("--seed", type=int, metavar="N",
                       help="random seed for the weights, the validation split and the "
                            "shuffling (default: 0; with --resume: the checkpoint's)")
    train.add_argument("--standardize", action="store_true",
                       help="scale every feature to mean 0 and standard deviation 1 (statistics "
                            "of the training samples, stored in the checkpoint and reused by "
                            "evaluate and predict); helps on CSV columns of different scales")
    train.add_argument("--checkpoint", metavar="PATH",
                       help="write a checkpoint (model, optimizer, architecture, history) here "
                            "after every epoch; a run that diverges keeps the last good one")
    train.add_argument("--resume", metavar="PATH",
                       help="continue training from this checkpoint (same --layers and "
                            "--activation; its optimizer state is restored)")
    train.add_argument("--plots", metavar="DIR",
                       help="write PNG plots here: learning curves, confusion matrix of the "
                            "validation samples, the network, and a decision boundary (2 "
                            "features) or predicted images (image data); needs matplotlib")
    train.set_defaults(handler=train_command)

    evaluate = subparsers.add_parser(
        "evaluate", help="loss, accuracy and confusion matrix of a checkpoint on labelled data",
        description=_wrap(
            "Evaluate a checkpoint written by 'scratchnn train' on labelled data (same format "
            "as for training; a directory's t10k-* IDX pair is used when present, else its "
            "train-* pair): prints the loss, the accuracy and the confusion matrix."
        ),
        formatter_class=formatter,
    )
    evaluate.add_argument("--checkpoint", metavar="PATH", required=True,
                          help="checkpoint written by 'scratchnn train'")
    _add_data_options(evaluate, "the column the model was trained on")
    _add_batch_size(evaluate, 256)
    evaluate.add_argument("--plots", metavar="DIR",
                          help="also write the confusion matrix as DIR/confusion_matrix.png "
                               "(needs matplotlib)")
    evaluate.set_defaults(handler=evaluate_command)

    predict = subparsers.add_parser(
        "predict", help="predicted class and probabilities for new samples",
        description=_wrap(
            "Print the predicted class and the class probabilities of every sample: each row "
            "of a CSV file (features only, in the training order; a column named like the "
            "training target is ignored), or each PNG image (grayscale, of the size the model "
            "was trained on, e.g. 28x28)."
        ),
        formatter_class=formatter,
    )
    predict.add_argument("--checkpoint", metavar="PATH", required=True,
                         help="checkpoint written by 'scratchnn train'")
    predict.add_argument("inputs", nargs="+", metavar="INPUT",
                         help="a CSV file of samples, or one or more PNG images")
    predict.add_argument("--target-column", metavar="NAME|INDEX",
                         help="CSV only: a column to ignore, e.g. labels left in the file "
                              "(by header name or 0-based index)")
    predict.set_defaults(handler=predict_command)


# ======================================================================== options, model
def _parse_layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise _usage_error(
            f"--layers must be comma-separated whole numbers such as 784,128,10, got {text!r}"
        ) from None
    if len(sizes) < 2 or any(size < 1 for size in sizes):
        raise _usage_error(
            f"--layers needs at least two sizes >= 1 (inputs and outputs), got {text!r}"
        )
    return sizes


def _layers_text(layers: list[int]) -> str:
    return ",".join(map(str, layers))


def build_mlp(layers: list[int], activation: str) -> Any:
    """``Sequential(Linear(l0, l1), Act(), Linear(l1, l2), ..., Linear(l[-2], l[-1]))``; the
    output is raw class scores (logits) for ``CrossEntropyLoss``."""
    from scratchnn import nn

    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    modules: list[Any] = []
    for index, (n_in, n_out) in enumerate(zip(layers, layers[1:], strict=False)):
        if index:
            modules.append(act())
        modules.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*modules)


def _check_positive(name: str, value: float | int | None, allow_zero: bool = False) -> None:
    if value is None:
        return
    ok = value >= 0 if allow_zero else value > 0
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        bound = "non-negative" if allow_zero else "positive"
        raise _usage_error(f"{name} must be {bound}, got {value}")


def _require_matplotlib(option: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise _usage_error(f"{option} needs matplotlib: install scratchnn[plot]") from None


# ================================================================================= data
@dataclass
class Samples:
    """Labelled (or unlabelled) samples as the model sees them before preprocessing."""

    source: str  # what to call the data in messages
    kind: str  # "csv" or "idx"
    features: np.ndarray  # (N, F) raw values: float32 from CSV, uint8 0..255 for images
    labels: np.ndarray | None  # (N,) int64
    where: list[str]  # how to name sample i in messages: "row 17" or "sample 5"
    feature_names: list[str] | None = None
    target_name: str | None = None
    target_index: int | None = None
    image_shape: tuple[int, ...] | None = None
    scale: float = 1.0  # multiply raw values by this (1/255 for uint8 images)


def _idx_files(directory: Path, prefixes: tuple[str, ...]) -> tuple[Path, Path]:
    files = sorted(p for p in directory.iterdir() if p.is_file())
    for prefix in prefixes:
        images = [p for p in files if p.name.startswith(prefix) and "images" in p.name
                  and "idx" in p.name]
        labels = [p for p in files if p.name.startswith(prefix) and "labels" in p.name
                  and "idx" in p.name]
        if images and labels:
            return images[0], labels[0]
    wanted = " or ".join(f"{p}-images-idx3-ubyte + {p}-labels-idx1-ubyte" for p in prefixes)
    raise _usage_error(f"{directory}: no IDX pair found (expected {wanted}, optionally .gz)")


def _load_idx(directory: Path, prefixes: tuple[str, ...]) -> Samples:
    from scratchnn.data import read_idx

    images_path, labels_path = _idx_files(directory, prefixes)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim < 2:
        raise _usage_error(f"{images_path}: expected images of shape (N, ...), got {images.shape}")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise _usage_error(f"{labels_path}: expected integer labels of shape (N,), "
                           f"got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise _usage_error(f"{labels_path}: {len(labels)} labels for {len(images)} images "
                           f"in {images_path.name}")
    if len(images) == 0:
        raise _usage_error(f"{images_path}: no images")
    negative = np.flatnonzero(labels < 0)
    if negative.size:
        raise _usage_error(f"{labels_path}: label {labels[negative[0]]} of sample "
                           f"{negative[0] + 1} is negative")
    shape = tuple(int(s) for s in images.shape[1:])
    return Samples(
        source=f"{directory} ({images_path.name})",
        kind="idx",
        features=images.reshape(len(images), -1),
        labels=labels.astype(np.int64),
        where=[f"sample {i + 1}" for i in range(len(labels))],
        image_shape=shape if len(shape) == 2 else None,
        scale=1 / 255 if images.dtype == np.uint8 else 1.0,
    )


def _target_argument(text: str | None) -> str | int:
    if text is None:
        return -1
    return text  # load_csv takes header names and (string) indices


def _load_csv(path: Path, target_column: Any, ignore_target: bool = False) -> Samples:
    from scratchnn.csvdata import load_csv

    table = load_csv(path, target_column, ignore_target=ignore_target)
    return Samples(
        source=str(path),
        kind="csv",
        features=table.features,
        labels=table.labels,
        where=[f"row {row}" for row in table.rows],
        feature_names=table.feature_names if table.has_header else None,
        target_name=table.target_name if table.has_header else None,
        target_index=table.target_index,
    )


def load_samples(path_text: str, target_column: str | None,
                 prefixes: tuple[str, ...] = ("train",)) -> Samples:
    """Labelled samples from ``--data``: a directory (IDX pair) or a CSV file."""
    from scratchnn.data import DataError

    path = Path(path_text).expanduser()
    try:
        if path.is_dir():
            if target_column is not None:
                raise _usage_error("--target-column applies to CSV files, not IDX directories")
            return _load_idx(path, prefixes)
        if not path.exists():
            raise _usage_error(f"{path_text}: no such file or directory")
        if "idx" in path.name and "ubyte" in path.name:
            raise _usage_error(f"{path_text}: pass the directory that holds the IDX pair "
                               "(images and labels), not one IDX file")
        return _load_csv(path, _target_argument(target_column))
    except DataError as error:
        raise _usage_error(str(error)) from None
    except OSError as error:
        raise _usage_error(f"{error.filename or path_text}: {error.strerror or error}") from None


def _check_labels(samples: Samples, outputs: int, what: str) -> None:
    bad = np.flatnonzero(samples.labels >= outputs)
    if bad.size:
        i = int(bad[0])
        raise _usage_error(
            f"label {samples.labels[i]} in {samples.where[i]} of {samples.source} is outside "
            f"the {outputs} outputs of {what} (labels must be 0 to {outputs - 1})"
        )


def _preprocess(features: np.ndarray, preprocess: dict[str, Any]) -> np.ndarray:
    """The model's input: ``features * scale``, then ``(x - mean) / std`` if standardized
    (a new float32 array, computed in place to keep the memory of large data sets down)."""
    x = features.astype(np.float32)  # a copy
    x *= np.float32(preprocess.get("scale", 1.0))
    if preprocess.get("mean") is not None:
        x -= np.asarray(preprocess["mean"], dtype=np.float32)
        x /= np.asarray(preprocess["std"], dtype=np.float32)
    return x


# =========================================================================== checkpoints
def _read_checkpoint_info(path_text: str) -> dict[str, Any]:
    """The ``extra`` that ``scratchnn train`` stored in a checkpoint (checked)."""
    from scratchnn.serialization import CheckpointError, load

    try:
        checkpoint = load(path_text)
    except CheckpointError as error:
        raise _usage_error(str(error)) from None
    extra = checkpoint.get("extra") if isinstance(checkpoint, dict) else None
    if not isinstance(extra, dict) or extra.get("format") != CHECKPOINT_FORMAT:
        raise _usage_error(f"{path_text}: not a checkpoint written by 'scratchnn train' (it "
                           "has no record of the architecture)")
    architecture = extra.get("architecture") or {}
    layers, activation = architecture.get("layers"), architecture.get("activation")
    if not isinstance(layers, list) or len(layers) < 2 or activation not in ACTIVATIONS:
        raise _usage_error(f"{path_text}: corrupt architecture record {architecture!r}")
    optimizer = extra.get("optimizer")
    if not isinstance(extra.get("preprocess"), dict) or not isinstance(optimizer, dict) \
            or optimizer.get("name") not in OPTIMIZERS:
        raise _usage_error(f"{path_text}: corrupt checkpoint record (preprocessing or "
                           "optimizer missing)")
    extra["epoch"] = int(checkpoint.get("epoch", 0))
    return extra


def _restore(path_text: str, model: Any, optimizer: Any = None) -> dict[str, Any]:
    from scratchnn.serialization import CheckpointError, load_checkpoint

    try:
        return load_checkpoint(path_text, model, optimizer, restore_rng=optimizer is not None)
    except CheckpointError as error:
        raise _usage_error(str(error)) from None


def _model_from_checkpoint(path_text: str) -> tuple[Any, dict[str, Any]]:
    info = _read_checkpoint_info(path_text)
    architecture = info["architecture"]
    model = build_mlp([int(n) for n in architecture["layers"]], architecture["activation"])
    _restore(path_text, model)
    model.eval()
    return model, info


def _describe(info: dict[str, Any]) -> str:
    architecture = info["architecture"]
    layers = _layers_text(architecture["layers"])
    return f"--layers {layers} --activation {architecture['activation']}"


def _merge_history(previous: dict[str, Any] | None, history: Any) -> Any:
    """The history of earlier runs (from a resumed checkpoint) followed by this run's."""
    from scratchnn.train import History

    if not previous:
        return history
    merged = History.from_dict(previous)
    n_before = len(merged.epoch)
    for name, values in history.history.items():
        column = merged.history.setdefault(name, [None] * n_before)
        column.extend([None] * (n_before - len(column)))
        column.extend(values)
    for column in merged.history.values():
        column.extend([None] * (n_before + len(history.epoch) - len(column)))
    merged.epoch.extend(history.epoch)
    merged.step_loss.extend(history.step_loss)
    return merged


def _checkpoint_callback(path: Path, model: Any, optimizer: Any, extra: dict[str, Any],
                         previous_history: dict[str, Any] | None) -> Any:
    """A callback that saves the checkpoint after every completed epoch."""
    from scratchnn.callbacks import Callback, History
    from scratchnn.serialization import save_checkpoint

    class SaveCheckpoint(Callback):
        def __init__(self) -> None:
            super().__init__()
            self.saved_epoch: int | None = None
            self.history = History()  # this run's epochs, recorded here before each save

        def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
            self.history.on_batch_end(step, logs)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            self.history.append_epoch(epoch, logs)
            history = _merge_history(previous_history, self.history)
            record = dict(extra, history=history.to_dict())
            try:
                save_checkpoint(path, model, optimizer, epoch=epoch + 1, extra=record)
            except OSError as error:
                raise _usage_error(f"{path}: cannot write the checkpoint: "
                                   f"{error.strerror or error}") from None
            self.saved_epoch = epoch + 1

    return SaveCheckpoint()


# ================================================================================ train
def _resolve_train_options(args: argparse.Namespace, resume: dict[str, Any] | None,
                           samples: Samples) -> dict[str, Any]:
    """Architecture and optimizer settings: the options given, else the checkpoint's (when
    resuming), else the defaults; a resume that would change the architecture is an error."""
    n_features = samples.features.shape[1]
    if resume is not None:
        layers = [int(n) for n in resume["architecture"]["layers"]]
        activation = resume["architecture"]["activation"]
        given = _parse_layers(args.layers) if args.layers else layers
        if given != layers or (args.activation or activation) != activation:
            raise _usage_error(
                f"--resume {args.resume} was trained with {_describe(resume)}, not --layers "
                f"{_layers_text(given)} --activation {args.activation or activation}; leave "
                "out --layers/--activation to continue with the checkpoint's architecture"
            )
        if layers[0] != n_features:
            raise _usage_error(
                f"--resume {args.resume} takes {layers[0]} features per sample, but "
                f"{samples.source} has {n_features}"
            )
        optimizer = args.optimizer or resume["optimizer"]["name"]
        if optimizer != resume["optimizer"]["name"]:
            raise _usage_error(f"--resume {args.resume} was trained with --optimizer "
                               f"{resume['optimizer']['name']}, not {optimizer}")
        return {"layers": layers, "activation": activation, "optimizer": optimizer,
                "lr": args.lr, "momentum": args.momentum}

    if args.layers:
        layers = _parse_layers(args.layers)
        if layers[0] != n_features:
            raise _usage_error(
                f"--layers {args.layers} starts with {layers[0]} inputs, but {samples.source} "
                f"has {n_features} features per sample: make the first size {n_features}"
            )
    else:
        classes = max(2, int(samples.labels.max()) + 1)
        layers = [n_features, DEFAULT_HIDDEN, classes]
    optimizer = args.optimizer or "adam"
    lr = args.lr if args.lr is not None else DEFAULT_LR[optimizer]
    return {"layers": layers, "activation": args.activation or "relu", "optimizer": optimizer,
            "lr": lr, "momentum": args.momentum or 0.0}


def _make_optimizer(model: Any, settings: dict[str, Any]) -> Any:
    from scratchnn import optim

    lr = settings["lr"] if settings["lr"] is not None else DEFAULT_LR[settings["optimizer"]]
    if settings["optimizer"] == "sgd":
        return optim.SGD(model.parameters(), lr=lr, momentum=settings["momentum"] or 0.0)
    return optim.Adam(model.parameters(), lr=lr)


def _split(n: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_split))
    if n - n_val < 1:
        raise _usage_error(f"--val-split {val_split} leaves no training samples out of {n}")
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train_command(args: argparse.Namespace) -> int:
    import scratchnn
    from scratchnn import nn
    from scratchnn.data import DataLoader, TensorDataset
    from scratchnn.train import TrainingDiverged, fit

    for name, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--lr", args.lr)):
        _check_positive(name, value)
    _check_positive("--momentum", args.momentum, allow_zero=True)
    _check_positive("--seed", args.seed, allow_zero=True)
    if args.val_split is not None and not 0 <= args.val_split < 1:
        raise _usage_error(f"--val-split must be at least 0 and below 1, got {args.val_split}")
    if args.plots:
        _require_matplotlib("--plots")
        if Path(args.plots).exists() and not Path(args.plots).is_dir():
            raise _usage_error(f"--plots {args.plots}: exists and is not a directory")
    if args.checkpoint and Path(args.checkpoint).is_dir():
        raise _usage_error(f"--checkpoint {args.checkpoint}: is a directory; give a file name")

    samples = load_samples(args.data, args.target_column)
    resume = _read_checkpoint_info(args.resume) if args.resume else None
    for name, default in TRAIN_DEFAULTS.items():  # left out: the checkpoint's, else default
        if getattr(args, name) is None:
            value = resume.get(name) if resume is not None else None
            setattr(args, name, default if value is None else type(default)(value))
    settings = _resolve_train_options(args, resume, samples)
    if settings["momentum"] and settings["optimizer"] != "sgd":
        raise _usage_error("--momentum applies to --optimizer sgd only")
    layers = settings["layers"]
    _check_labels(samples, layers[-1], f"--layers {_layers_text(layers)}")

    train_index, val_index = _split(len(samples.features), args.val_split, args.seed)
    if resume is not None:
        preprocess = resume["preprocess"]
        if args.standardize and preprocess.get("mean") is None:
            raise _usage_error(f"--resume {args.resume} was trained without --standardize; "
                               "its inputs cannot be rescaled now")
    else:
        preprocess = {"scale": samples.scale, "mean": None, "std": None}
        if args.standardize:
            scaled = samples.features[train_index] * np.float32(samples.scale)
            std = scaled.std(axis=0)
            preprocess["mean"] = scaled.mean(axis=0)
            preprocess["std"] = np.where(std > 0, std, 1.0).astype(np.float32)
    x = _preprocess(samples.features, preprocess)
    y = samples.labels

    scratchnn.manual_seed(args.seed)
    model = build_mlp(layers, settings["activation"])
    optimizer = _make_optimizer(model, settings)
    initial_epoch, previous_history = 0, None
    if resume is not None:
        checkpoint = _restore(args.resume, model, optimizer)
        initial_epoch = int(checkpoint["epoch"])
        previous_history = resume.get("history")
        for group in optimizer.param_groups:
            if args.lr is not None:
                group["lr"] = args.lr
            if args.momentum is not None and "momentum" in group:
                group["momentum"] = args.momentum
        if initial_epoch >= args.epochs:
            raise _usage_error(f"--resume {args.resume} has already trained {initial_epoch} "
                               f"epochs; pass --epochs above {initial_epoch} to train more")
    lr = optimizer.param_groups[0]["lr"]

    extra: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        "architecture": {"layers": layers, "activation": settings["activation"]},
        "optimizer": {"name": settings["optimizer"], "lr": lr,
                      "momentum": optimizer.param_groups[0].get("momentum", 0.0)},
        "preprocess": preprocess,
        "data": {"kind": samples.kind, "source": samples.source,
                 "feature_names": samples.feature_names, "target_name": samples.target_name,
                 "target_index": samples.target_index,
                 "image_shape": list(samples.image_shape) if samples.image_shape else None},
        "seed": args.seed,
        "val_split": args.val_split,
        "batch_size": args.batch_size,
    }
    callbacks = []
    checkpoint_path = None
    if args.checkpoint:
        checkpoint_path = Path(args.checkpoint).expanduser()
        try:
            checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _usage_error(f"{checkpoint_path.parent}: cannot create the checkpoint's "
                               f"directory: {error.strerror or error}") from None
        callbacks.append(_checkpoint_callback(checkpoint_path, model, optimizer, extra,
                                              previous_history))

    n_params = sum(p.numel() for p in model.parameters())
    print(f"data: {samples.source}: {len(train_index)} training and {len(val_index)} "
          f"validation samples, {x.shape[1]} features, {layers[-1]} classes")
    print(f"model: {' -> '.join(map(str, layers))} ({settings['activation']}), "
          f"{n_params:,} parameters; {settings['optimizer']} lr={lr:g}"
          + (f", resuming after epoch {initial_epoch}" if resume is not None else ""),
          flush=True)

    train_loader = DataLoader(TensorDataset(x[train_index], y[train_index]),
                              batch_size=args.batch_size, shuffle=True)
    val_loader = None
    if len(val_index):
        val_loader = DataLoader(TensorDataset(x[val_index], y[val_index]), batch_size=256)
    try:
        # a diverging run overflows on its way to NaN: report that once, below, not as
        # NumPy's RuntimeWarnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            history = fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, epochs=args.epochs,
                          val_loader=val_loader, metrics=("accuracy",),
                          callbacks=callbacks, initial_epoch=initial_epoch, verbose=1)
    except TrainingDiverged as error:
        raise _usage_error(_diverged_message(error, args, callbacks, initial_epoch,
                                             samples)) from None
    if checkpoint_path is not None:
        print(f"checkpoint: {checkpoint_path} (epoch {callbacks[0].saved_epoch})")
    if args.plots:
        history = _merge_history(previous_history, history)
        eval_index = val_index if len(val_index) else train_index
        written = _training_plots(Path(args.plots), model, history, samples, x, eval_index,
                                  layers, preprocess)
        print(f"plots: {', '.join(str(p) for p in written)}")
    return 0


def _diverged_message(error: Any, args: argparse.Namespace, callbacks: list[Any],
                      initial_epoch: int, samples: Samples) -> str:
    where = f"step {error.step + 1} (epoch {error.epoch + 1}"
    where += f", batch {error.batch + 1})" if error.batch is not None else ")"
    message = f"training diverged at {where}: {error.reason}"
    if args.checkpoint:
        saved = callbacks[0].saved_epoch
        same_as_resume = args.resume and Path(args.resume).resolve() == Path(
            args.checkpoint).resolve()
        if saved is not None:
            message += f"; {args.checkpoint} keeps the last good checkpoint (epoch {saved})"
        elif same_as_resume:
            message += (f"; {args.checkpoint} keeps the last good checkpoint "
                        f"(epoch {initial_epoch})")
        else:
            message += f"; no epoch completed, so nothing was written to {args.checkpoint}"
    hint = "try a smaller --lr"
    if samples.kind == "csv" and not args.standardize and not args.resume:
        hint += " or --standardize"
    return f"{message}; {hint}"


def _logits(model: Any, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The model's class scores (N, classes) for the rows of ``x``, a batch at a time."""
    from scratchnn.tensor import Tensor, no_grad

    model.eval()
    with no_grad():
        chunks = [model(Tensor(x[start:start + batch_size])).numpy()
                  for start in range(0, len(x), batch_size)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)


def _class_probabilities(model: Any, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    from scratchnn import functional as F
    from scratchnn.tensor import Tensor

    logits = _logits(model, x, batch_size)
    return F.softmax(Tensor(logits), dim=1).numpy() if len(logits) else logits


def _training_plots(out: Path, model: Any, history: Any, samples: Samples, x: np.ndarray,
                    eval_index: np.ndarray, layers: list[int],
                    preprocess: dict[str, Any]) -> list[Path]:
    from scratchnn import plot
    from scratchnn.metrics import confusion_matrix

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _usage_error(f"{out}: cannot create the plots directory: "
                           f"{error.strerror or error}") from None
    probs = _class_probabilities(model, x[eval_index])
    labels = samples.labels[eval_index]
    predicted = probs.argmax(axis=1)
    which = "validation" if len(eval_index) < len(x) else "training"
    written = [out / "history.png", out / "confusion_matrix.png", out / "network.png"]
    plot.plot_history(history, written[0])
    plot.plot_confusion_matrix(confusion_matrix(predicted, labels, num_classes=layers[-1]),
                               path=written[1], title=f"confusion matrix ({which} samples)")
    plot.plot_network(layers, written[2])
    if samples.image_shape is not None:
        images = samples.features[eval_index].reshape(-1, *samples.image_shape)
        written.append(out / "predictions.png")
        plot.plot_image_grid(images, predicted, labels, written[-1],
                             title=f"{which} samples: predicted vs true")
    elif samples.features.shape[1] == 2:
        def predict_fn(points: np.ndarray) -> np.ndarray:
            return _class_probabilities(model, _preprocess(points, preprocess))

        written.append(out / "decision_boundary.png")
        plot.plot_decision_boundary(predict_fn, samples.features[eval_index], labels,
                                    written[-1], title=f"decision boundary ({which} samples)")
    return written


# ============================================================================= evaluate
def _format_matrix(matrix: np.ndarray) -> str:
    k = matrix.shape[0]
    width = max(len(str(int(matrix.max()))) if matrix.size else 1, len(str(k - 1)), 4) + 1
    lines = ["confusion matrix (rows: true class, columns: predicted class):",
             "true\\pred".ljust(10) + "".join(str(j).rjust(width) for j in range(k))]
    for i in range(k):
        lines.append(str(i).ljust(10) + "".join(str(int(v)).rjust(width) for v in matrix[i]))
    return "\n".join(lines)


def _check_features(samples: Samples, info: dict[str, Any], checkpoint: str) -> None:
    layers = info["architecture"]["layers"]
    n_features = samples.features.shape[1]
    if n_features != layers[0]:
        raise _usage_error(
            f"{checkpoint} holds a model for {layers[0]} features per sample ({_describe(info)})"
            f", but {samples.source} has {n_features}"
        )


def _training_target(args: argparse.Namespace, info: dict[str, Any]) -> str | None:
    """``--target-column``, else the CSV column the model was trained to predict: by name when
    the file has that column in its header, else by index."""
    from scratchnn.csvdata import read_header

    data = info.get("data") or {}
    path = Path(args.data).expanduser()
    if args.target_column is not None or data.get("kind") != "csv" or not path.is_file():
        return args.target_column
    name, index = data.get("target_name"), data.get("target_index")
    header = read_header(path)
    if name and header and name in header:
        return name
    return None if index is None else str(index)


def evaluate_command(args: argparse.Namespace) -> int:
    from scratchnn import functional as F
    from scratchnn.metrics import confusion_matrix
    from scratchnn.tensor import Tensor

    _check_positive("--batch-size", args.batch_size)
    if args.plots:
        _require_matplotlib("--plots")
    model, info = _model_from_checkpoint(args.checkpoint)
    samples = load_samples(args.data, _training_target(args, info),
                           prefixes=("t10k", "test", "train"))
    _check_features(samples, info, args.checkpoint)
    outputs = info["architecture"]["layers"][-1]
    _check_labels(samples, outputs, f"the model in {args.checkpoint}")
    x = _preprocess(samples.features, info["preprocess"])
    logits = _logits(model, x, args.batch_size)  # one pass gives the loss and the predictions
    loss = F.cross_entropy(Tensor(logits), samples.labels).item()
    matrix = confusion_matrix(logits.argmax(axis=1), samples.labels, num_classes=outputs)
    correct = int(np.trace(matrix))
    print(f"data: {samples.source}: {len(x)} samples")
    print(f"loss: {loss:.4f}")
    print(f"accuracy: {correct / len(x):.4f} ({correct}/{len(x)})")
    print(_format_matrix(matrix))
    if args.plots:
        from scratchnn import plot

        out = Path(args.plots)
        out.mkdir(parents=True, exist_ok=True)
        plot.plot_confusion_matrix(matrix, path=out / "confusion_matrix.png")
        print(f"plots: {out / 'confusion_matrix.png'}")
    return 0


# ============================================================================== predict
def _read_png(path: Path, image_shape: tuple[int, ...]) -> np.ndarray:
    """A grayscale PNG as a flat row of 0..255 values (the scale of the training images)."""
    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise _usage_error("reading PNG images needs matplotlib: install scratchnn[plot]") \
            from None
    try:
        image = np.asarray(mpimg.imread(path, format="png"), dtype=np.float64)
    except (OSError, ValueError, SyntaxError) as error:
        raise _usage_error(f"{path}: cannot read the PNG image: {error}") from None
    if image.ndim == 3:
        color = image[..., :3]
        if image.shape[2] < 3 or not np.allclose(color, color[..., :1], atol=1 / 255):
            raise _usage_error(
                f"{path}: a color image; the model takes grayscale "
                f"{'x'.join(map(str, image_shape))} images"
            )
        image = color[..., 0]
    if image.shape != tuple(image_shape):
        raise _usage_error(
            f"{path}: is {image.shape[1]}x{image.shape[0]} pixels; the model takes grayscale "
            f"{'x'.join(map(str, image_shape[::-1]))} images"
        )
    if image.max() <= 1.0:  # 8-bit PNGs are read as floats in [0, 1]
        image = image * 255.0
    return image.reshape(1, -1).astype(np.float32)


def predict_command(args: argparse.Namespace) -> int:
    from scratchnn.data import DataError

    model, info = _model_from_checkpoint(args.checkpoint)
    data = info.get("data") or {}
    layers = info["architecture"]["layers"]
    pngs = [p for p in args.inputs if p.lower().endswith(".png")]
    if pngs and len(pngs) != len(args.inputs):
        raise _usage_error("give either PNG images or one CSV file, not both")
    names: list[str] = []
    if pngs:
        image_shape = data.get("image_shape")
        if not image_shape:
            kind = "CSV" if data.get("kind") == "csv" else "flat IDX"
            raise _usage_error(f"{args.checkpoint} was trained on {kind} data ({layers[0]} "
                               "features), not images: give a CSV file")
        rows = []
        for text in pngs:
            path = Path(text).expanduser()
            if not path.is_file():
                raise _usage_error(f"{text}: no such file")
            rows.append(_read_png(path, tuple(image_shape)))
            names.append(text)
        features = np.concatenate(rows)
    else:
        if len(args.inputs) != 1:
            raise _usage_error("give one CSV file (or PNG images)")
        path = Path(args.inputs[0]).expanduser()
        if not path.is_file():
            raise _usage_error(f"{args.inputs[0]}: no such file")
        from scratchnn.csvdata import read_header

        target = args.target_column
        if target is None and data.get("target_name"):
            # a file that still has the training target's column: ignore that column
            if data["target_name"] in (read_header(path) or []):
                target = data["target_name"]
        try:
            samples = _load_csv(path, target, ignore_target=True)
        except DataError as error:
            raise _usage_error(str(error)) from None
        _check_features(samples, info, args.checkpoint)
        features, names = samples.features, samples.where
    probs = _class_probabilities(model, _preprocess(features, info["preprocess"]))
    width = max(len(name) for name in names)
    print("  ".join(["input".ljust(width), "class"] + [f"p({k})".rjust(6)
                                                      for k in range(probs.shape[1])]))
    for name, p in zip(names, probs, strict=True):
        print("  ".join([name.ljust(width), str(int(p.argmax())).rjust(5)]
                        + [f"{v:6.4f}" for v in p]))
    return 0


__all__ = ["add_commands", "build_mlp", "load_samples"]
