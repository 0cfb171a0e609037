"""``scratchnn evaluate``: how good a checkpoint is on labelled data.

Classification: the loss, the accuracy, a classification report (precision, recall, F1 and
support of every class, by class name) and the confusion matrix. Regression: MSE, MAE, R²
in the target's units. The file's columns are matched to the model's by header name.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.cli.common import (
    check_output_dir,
    check_positive,
    delimiter_option,
    encode_target,
    read_checkpoint,
    require_matplotlib,
    samples_for_model,
    say,
    user_errors,
    wrap,
)


def add_commands(subparsers: Any) -> None:
    """Add ``evaluate`` to the ``scratchnn`` parser."""
    from scratchnn.cli.train import add_data_options

    evaluate = subparsers.add_parser(
        "evaluate", help="metrics of a checkpoint on labelled data (classification report or "
                         "regression metrics)",
        description=wrap(
            "Evaluate a checkpoint written by 'scratchnn train' on labelled data (same format "
            "as for training; columns are matched by header name, in any order; a "
            "directory's t10k-* IDX pair is used when present, else its train-* pair). "
            "Classification: loss, accuracy, per-class precision/recall/F1/support and the "
            "confusion matrix. Regression: MSE, MAE and R²."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("--checkpoint", metavar="PATH", required=True,
                          help="checkpoint written by 'scratchnn train'")
    add_data_options(evaluate, "the column the model was trained to predict")
    evaluate.add_argument("--batch-size", type=int, default=1024, metavar="N",
                          help="samples per forward pass (default: 1024)")
    evaluate.add_argument("--plots", metavar="DIR",
                          help="also write the confusion matrix as DIR/confusion_matrix.png "
                               "(needs matplotlib)")
    evaluate.set_defaults(handler=evaluate_command)


def format_matrix(matrix: np.ndarray, classes: list[Any]) -> str:
    names = [str(c) for c in classes]
    width = max([len(str(int(matrix.max()))) if matrix.size else 1, *map(len, names), 4]) + 1
    first = max(10, *(len(n) + 2 for n in names))
    lines = ["confusion matrix (rows: true class, columns: predicted class):",
             "true\\pred".ljust(first) + "".join(n.rjust(width) for n in names)]
    for i, name in enumerate(names):
        lines.append(name.ljust(first) + "".join(str(int(v)).rjust(width) for v in matrix[i]))
    return "\n".join(lines)


def evaluate_command(args: argparse.Namespace) -> int:
    from scratchnn import allocator
    from scratchnn import functional as F
    from scratchnn.metrics import confusion_matrix
    from scratchnn.predictor import classification_report, format_number, regression_metrics
    from scratchnn.tensor import Tensor

    allocator.keep_freed_memory()  # large evaluations re-use freed pages, as fit does
    check_positive("--batch-size", args.batch_size)
    if args.plots:
        require_matplotlib("--plots")
        check_output_dir("--plots", Path(args.plots).expanduser())
    predictor, extra = read_checkpoint(args.checkpoint)
    samples = samples_for_model(args.data, predictor, extra, target_column=args.target_column,
                                target_required=True, delimiter=delimiter_option(args.delimiter),
                                checkpoint=args.checkpoint)
    y = encode_target(samples, predictor)
    outputs = predictor.outputs(predictor.transform(samples.features), args.batch_size)
    say(f"data: {samples.source}: {len(y)} samples")
    if predictor.task == "regression":
        scores = regression_metrics(predictor.values(outputs), y)
        for name, value in scores.items():
            say(f"{name}: {format_number(value)}")
        return 0

    classes = predictor.classes
    if len(classes) < outputs.shape[1]:
        outputs = outputs[:, :len(classes)]
    loss = F.cross_entropy(Tensor(outputs), y).item()
    predicted = outputs.argmax(axis=1)
    matrix = confusion_matrix(predicted, y, num_classes=len(classes))
    correct = int(np.trace(matrix))
    say(f"loss: {loss:.4f}")
    say(f"accuracy: {correct / len(y):.4f} ({correct}/{len(y)})")
    say("")
    say(classification_report(predicted, y, classes))
    say("")
    say(format_matrix(matrix, classes))
    if args.plots:
        from scratchnn import plot

        out = Path(args.plots).expanduser()
        with user_errors(str(out)):
            out.mkdir(parents=True, exist_ok=True)
        plot.plot_confusion_matrix(matrix, path=out / "confusion_matrix.png")
        say(f"plots: {out / 'confusion_matrix.png'}")
    return 0
