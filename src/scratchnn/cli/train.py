"""``scratchnn train``: a network on your own data, correct with the defaults.

::

    scratchnn train --data iris.csv                    # target: the last column
    scratchnn train --data houses.csv --target-column price --loss huber
    scratchnn train --data ~/mnist/ --epochs 10 --checkpoint mnist.npz

What the defaults do (each printed as it happens):

* **task** (``--task auto``): class names (text, booleans) or few whole numbers ->
  classification (cross-entropy); other numbers -> regression (MSE, ``--loss huber``; the
  target is standardised for training and predictions are un-scaled).
* **features** standardised (mean 0, std 1 over the training rows; ``--no-standardize``);
  the statistics go into the checkpoint and ``evaluate``/``predict`` reuse them.
* **validation**: 10 % held out (stratified by class), early stopping on the validation loss
  after ``--patience`` epochs without improvement, and the best epoch's weights restored
  and saved.
* **epochs**: enough optimizer steps for small data (about 4000, 10 to 300 epochs).
* **checkpoint**: ``<data name>.model.npz`` in the current directory, with the history as
  ``.history.json`` and ``.history.csv`` beside it.

Every output path is checked before training starts.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.cli import parallel
from scratchnn.cli.common import (
    add_delimiter_option,
    check_output_dir,
    check_output_file,
    check_positive,
    delimiter_option,
    describe,
    make_parent,
    read_checkpoint,
    require_matplotlib,
    say,
    usage_error,
    user_errors,
    wrap,
)

ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "adam")
LOSSES = ("mse", "huber")
DEFAULT_LR = {"sgd": 0.01, "adam": 0.001}
DEFAULT_HIDDEN = 100  # scikit-learn's MLPClassifier default
DEFAULT_PATIENCE = 10
STEPS_FOR_SMALL_DATA = 4000
EPOCH_RANGE = (10, 300)
# train's options that shape the run; with --resume, a left-out one is the checkpoint's
TRAIN_DEFAULTS = {"batch_size": 32, "val_split": 0.1, "seed": 0}

_EXAMPLES = """\
examples:
  scratchnn train --data iris.csv
  scratchnn train --data houses.csv --target-column price --task regression --loss huber
  scratchnn train --data data.csv --layers 4,16,3 --epochs 20 --checkpoint model.npz \\
      --plots plots/
  scratchnn train --data ~/mnist/ --optimizer sgd --lr 0.1 --momentum 0.9 \\
      --checkpoint mnist.npz
  scratchnn train --data ~/mnist/ --resume mnist.npz --checkpoint mnist.npz --epochs 20
