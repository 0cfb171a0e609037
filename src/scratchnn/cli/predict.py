"""``scratchnn predict``: predictions of a checkpoint for new samples.

A CSV file's columns are matched to the model's by header name (a column named like the
training target is ignored); PNG images must be grayscale and of the training size. Prints a
table, or writes a CSV file with ``--output``: the input row id (the file's index column, or
its line number), the prediction (class name or value) and, for a classifier, one probability
column per class.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.cli.common import (
    add_delimiter_option,
    check_output_file,
    delimiter_option,
    read_checkpoint,
    samples_for_model,
    say,
    usage_error,
    user_errors,
    wrap,
)
from scratchnn.data.images import read_png


def add_commands(subparsers: Any) -> None:
    """Add ``predict`` to the ``scratchnn`` parser."""
    predict = subparsers.add_parser(
        "predict", help="predicted class (and probabilities) or value for new samples",
        description=wrap(
            "Predict every sample: each row of a CSV file (columns matched to the training "
            "columns by header name, in any order; a column named like the training target "
            "is ignored; a headerless file is read by position) or each PNG image "
            "(grayscale, of the size the model was trained on, e.g. 28x28). Prints a table, "
            "or writes a CSV file with --output: row id, prediction and, for classes, one "
            "probability column per class."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("--checkpoint", metavar="PATH", required=True,
                         help="checkpoint written by 'scratchnn train'")
    predict.add_argument("inputs", nargs="+", metavar="INPUT",
                         help="a CSV file of samples, or one or more PNG images")
    predict.add_argument("--target-column", metavar="NAME|INDEX",
                         help="CSV only: a column to ignore, e.g. labels left in the file "
                              "(by header name or 0-based index; default: the training "
                              "target's name, if the file has it)")
    predict.add_argument("--output", "-o", metavar="PATH",
                         help="write the predictions to this CSV file instead of printing "
                              "them (columns: row, prediction, p(CLASS) per class)")
    add_delimiter_option(predict)
    predict.set_defaults(handler=predict_command)


def _value_text(value: Any) -> str:
    from scratchnn.predictor import format_number

    if isinstance(value, float | np.floating):
        return format_number(float(value))
    return str(value)


def predict_command(args: argparse.Namespace) -> int:
    predictor, extra = read_checkpoint(args.checkpoint)
    output = Path(args.output).expanduser() if args.output else None
    if output is not None:
        check_output_file("--output", output)
    pngs = [p for p in args.inputs if p.lower().endswith(".png")]
    if pngs and len(pngs) != len(args.inputs):
        raise usage_error("give either PNG images or one CSV file, not both")
    if pngs:
        if not predictor.image_shape:
            kind = "CSV" if (extra.get("data") or {}).get("kind") == "csv" else "flat IDX"
            raise usage_error(f"{args.checkpoint} was trained on {kind} data "
                              f"({predictor.n_features} features), not images: give a CSV file")
        rows = []
        for text in pngs:
            path = Path(text).expanduser()
            if not path.is_file():
                raise usage_error(f"{text}: no such file")
            with user_errors(text):
                rows.append(read_png(path, tuple(predictor.image_shape)).reshape(1, -1))
        features, ids, id_name = np.concatenate(rows), list(pngs), "input"
    else:
        if len(args.inputs) != 1:
            raise usage_error("give one CSV file (or PNG images)")
        if not Path(args.inputs[0]).expanduser().is_file():
            raise usage_error(f"{args.inputs[0]}: no such file")
        samples = samples_for_model(args.inputs[0], predictor, extra,
                                    target_column=args.target_column, target_required=False,
                                    delimiter=delimiter_option(args.delimiter),
                                    checkpoint=args.checkpoint)
        features = samples.features
        ids = samples.row_ids()
        has_index = samples.table is not None and samples.table.index is not None
        id_name = "id" if has_index else "row"

    outputs = predictor.outputs(predictor.transform(features))
    if predictor.task == "regression":
        predictions = predictor.values(outputs)
        probs = None
        columns = [id_name, predictor.target_name or "prediction"]
    else:
        probs = predictor.probabilities(outputs)[:, :len(predictor.classes)]
        predictions = np.asarray(predictor.classes, dtype=object)[probs.argmax(axis=1)]
        columns = [id_name, predictor.target_name or "class",
                   *(f"p({c})" for c in predictor.classes)]

    if output is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for i, row_id in enumerate(ids):
            cells = [row_id, predictions[i] if probs is not None else repr(float(predictions[i]))]
            if probs is not None:
                cells += [f"{p:.6g}" for p in probs[i]]
            writer.writerow(cells)
        from scratchnn.serialization import atomic_write

        atomic_write(output, lambda f: f.write(buffer.getvalue().encode()))
        say(f"predictions: {output} ({len(ids)} rows)")
        return 0

    shown = [f"{id_name} {row_id}" if id_name == "row" else str(row_id) for row_id in ids]
    cells = [[_value_text(v)] + ([f"{p:.4f}" for p in probs[i]] if probs is not None else [])
             for i, v in enumerate(predictions)]
    width = max(len(s) for s in shown + ["input"])
    widths = [max(len(columns[k + 1]), *(len(c[k]) for c in cells)) for k in range(len(cells[0]))]
    say("  ".join(["input".ljust(width)] + [columns[k + 1].rjust(w)
                                            for k, w in enumerate(widths)]))
    for name, row in zip(shown, cells, strict=True):
        say("  ".join([name.ljust(width)] + [c.rjust(w) for c, w in zip(row, widths,
                                                                        strict=True)]))
    return 0
