"""``scratchnn train`` with its defaults against scikit-learn, on the small real data sets that
ship inside scikit-learn (no download): wine, iris, breast cancer (classification; scikit-learn's
default ``MLPClassifier`` after a ``StandardScaler``) and diabetes (regression;
``LinearRegression``).

Each data set is split ``--splits`` times (stratified for classes, 75 % train / 25 % test);
both sides see the same train rows as CSV files (iris with class names as text, wine through a
pandas-style index column, the raw unscaled features everywhere), and are scored on the same
test rows. Prints one row per data set: mean test accuracy (or R²) of each side and their
difference::

    .venv/bin/python -m bench.cli_defaults --splits 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import warnings
from pathlib import Path

import numpy as np


def _write_csv(path: Path, x: np.ndarray, y: np.ndarray, names: list[str],
               index: bool = False) -> None:
    lines = [",".join(([""] if index else []) + names + ["target"])]
    for i, (row, target) in enumerate(zip(x, y, strict=True)):
        cells = ([str(i)] if index else []) + [f"{v:.10g}" for v in row] + [str(target)]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray, list[str], str]]:
    from sklearn import datasets as sk

    out = {}
    for name, loader in (("wine", sk.load_wine), ("iris", sk.load_iris),
                         ("breast_cancer", sk.load_breast_cancer)):
        d = loader()
        y = np.asarray(d.target_names)[d.target] if name == "iris" else d.target
        names = [n.replace(" ", "_").replace("(cm)", "cm") for n in d.feature_names]
        out[name] = (d.data, y, names, "classification")
    d = sk.load_diabetes(scaled=False)
    out["diabetes"] = (d.data, d.target.astype(int), list(d.feature_names), "regression")
    return out


def run_scratchnn(train: Path, test: Path, work: Path) -> float:
    """Train with the defaults only (``scratchnn train --data train.csv``); the test score of
    the checkpoint as ``scratchnn.load_model`` gives it back."""
    import scratchnn
    from scratchnn.cli import main
    from scratchnn.data.samples import load_samples, match_columns, read_table
    from scratchnn.predictor import regression_metrics

    checkpoint = work / "model.npz"
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["train", "--data", str(train), "--checkpoint", str(checkpoint)])
    assert status == 0
    model = scratchnn.load_model(checkpoint)
    table = read_table(test)
    samples = match_columns(table, model.feature_names, model.n_features,
                            target="target", target_required=True)
    del load_samples
    predicted = model.predict(samples.features)
    if model.task == "regression":
        return regression_metrics(predicted, samples.target)["r2"]
    truth = samples.target
    return float(np.mean(predicted.astype(str) == truth.astype(str))) if truth.dtype.kind \
        in "US" else float(np.mean(predicted == truth))


def run_sklearn(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, task: str, seed: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "regression":
        return float(LinearRegression().fit(x_train, y_train).score(x_test, y_test))
    model = make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return float(model.score(x_test, y_test))


def compare(splits: int = 5, names: list[str] | None = None) -> list[dict[str, object]]:
    from sklearn.model_selection import train_test_split

    rows = []
    for name, (x, y, columns, task) in datasets().items():
        if names and name not in names:
            continue
        ours, theirs = [], []
        for seed in range(splits):
            stratify = y if task == "classification" else None
            x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                      stratify=stratify)
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                _write_csv(work / "train.csv", x_tr, y_tr, columns, index=name == "wine")
                _write_csv(work / "test.csv", x_te, y_te, columns)
                ours.append(run_scratchnn(work / "train.csv", work / "test.csv", work))
            theirs.append(run_sklearn(x_tr, y_tr, x_te, y_te, task, seed))
        rows.append({"data": name, "task": task, "metric": "R2" if task == "regression"
                     else "accuracy", "scratchnn": float(np.mean(ours)),
                     "sklearn": float(np.mean(theirs)), "splits": splits,
                     "reference": "LinearRegression" if task == "regression"
                     else "StandardScaler+MLPClassifier"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--data", nargs="*", help="only these data sets")
    args = parser.parse_args()
    print(f"{'data':<14} {'metric':<9} {'scratchnn':>9} {'sklearn':>9} {'diff':>7}  reference")
    for row in compare(args.splits, args.data):
        diff = row["scratchnn"] - row["sklearn"]
        print(f"{row['data']:<14} {row['metric']:<9} {row['scratchnn']:9.4f} "
              f"{row['sklearn']:9.4f} {diff:+7.4f}  {row['reference']}", flush=True)


if __name__ == "__main__":
    main()