"""


def add_data_options(parser: argparse.ArgumentParser, target_default: str) -> None:
    parser.add_argument(
        "--data", metavar="PATH", required=True,
        help="a CSV file (one sample per row, optional header row; '.csv.gz' too), a "
             "directory holding an IDX pair in the MNIST layout (train-images-idx3-ubyte and "
             "train-labels-idx1-ubyte, optionally gzipped), or a directory with one folder of "
             "grayscale PNG images per class (DIR/CLASS/*.png)",
    )
    parser.add_argument(
        "--target-column", metavar="NAME|INDEX",
        help="CSV only: the column to predict, by header name or 0-based index, negative "
             f"counting from the end (default: {target_default})",
    )
    add_delimiter_option(parser)


def add_commands(subparsers: Any) -> None:
    """Add ``train`` to the ``scratchnn`` parser."""
    train = subparsers.add_parser(
        "train", help="train a network on a CSV file or images (IDX pair, PNG folders)",
        description=wrap(
            "Train a multi-layer perceptron to predict a column of a CSV file (classes or "
            "numbers) or the class of images. Prints the task it chose, every epoch's "
            "metrics, and where the checkpoint (with the preprocessing and class names) and "
            "the history were written."
        ),
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_options(train, "the last column")
    train.add_argument("--model", choices=("mlp", "cnn"),
                       help="mlp: Linear layers (--layers, --activation); cnn: two conv+pool "
                            "blocks and two Linear layers, for images (an IDX directory; "
                            "height and width divisible by 4) (default: mlp; with --resume: "
                            "the checkpoint's)")
    train.add_argument("--task", choices=("auto", "classification", "regression"),
                       default="auto",
                       help="what to predict (default: auto: text, booleans or at most 20 "
                            "distinct whole numbers are classes, other numbers regression; "
                            "the choice is printed)")
    train.add_argument("--loss", choices=LOSSES,
                       help="regression loss: mse or huber (default: mse)")
    train.add_argument(
        "--layers", metavar="N,N,...",
        help="layer sizes from input to output, e.g. 784,128,10: the first is the number of "
             "features per sample, the last the number of classes (1 for regression) "
             f"(default: features,{DEFAULT_HIDDEN},outputs; with --resume: the checkpoint's)",
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
    train.add_argument("--batch-size", type=int, default=None, metavar="N",
                       help=f"samples per mini-batch (default: {TRAIN_DEFAULTS['batch_size']}; "
                            "with --resume: the checkpoint's)")
    train.add_argument("--epochs", type=int, metavar="N",
                       help="total number of epochs; with --resume, training continues from "
                            "the checkpoint's epoch up to N (default: enough for about "
                            f"{STEPS_FOR_SMALL_DATA} steps, {EPOCH_RANGE[0]} to "
                            f"{EPOCH_RANGE[1]} epochs; early stopping usually ends sooner)")
    train.add_argument("--patience", type=int, metavar="N",
                       help="stop after N epochs without a lower validation loss and keep "
                            f"the best epoch's weights (default: {DEFAULT_PATIENCE} with a "
                            "validation split; 0 turns early stopping off)")
    train.add_argument("--val-split", type=float, metavar="FRACTION",
                       help="fraction of the samples held out for validation, stratified by "
                            "class, from 0 (none) to below 1 (default: 0.1; with --resume: "
                            "the checkpoint's, so the same samples stay held out)")
    train.add_argument("--seed", type=int, metavar="N",
                       help="random seed for the weights, the validation split and the "
                            "shuffling (default: 0; with --resume: the checkpoint's)")
    scaling = train.add_mutually_exclusive_group()
    scaling.add_argument("--standardize", dest="standardize", action="store_true",
                         default=None,
                         help="scale every feature to mean 0 and standard deviation 1 "
                              "(statistics of the training rows, stored in the checkpoint "
                              "and reused by evaluate and predict); the default for CSV data")
    scaling.add_argument("--no-standardize", dest="standardize", action="store_false",
                         help="feed the features unscaled (images are always scaled to [0, 1])")
    train.add_argument("--checkpoint", metavar="PATH",
                       help="where to write the checkpoint (model, optimizer, preprocessing, "
                            "class names, history): after every epoch that lowers the "
                            "validation loss (every epoch without validation); the history goes "
                            "beside it as .history.json/.csv (default: DATA-NAME.model.npz "
                            "in the current directory)")
    train.add_argument("--resume", metavar="PATH",
                       help="continue training from this checkpoint (same --layers and "
                            "--activation; its optimizer state is restored)")
    train.add_argument("--plots", metavar="DIR",
                       help="write PNG plots here: learning curves, confusion matrix of the "
                            "validation samples, the network, and a decision boundary (2 "
                            "features) or predicted images (image data); needs matplotlib")
    parallel.add_options(train)
    train.set_defaults(handler=train_command, command_parser=train)


# ----------------------------------------------------------------------------- options
def parse_layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise usage_error(
            f"--layers must be comma-separated whole numbers such as 784,128,10, got {text!r}"
        ) from None
    if len(sizes) < 2 or any(size < 1 for size in sizes):
        raise usage_error(
            f"--layers needs at least two sizes >= 1 (inputs and outputs), got {text!r}"
        )
    return sizes


def _layers_text(layers: list[int]) -> str:
    return ",".join(map(str, layers))


def default_checkpoint(data: str) -> Path:
    """``DATA-NAME.model.npz`` in the current directory (``iris.csv.gz`` -> ``iris``)."""
    name = Path(data.rstrip("/")).name
    for suffix in (".gz", ".csv", ".tsv", ".txt"):
        name = name.removesuffix(suffix)
    return Path(f"{name or 'model'}.model.npz")


def history_paths(checkpoint: Path) -> tuple[Path, Path]:
    stem = checkpoint.name.removesuffix(".npz").removesuffix(".safetensors")
    return (checkpoint.with_name(f"{stem}.history.json"),
            checkpoint.with_name(f"{stem}.history.csv"))


def _check_options(args: argparse.Namespace) -> None:
    for name, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--lr", args.lr)):
        check_positive(name, value)
    check_positive("--momentum", args.momentum, allow_zero=True)
    check_positive("--seed", args.seed, allow_zero=True)
    check_positive("--patience", args.patience, allow_zero=True)
    if args.val_split is not None and not 0 <= args.val_split < 1:
        raise usage_error(f"--val-split must be at least 0 and below 1, got {args.val_split}")
    if args.loss is not None and args.task == "classification":
        raise usage_error("--loss applies to regression (classification uses cross-entropy)")


def _check_outputs(args: argparse.Namespace, checkpoint: Path) -> None:
    """Every path the run will write, checked before any training."""
    check_output_file("--checkpoint", checkpoint)
    for path in history_paths(checkpoint):
        check_output_file("--checkpoint", path)
    if args.plots:
        require_matplotlib("--plots")
        check_output_dir("--plots", Path(args.plots).expanduser())


# ---------------------------------------------------------------------------- the run
def _choose_task(args: argparse.Namespace, samples: Any,
                 resume: Any) -> tuple[str, str]:
    from scratchnn.predictor import infer_task

    if resume is not None:
        return resume.task, "from --resume"
    if samples.kind != "csv":
        if args.task == "regression":
            raise usage_error("--task regression needs a CSV file with a numeric target")
        return "classification", "image labels"
    if args.task != "auto":
        if args.task == "regression" and samples.target.dtype.kind in "US":
            raise usage_error(f"--task regression: the target column "
                              f"{samples.target_name or samples.target_index} of "
                              f"{samples.source} holds text, not numbers")
        return args.task, "--task"
    task, why = infer_task(samples.target)
    return task, f"auto: {why}; --task to override"


def _preprocess_for(samples: Any, train_index: np.ndarray, standardize: bool,
                    task: str, y: np.ndarray) -> dict[str, Any]:
    preprocess: dict[str, Any] = {"scale": samples.scale, "mean": None, "std": None,
                                  "target_mean": 0.0, "target_std": 1.0}
    if standardize:
        scaled = samples.features[train_index].astype(np.float64) * samples.scale
        std = scaled.std(axis=0)
        preprocess["mean"] = scaled.mean(axis=0).astype(np.float32)
        preprocess["std"] = np.where(std > 0, std, 1.0).astype(np.float32)
    if task == "regression":
        target = y[train_index]
        preprocess["target_mean"] = float(target.mean())
        preprocess["target_std"] = float(target.std()) or 1.0
    return preprocess


def _auto_epochs(n_train: int, batch_size: int) -> int:
    steps = math.ceil(n_train / batch_size)
    return int(np.clip(math.ceil(STEPS_FOR_SMALL_DATA / steps), *EPOCH_RANGE))


def _make_optimizer(model: Any, name: str, lr: float | None, momentum: float | None) -> Any:
    from scratchnn import optim

    lr = lr if lr is not None else DEFAULT_LR[name]
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=lr, momentum=momentum or 0.0)
    return optim.Adam(model.parameters(), lr=lr)


def _layers(args: argparse.Namespace, n_features: int, outputs: int, source: str,
            resume: Any) -> list[int]:
    if resume is not None:
        layers = [int(n) for n in resume.architecture["layers"]]
        activation = resume.architecture["activation"]
        given = parse_layers(args.layers) if args.layers else layers
        if given != layers or (args.activation or activation) != activation:
            raise usage_error(
                f"--resume {args.resume} was trained with {describe(resume)}, not --layers "
                f"{_layers_text(given)} --activation {args.activation or activation}; leave "
                "out --layers/--activation to continue with the checkpoint's architecture")
        if layers[0] != n_features:
            raise usage_error(f"--resume {args.resume} takes {layers[0]} features per sample, "
                              f"but {source} has {n_features}")
        return layers
    if not args.layers:
        return [n_features, DEFAULT_HIDDEN, outputs]
    layers = parse_layers(args.layers)
    if layers[0] != n_features:
        raise usage_error(
            f"--layers {args.layers} starts with {layers[0]} inputs, but {source} has "
            f"{n_features} features per sample: make the first size {n_features}")
    if layers[-1] != outputs:
        what = "classes" if outputs > 1 or args.task == "classification" else "output"
        raise usage_error(f"--layers {args.layers} ends with {layers[-1]} outputs, but the "
                          f"data has {outputs} {what}: make the last size {outputs}")
    return layers


class EpochTable:
    """Prints one row per epoch, fitting an 80-column terminal: the epoch, the metrics
    (4 significant digits, scientific for huge values) and the learning rate once."""

    def __init__(self, epochs: int, names: list[str]) -> None:
        self.epochs = epochs
        self.names = names
        self.width = max(5, len(str(epochs)) * 2 + 1)

    def header(self) -> str:
        short = [n.replace("accuracy", "acc").replace("val_", "val ") for n in self.names]
        return "  ".join([f"{'epoch':>{self.width}}", *(f"{n:>10}" for n in short),
                          f"{'lr':>9}", f"{'time':>6}"])

    def row(self, epoch: int, logs: dict[str, Any]) -> str:
        from scratchnn.predictor import format_number

        cells = []
        for name in self.names:
            value = logs.get(name)
            cells.append(f"{format_number(float(value)) if value is not None else '-':>10}")
        lr = logs.get("lr")
        lr_text = f"{lr:.3g}" if isinstance(lr, float) else "-"
        return "  ".join([f"{f'{epoch + 1}/{self.epochs}':>{self.width}}", *cells,
                          f"{lr_text:>9}", f"{logs.get('time', 0.0):5.2f}s"])


def _callbacks(table: EpochTable, checkpoint: Path, monitor: str, patience: int | None,
               record: dict[str, Any], best: float | None, history: Any
               ) -> tuple[list[Any], Any, Any]:
    """The epoch printer, early stopping (when ``patience``), the checkpoint writer (best
    epoch only, with the history and the predictor's record) and the history."""
    from scratchnn.callbacks import Callback, EarlyStopping, ModelCheckpoint

    class PrintEpochs(Callback):
        """A row per epoch; with many epochs, every k-th and the last."""

        def __init__(self) -> None:
            self.every = max(1, math.ceil(table.epochs / 60))
            self.last: tuple[int, dict[str, Any]] | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            if (epoch + 1) % self.every == 0 or epoch == 0:
                say(table.row(epoch, logs))
                self.last = None
            else:
                self.last = (epoch, dict(logs))

        def on_train_end(self, logs: dict[str, Any]) -> None:
            if self.last is not None:
                say(table.row(*self.last))

    stopper = EarlyStopping(monitor, patience=patience, restore_best=True) \
        if patience is not None else None
    # with a validation split: the best epoch's weights; without: every epoch's
    saver = ModelCheckpoint(str(checkpoint), monitor=monitor,
                            save_best_only=monitor.startswith("val_"),
                            initial_value_threshold=best, history=history, extra=record)
    callbacks = [PrintEpochs(), saver] + ([stopper] if stopper is not None else [])
    return [*callbacks, history], stopper, saver


def write_history(history: dict[str, Any], paths: tuple[Path, Path]) -> None:
    """The history as JSON (``History.to_dict()``) and as CSV (one row per epoch)."""
    from scratchnn.serialization import atomic_write

    json_path, csv_path = paths
    text = json.dumps(history, indent=1, allow_nan=True)
    atomic_write(json_path, lambda f: f.write(text.encode()))
    columns = history.get("history", {})
    names = list(columns)
    rows = [["epoch", *names]]
    for i, epoch in enumerate(history.get("epoch", [])):
        rows.append([epoch + 1, *(columns[n][i] if i < len(columns[n]) else "" for n in names)])

    def write_csv(f: Any) -> None:
        import io

        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        f.write(buffer.getvalue().encode())

    atomic_write(csv_path, write_csv)


def train_command(args: argparse.Namespace) -> int:
    import scratchnn
    from scratchnn import nn
    from scratchnn.data import DataLoader, TensorDataset
    from scratchnn.data.samples import load_samples
    from scratchnn.predictor import HuberLoss, Predictor, encode_labels, stratified_split
    from scratchnn.train import TrainingDiverged, fit

    _check_options(args)
    if args.nproc is not None:  # run this command again in N processes under mpiexec
        return parallel.launch(args, args.command_parser)
    delimiter = delimiter_option(args.delimiter)
    checkpoint = Path(args.checkpoint).expanduser() if args.checkpoint \
        else default_checkpoint(args.data)
    _check_outputs(args, checkpoint)
    scratchnn.allocator.keep_freed_memory()  # training steps re-use freed pages

    resume, resume_extra = read_checkpoint(args.resume) if args.resume else (None, None)
    target_column: str | int | None = args.target_column
    if target_column is None and resume is not None:
        target_column = resume.target_name or (resume_extra.get("data") or {}).get(
            "target_index")
    with user_errors(args.data):
        samples = load_samples(args.data, -1 if target_column is None else target_column,
                               delimiter=delimiter)
    for notice in samples.notices:
        say(f"note: {notice}")
    for name, default in TRAIN_DEFAULTS.items():  # left out: the checkpoint's, else default
        if getattr(args, name) is None:
            value = resume_extra.get(name) if resume_extra is not None else None
            setattr(args, name, default if value is None else type(default)(value))
    rank, world = parallel.start(args.batch_size)  # (0, 1) unless started by mpiexec

    task, why = _choose_task(args, samples, resume)
    if task == "classification":
        try:
            y, classes = encode_labels(samples.target,
                                       resume.classes if resume is not None else None)
        except ValueError as error:
            raise usage_error(f"{samples.source}: {error}") from None
        outputs = max(2, len(classes))
        if len(classes) < 2:
            raise usage_error(f"{samples.source}: the target has one class only "
                              f"({classes[0]!r}); a classifier needs at least two")
    else:
        y, classes, outputs = samples.target.astype(np.float64), None, 1
    n_features = samples.features.shape[1]
    model_kind = _model_kind(args, resume, samples)
    if model_kind == "mlp":
        layers = _layers(args, n_features, outputs, samples.source, resume)
        if task == "classification" and layers[-1] < len(classes):
            raise usage_error(f"--layers {_layers_text(layers)} has {layers[-1]} outputs for "
                              f"{len(classes)} classes")
        activation = (resume.architecture["activation"] if resume is not None
                      else args.activation or "relu")
    optimizer_name = args.optimizer or (resume_extra["optimizer"]["name"] if resume_extra
                                        else "adam")
    if resume_extra is not None and optimizer_name != resume_extra["optimizer"]["name"]:
        raise usage_error(f"--resume {args.resume} was trained with --optimizer "
                          f"{resume_extra['optimizer']['name']}, not {optimizer_name}")
    if args.momentum and optimizer_name != "sgd":
        raise usage_error("--momentum applies to --optimizer sgd only")

    train_index, val_index = stratified_split(
        y if task == "classification" else None, len(samples), args.val_split, args.seed)
    if len(train_index) == 0:
        raise usage_error(f"--val-split {args.val_split} leaves no training samples out of "
                          f"{len(samples)}")
    if resume is not None:
        preprocess = resume.preprocess
        if args.standardize and preprocess.get("mean") is None:
            raise usage_error(f"--resume {args.resume} was trained without --standardize; "
                              "its inputs cannot be rescaled now")
    else:
        standardize = args.standardize if args.standardize is not None \
            else samples.kind == "csv"
        preprocess = _preprocess_for(samples, train_index, standardize, task, y)

    scratchnn.manual_seed(args.seed)
    if resume is not None:
        network, architecture = resume.network, resume.architecture
    elif model_kind == "cnn":
        network, architecture = _cnn(samples.image_shape, outputs)
    else:
        architecture = {"kind": "mlp", "layers": layers, "activation": activation}
        network = _build(architecture)
    predictor = Predictor(
        network, task=task,
        architecture=architecture, preprocess=preprocess, classes=classes,
        feature_names=samples.feature_names, target_name=samples.target_name,
        image_shape=samples.image_shape)
    model = predictor.network
    optimizer = _make_optimizer(model, optimizer_name, args.lr, args.momentum)
    initial_epoch, best = 0, None
    if resume is not None:
        from scratchnn.serialization import load_checkpoint

        with user_errors(args.resume):
            state = load_checkpoint(args.resume, model, optimizer, restore_rng=True)
        initial_epoch = int(state["epoch"])
        best = resume_extra.get("best")
        for group in optimizer.param_groups:
            if args.lr is not None:
                group["lr"] = args.lr
            if args.momentum is not None and "momentum" in group:
                group["momentum"] = args.momentum
    epochs = args.epochs or (initial_epoch + _auto_epochs(len(train_index), args.batch_size))
    if initial_epoch >= epochs:
        raise usage_error(f"--resume {args.resume} has already trained {initial_epoch} "
                          f"epochs; pass --epochs above {initial_epoch} to train more")
    lr = optimizer.param_groups[0]["lr"]

    x = predictor.transform(samples.features)
    target = y if task == "classification" else \
        ((y - preprocess["target_mean"]) / preprocess["target_std"]).astype(np.float32)
    if task == "classification":
        loss_fn: Any = nn.CrossEntropyLoss()
        metrics: tuple[Any, ...] = ("accuracy",)
        loss_name = "cross-entropy"
    else:
        loss_fn = HuberLoss() if args.loss == "huber" else nn.MSELoss()
        loss_name = "huber" if args.loss == "huber" else "mse"
        target = target.reshape(-1, 1)
        metrics = (_mae_in_target_units(preprocess["target_std"]),)
    has_val = len(val_index) > 0
    monitor = "val_loss" if has_val else "loss"
    patience = args.patience if args.patience is not None else DEFAULT_PATIENCE
    patience = patience if has_val and patience > 0 else None

    record = predictor.record()
    record.update({
        "optimizer": {"name": optimizer_name, "lr": lr,
                      "momentum": optimizer.param_groups[0].get("momentum", 0.0)},
        "loss": loss_name, "seed": args.seed, "val_split": args.val_split,
        "batch_size": args.batch_size,
    })
    record["data"].update({"kind": samples.kind, "source": samples.source,
                           "target_index": samples.target_index})

    what = f"{len(classes)} classes" if task == "classification" else "a numeric target"
    say(f"data: {samples.source}: {len(train_index)} training and {len(val_index)} "
        f"validation samples, {n_features} features, {what}")
    if task == "classification" and (samples.kind == "csv" or samples.target.dtype.kind == "U"):
        say(f"classes: {', '.join(map(str, classes))}")
    say(f"task: {task} ({why}); loss: {loss_name}")
    n_params = sum(p.numel() for p in model.parameters())
    scaling = ("standardized features" if preprocess.get("mean") is not None
               else "pixels scaled to [0, 1]" if preprocess.get("scale", 1.0) != 1.0
               else "raw features")
    shape = (f"{' -> '.join(map(str, layers))} ({activation})" if model_kind == "mlp"
             else f"cnn: {_cnn_text(architecture)}")
    say(f"model: {shape}, {n_params:,} parameters; "
        f"{optimizer_name} lr={lr:g}, batch {args.batch_size}, {scaling}"
        + (f"; resuming after epoch {initial_epoch}" if resume is not None else ""))
    if world > 1:
        say(f"data-parallel: {world} processes (world size {world}); global batch "
            f"{args.batch_size} = {world} x {args.batch_size // world}")
    stopping = (f"early stopping after {patience} epochs without a lower val_loss "
                "(best weights kept)" if patience is not None else "no early stopping")
    say(f"epochs: up to {epochs}; {stopping}")

    metric_names = ["loss"] + [m if isinstance(m, str) else m.__name__ for m in metrics]
    names = metric_names + ([f"val_{n}" for n in metric_names] if has_val else [])
    table = EpochTable(epochs, names)
    from scratchnn.callbacks import History

    previous = (resume_extra or {}).get("history")
    history = History.from_dict(previous) if previous else History()
    callbacks, stopper, saver = _callbacks(table, checkpoint, monitor, patience, record, best,
                                           history)
    if table.epochs > 60:
        say(f"(every {callbacks[0].every}th epoch shown; all of them go into the history)")
    make_parent(checkpoint)
    train_loader = parallel.train_loader(TensorDataset(x[train_index], target[train_index]),
                                         args.batch_size, args.seed, world)
    val_loader = DataLoader(TensorDataset(x[val_index], target[val_index]),
                            batch_size=1024) if has_val else None
    say(table.header())
    try:
        # a diverging run overflows on its way to NaN: report that once, below, not as
        # NumPy's RuntimeWarnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            fit(parallel.wrap(model, world), loss_fn, optimizer, train_loader, epochs=epochs,
                          val_loader=val_loader, metrics=metrics, callbacks=callbacks,
                          initial_epoch=initial_epoch, verbose=0)
    except TrainingDiverged as error:
        raise usage_error(_diverged_message(error, args, saver, checkpoint, initial_epoch,
                                            samples)) from None
    except BrokenPipeError:
        raise  # stdout closed by the reader (``| head``): the CLI's quiet exit, not a write error
    except OSError as error:
        raise usage_error(f"{checkpoint}: cannot write the checkpoint: "
                          f"{error.strerror or error}") from None

    if stopper is not None and stopper.best_epoch is not None:
        stopped = f"stopped after epoch {stopper.stopped_epoch + 1}; " \
            if stopper.stopped_epoch is not None else ""
        say(f"{stopped}best epoch {stopper.best_epoch + 1} (val_loss "
            f"{stopper.best:.4g}): its weights are kept")
    history_record = history.to_dict()
    if saver.saved:
        json_path, csv_path = history_paths(checkpoint)
        write_history(history_record, (json_path, csv_path))
        saved = _saved_epoch(history, monitor) if has_val else len(history.epoch)
        say(f"checkpoint: {checkpoint} (epoch {saved}); "
            f"history: {json_path}, {csv_path}")
    if args.plots and rank == 0:
        from scratchnn.train import History

        eval_index = val_index if has_val else train_index
        written = _training_plots(Path(args.plots).expanduser(), predictor,
                                  History.from_dict(history_record), samples, x, y,
                                  eval_index)
        say(f"plots: {', '.join(str(p) for p in written)}")
    return 0


