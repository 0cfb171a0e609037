"""scratchnn.sklearn: MLPClassifier / MLPRegressor under scikit-learn's own estimator checks,
inside Pipeline and GridSearchCV, with string labels, partial_fit, and without scikit-learn."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from scratchnn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"

# Every check runs; none is skipped or expected to fail. (Two are skipped by scikit-learn
# itself in this environment: check_array_api_input without SCIPY_ARRAY_API, and the
# *_data_not_an_array checks without pandas.)
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks([MLPClassifier(), MLPRegressor()],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, ...]:
    data = load_iris()
    names = np.asarray(data.target_names)[data.target]  # string labels
    return tuple(train_test_split(data.data, names, test_size=0.3, random_state=0,
                                  stratify=names))


def test_string_labels_probabilities_and_score(iris) -> None:
    x_train, x_test, y_train, y_test = iris
    clf = MLPClassifier(random_state=0, max_iter=300).fit(x_train, y_train)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.n_features_in_ == 4 and clf.n_iter_ == len(clf.loss_curve_) <= 300
    proba = clf.predict_proba(x_test)
    assert proba.shape == (len(x_test), 3) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(clf.predict(x_test), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(x_test, y_test) == np.mean(clf.predict(x_test) == y_test) > 0.9
    assert [c.shape for c in clf.coefs_] == [(4, 100), (100, 3)]
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(x_test)


def test_accuracy_next_to_scikit_learns_mlp(iris) -> None:
    from sklearn.neural_network import MLPClassifier as Reference

    x_train, x_test, y_train, y_test = iris
    ours = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    theirs = make_pipeline(StandardScaler(), Reference(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours_score = ours.fit(x_train, y_train).score(x_test, y_test)
        theirs_score = theirs.fit(x_train, y_train).score(x_test, y_test)
    assert ours_score >= theirs_score - 0.05, (ours_score, theirs_score)


def test_grid_search_over_a_pipeline(iris) -> None:
    x_train, x_test, y_train, y_test = iris
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(random_state=0, max_iter=100))
    search = GridSearchCV(pipeline, {"mlpclassifier__hidden_layer_sizes": [(2,), (32,)],
                                     "mlpclassifier__learning_rate_init": [0.01]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(x_train, y_train)
    assert set(search.best_params_) == {"mlpclassifier__hidden_layer_sizes",
                                        "mlpclassifier__learning_rate_init"}
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.score(x_test, y_test) > 0.85


def test_params_are_stored_untouched_and_cloned() -> None:
    clf = MLPClassifier(hidden_layer_sizes=[5, 3], alpha=-1.0, solver="lbfgs")  # not checked yet
    assert clf.get_params()["hidden_layer_sizes"] == [5, 3]
    assert clone(clf).get_params() == clf.get_params()
    clf.set_params(solver="sgd", momentum=0.5)
    assert clf.solver == "sgd" and clf.momentum == 0.5
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        clf.fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="solver must be one of"):
        MLPRegressor(solver="lbfgs").fit(np.zeros((4, 2)), [0.0, 1, 2, 3])


def test_same_random_state_same_model_and_another_differs(iris) -> None:
    x_train, _, y_train, _ = iris
    a = MLPClassifier(random_state=3, max_iter=5).fit(x_train, y_train)
    b = MLPClassifier(random_state=3, max_iter=5).fit(x_train, y_train)
    c = MLPClassifier(random_state=4, max_iter=5).fit(x_train, y_train)
    assert all(np.array_equal(p, q) for p, q in zip(a.coefs_, b.coefs_, strict=True))
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_partial_fit_learns_epoch_by_epoch(iris) -> None:
    x_train, x_test, y_train, y_test = iris
    scaler = StandardScaler().fit(x_train)
    clf = MLPClassifier(random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(x_train, y_train)
    classes = np.unique(y_train)
    scores = []
    for _ in range(40):
        clf.partial_fit(scaler.transform(x_train), y_train, classes=classes)
        scores.append(clf.score(scaler.transform(x_test), y_test))
    assert clf.n_iter_ == 40 and len(clf.loss_curve_) == 40
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert scores[-1] > 0.85
    with pytest.raises(ValueError, match="not seen before"):
        clf.partial_fit(scaler.transform(x_train[:3]), ["rose", "setosa", "setosa"])


def test_early_stopping_keeps_the_best_validation_weights(iris) -> None:
    x_train, _, y_train, _ = iris
    clf = MLPClassifier(early_stopping=True, n_iter_no_change=3, learning_rate_init=0.05,
                        random_state=0, max_iter=500).fit(x_train, y_train)
    curve = clf.validation_loss_curve_
    assert len(curve) == clf.n_iter_ < 500
    best, best_epoch = None, None  # the rule: better than the best so far by more than tol
    for epoch, value in enumerate(curve):
        if best is None or value < best - clf.tol:
            best, best_epoch = value, epoch
    assert len(curve) == best_epoch + 3 + 2  # stopped when 4 (> 3) epochs did not improve
    assert clf.best_loss_ == best


def test_regressor_units_multi_output_and_r2() -> None:
    x, y = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)
    y = y * 50 + 1000  # far from mean 0, std 1: the internal scaling has to undo this
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)
    reg = MLPRegressor(random_state=0, max_iter=500, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(x_train, y_train)
    assert reg.predict(x_test).shape == (len(x_test),)
    assert reg.score(x_test, y_test) > 0.95
    assert abs(reg.predict(x_test).mean() - y_test.mean()) < 0.1 * y_test.std()
    two = np.column_stack([y, -2 * y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        multi = MLPRegressor(random_state=0, max_iter=50, learning_rate_init=0.01).fit(x, two)
    assert multi.predict(x).shape == (300, 2) and multi.n_outputs_ == 2


def test_works_without_scikit_learn(tmp_path: Path) -> None:
    code = """
import sys, numpy as np
sys.modules['sklearn'] = None
from scratchnn.sklearn import MLPClassifier, MLPRegressor, HAVE_SKLEARN
assert not HAVE_SKLEARN
rng = np.random.default_rng(0)
x = rng.normal(size=(200, 3)); y = np.where(x[:, 0] + x[:, 1] > 0, 'yes', 'no')
clf = MLPClassifier(random_state=0, learning_rate_init=0.01).fit(x, y)
assert clf.score(x, y) > 0.9, clf.score(x, y)
assert clf.get_params()['alpha'] == 0.0001
reg = MLPRegressor(random_state=0, learning_rate_init=0.01).fit(x, 3 * x[:, 0] + 10)
assert reg.score(x, 3 * x[:, 0] + 10) > 0.9
try:
    clf.predict(np.ones((2, 5)))
except ValueError as e:
    assert 'X has 5 features, but MLPClassifier is expecting 3' in str(e)
print('ok')
"""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