def _model_kind(args: argparse.Namespace, resume: Any, samples: Any) -> str:
    """``'mlp'`` or ``'cnn'``: ``--model``, else the resumed checkpoint's, else mlp."""
    if resume is not None:
        kind = "cnn" if resume.architecture.get("name") == "cnn" else "mlp"
        if args.model not in (None, kind):
            raise usage_error(f"--resume {args.resume} holds a --model {kind}, not {args.model}")
        return kind
    kind = args.model or "mlp"
    if kind == "cnn":
        if samples.image_shape is None:
            raise usage_error(f"--model cnn needs images (a directory with an IDX pair of 2-D "
                              f"images); {samples.source} has rows of features")
        if args.layers or args.activation:
            raise usage_error("--layers and --activation apply to --model mlp")
    return kind


def _cnn(image_shape: tuple[int, ...], outputs: int) -> tuple[Any, dict[str, Any]]:
    """The benchmark CNN (``scratchnn.experiments.cnn.build_cnn``) for one-channel images
    and its architecture record."""
    from scratchnn.predictor import sequential_spec

    try:
        from scratchnn.experiments.cnn import build_cnn
    except ImportError:
        raise usage_error("--model cnn needs the convolution layers (scratchnn.nn.Conv2d), "
                          "which this installation lacks") from None
    try:
        network = build_cnn(1, outputs, tuple(image_shape))
    except ValueError as error:
        raise usage_error(f"--model cnn: {error}") from None
    return network, {"kind": "sequential", "name": "cnn", "layers": sequential_spec(network),
                     "input_shape": [1, *image_shape]}


def _cnn_text(architecture: dict[str, Any]) -> str:
    parts = []
    for name, kwargs in architecture["layers"]:
        if name == "Conv2d":
            parts.append(f"conv{kwargs['kernel_size'][0]}x{kwargs['kernel_size'][1]}"
                         f"({kwargs['out_channels']})")
        elif name == "MaxPool2d":
            parts.append("maxpool")
        elif name == "Linear":
            parts.append(f"linear({kwargs['out_features']})")
    return " -> ".join(parts)


def _build(architecture: dict[str, Any]) -> Any:
    from scratchnn.predictor import build_network

    return build_network(architecture)


def _mae_in_target_units(target_std: float) -> Any:
    from scratchnn.metrics import mae as scaled_mae

    def mae(output: Any, target: Any) -> float:
        return scaled_mae(output, target) * target_std

    return mae


def _saved_epoch(history: Any, monitor: str) -> int:
    """The 1-based epoch whose ``monitor`` value was the lowest (the one saved)."""
    values = history.history.get(monitor) or []
    if not values:
        return len(history.epoch)
    finite = [(v, i) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    return history.epoch[min(finite)[1]] + 1 if finite else len(history.epoch)


def _diverged_message(error: Any, args: argparse.Namespace, saver: Any, checkpoint: Path,
                      initial_epoch: int, samples: Any) -> str:
    where = f"step {error.step + 1} (epoch {error.epoch + 1}"
    where += f", batch {error.batch + 1})" if error.batch is not None else ")"
    message = f"training diverged at {where}: {error.reason}"
    same_as_resume = args.resume and Path(args.resume).resolve() == checkpoint.resolve()
    if saver.saved:
        message += f"; {checkpoint} keeps the best checkpoint before that"
    elif same_as_resume:
        message += f"; {checkpoint} keeps the last good checkpoint (epoch {initial_epoch})"
    else:
        message += f"; no epoch completed, so nothing was written to {checkpoint}"
    hint = "try a smaller --lr"
    if samples.kind == "csv" and args.standardize is False and not args.resume:
        hint += " or leave out --no-standardize"
    return f"{message}; {hint}"


def _training_plots(out: Path, predictor: Any, history: Any, samples: Any, x: np.ndarray,
                    y: np.ndarray, eval_index: np.ndarray) -> list[Path]:
    from scratchnn import plot
    from scratchnn.metrics import confusion_matrix

    with user_errors(str(out)):
        out.mkdir(parents=True, exist_ok=True)
    which = "validation" if len(eval_index) < len(x) else "training"
    written = [out / "history.png"]
    plot.plot_history(history, written[0])
    if predictor.task != "classification":
        return written
    probs = predictor.probabilities(predictor.outputs(x[eval_index]))
    labels = y[eval_index]
    predicted = probs.argmax(axis=1)
    written.append(out / "confusion_matrix.png")
    plot.plot_confusion_matrix(confusion_matrix(predicted, labels,
                                                num_classes=len(predictor.classes)),
                               path=written[-1], title=f"confusion matrix ({which} samples)")
    if predictor.architecture.get("kind", "mlp") == "mlp":
        written.append(out / "network.png")
        plot.plot_network(predictor.architecture["layers"], written[-1])
    if samples.image_shape is not None:
        images = samples.features[eval_index].reshape(-1, *samples.image_shape)
        written.append(out / "predictions.png")
        plot.plot_image_grid(images, predicted, labels, written[-1],
                             title=f"{which} samples: predicted vs true")
    elif samples.features.shape[1] == 2:
        def predict_fn(points: np.ndarray) -> np.ndarray:
            return predictor.probabilities(predictor.outputs(predictor.transform(points)))

        written.append(out / "decision_boundary.png")
        plot.plot_decision_boundary(predict_fn, samples.features[eval_index], labels,
                                    written[-1], title=f"decision boundary ({which} samples)")
    return written
