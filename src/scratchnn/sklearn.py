"""scikit-learn estimators backed by scratchnn: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's contract (``__init__`` only stores its arguments, ``fit`` builds
the network, fitted attributes end in ``_``, ``get_params``/``set_params``, ``score``,
``partial_fit``), take the parameter names of scikit-learn's own ``MLPClassifier`` /
``MLPRegressor`` where they mean the same thing, and pass
``sklearn.utils.estimator_checks.check_estimator``::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from scratchnn.sklearn import MLPClassifier

    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,)))
    clf.fit(X_train, y_train)            # y: any labels (strings too)
    clf.predict_proba(X_test)            # (n_samples, n_classes), columns in classes_ order

Training is :func:`scratchnn.train.fit`: mini-batches of ``batch_size`` (``'auto'``:
``min(200, n_samples)``), Adam or SGD (with ``momentum``), L2 penalty ``alpha`` as weight
decay, at most ``max_iter`` epochs; it stops when the training loss (or, with
``early_stopping=True``, the loss on a held-out ``validation_fraction``, whose best weights are
then kept) has not improved by ``tol`` for ``n_iter_no_change`` epochs. The regressor
standardises the target internally (predictions come back in the target's units).

With scikit-learn installed the classes derive from its ``BaseEstimator`` and mixins and
validate input with its ``validate_data``; without it (scratchnn's core needs NumPy only)
they work the same on NumPy arrays.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

try:  # scikit-learn is optional: the extra ``scratchnn[sklearn]``
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised in the no-sklearn test
    HAVE_SKLEARN = False

    class ConvergenceWarning(UserWarning):  # type: ignore[no-redef]
        """Training stopped at ``max_iter`` before the loss stopped improving."""

    class BaseEstimator:  # type: ignore[no-redef]
        """``get_params``/``set_params`` from the ``__init__`` signature, as scikit-learn's."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            parameters = inspect.signature(cls.__init__).parameters
            return sorted(p for p in parameters if p != "self")

        def get_params(self, deep: bool = True) -> dict[str, Any]:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> Any:
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                     f"Valid parameters are: {valid}.")
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class ClassifierMixin:  # type: ignore[no-redef]
        _estimator_type = "classifier"

        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
            """Mean accuracy of ``predict(X)`` against ``y``."""
            return float(np.average(self.predict(X) == np.asarray(y), weights=sample_weight))

    class RegressorMixin:  # type: ignore[no-redef]
        _estimator_type = "regressor"

        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
            """R² of ``predict(X)`` against ``y``."""
            y = np.asarray(y, dtype=np.float64)
            p = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
            w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
            w = w.reshape(-1, *([1] * (y.ndim - 1)))
            residual = (w * (y - p) ** 2).sum(axis=0)
            total = (w * (y - np.average(y, axis=0, weights=w.ravel())) ** 2).sum(axis=0)
            return float(np.mean(1 - residual / np.where(total > 0, total, 1)))

    def check_is_fitted(estimator: Any, attributes: Any = None) -> None:
        if not hasattr(estimator, "network_"):
            raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. "
                                 "Call 'fit' with appropriate arguments before using this "
                                 "estimator.")

    def check_random_state(seed: Any) -> np.random.RandomState:
        if seed is None or isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        return seed

    def check_classification_targets(y: Any) -> None:
        if np.asarray(y).dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a "
                             "classifier, which expects discrete classes on a regression "
                             "target with continuous values.")

    def validate_data(estimator: Any, X: Any, y: Any = "no_validation", reset: bool = True,
                      **_: Any) -> Any:
        x = np.asarray(X, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"Expected 2D array, got {x.ndim}D array instead")
        if not np.isfinite(x).all():
            raise ValueError("Input X contains NaN or infinity.")
        if len(x) < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        if reset:
            estimator.n_features_in_ = x.shape[1]
        elif x.shape[1] != estimator.n_features_in_:
            raise ValueError(f"X has {x.shape[1]} features, but {type(estimator).__name__} "
                             f"is expecting {estimator.n_features_in_} features as input.")
        if isinstance(y, str) and y == "no_validation":
            return x
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{len(x)}, {len(y)}]")
        return x, y

__all__ = ["MLPClassifier", "MLPRegressor", "NotFittedError"]

try:
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover
    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """An estimator used before ``fit``."""


_ACTIVATIONS = ("relu", "tanh", "logistic")
_SOLVERS = ("adam", "sgd")


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, checks, the network, training."""

    _is_classifier = False
    _dtype: Any = np.float32  # set by fit to the input's float dtype

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] | int = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate_init: float = 0.001,
        momentum: float = 0.9,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        verbose: bool = False,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.warm_start = warm_start

    # ---------------------------------------------------------------- checks
    def _check_params(self) -> list[int]:
        sizes = [self.hidden_layer_sizes] if isinstance(self.hidden_layer_sizes, numbers.Integral) \
            else list(self.hidden_layer_sizes)
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {self.activation!r}")
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver must be one of {_SOLVERS}, got {self.solver!r}")
        for name in ("learning_rate_init", "max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        if not (isinstance(self.alpha, numbers.Real) and self.alpha >= 0):
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}")
        if not 0 <= self.momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {self.momentum!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction!r}")
        if self.batch_size != "auto" and (not isinstance(self.batch_size, numbers.Integral)
                                          or self.batch_size < 1):
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got "
                             f"{self.batch_size!r}")
        return [int(s) for s in sizes]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    # ---------------------------------------------------------------- network
    def _build(self, n_features: int, n_outputs: int, seed: int | None) -> None:
        """A fresh network ``n_features -> hidden... -> n_outputs`` and its optimizer (drawn
        after ``scratchnn.manual_seed(seed)``, or from the current generator state when
        ``seed`` is None)."""
        import scratchnn
        from scratchnn import optim
        from scratchnn.predictor import build_mlp

        hidden = self._check_params()
        if seed is not None:
            scratchnn.manual_seed(seed)
        activation = {"logistic": "sigmoid"}.get(self.activation, self.activation)
        self.network_ = build_mlp([n_features, *hidden, n_outputs], activation)
        if self._dtype == np.float64:
            self.network_.double()
        if self.solver == "sgd":
            self._optimizer = optim.SGD(self.network_.parameters(), lr=self.learning_rate_init,
                                        momentum=self.momentum, weight_decay=self.alpha)
        else:
            self._optimizer = optim.Adam(self.network_.parameters(), lr=self.learning_rate_init,
                                         weight_decay=self.alpha)
        self.n_outputs_ = n_outputs
        self.loss_curve_: list[float] = []
        self.validation_loss_curve_: list[float] = []
        self.n_iter_ = 0
        self.t_ = 0
        self.best_loss_: float | None = None

    def _batch_size(self, n: int) -> int:
        return min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _loss(self) -> Any:
        raise NotImplementedError

    def _train(self, x: np.ndarray, target: np.ndarray, epochs: int, stop: bool) -> None:
        """``epochs`` passes of :func:`scratchnn.train.fit` over ``(x, target)``; with ``stop``
        the stopping rule of the class docstring applies."""
        from scratchnn.callbacks import EarlyStopping
        from scratchnn.data import DataLoader, TensorDataset
        from scratchnn.predictor import stratified_split
        from scratchnn.train import fit

        x = x.astype(self._dtype, copy=False)
        if target.dtype.kind == "f":
            target = target.astype(self._dtype, copy=False)
        val_loader = None
        index = np.arange(len(x))
        if stop and self.early_stopping and len(x) >= 2:
            labels = target if self._is_classifier else None
            seed = int(self._rng.randint(2**31 - 1))
            index, val_index = stratified_split(labels, len(x), self.validation_fraction, seed)
            if len(val_index):
                val_loader = DataLoader(TensorDataset(x[val_index], target[val_index]),
                                        batch_size=4096)
        loader = DataLoader(TensorDataset(x[index], target[index]),
                            batch_size=self._batch_size(len(index)), shuffle=self.shuffle)
        callbacks = []
        stopper = None
        if stop:
            monitor = "val_loss" if val_loader is not None else "loss"
            stopper = EarlyStopping(monitor, patience=int(self.n_iter_no_change),
                                    restore_best=val_loader is not None, min_delta=self.tol)
            callbacks.append(stopper)
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(self.network_, self._loss(), self._optimizer, loader,
                          epochs=self.n_iter_ + epochs, initial_epoch=self.n_iter_,
                          val_loader=val_loader, metrics=(), callbacks=callbacks,
                          verbose=2 if self.verbose else 0)
        self.loss_curve_ += [float(v) for v in history.history["loss"]]
        self.validation_loss_curve_ += [float(v) for v in history.history.get("val_loss", [])]
        self.n_iter_ += len(history.epoch)
        self.t_ += len(history.epoch) * len(index)
        curve = self.validation_loss_curve_ or self.loss_curve_
        self.best_loss_ = float(np.nanmin(curve)) if curve else None
        if stopper is not None and stopper.best is not None and stopper.restore_best:
            self.best_loss_ = float(stopper.best)  # the loss of the weights kept
        self.history_ = history
        if stop and stopper is not None and stopper.stopped_epoch is None \
                and len(history.epoch) == epochs:
            warnings.warn(f"{type(self).__name__}: stopped at max_iter={self.max_iter} epochs "
                          "while the loss was still improving; raise max_iter to train longer",
                          ConvergenceWarning, stacklevel=3)

    def _seed(self) -> int:
        self._rng = check_random_state(self.random_state)
        return int(self._rng.randint(2**31 - 1))

    def _outputs(self, X: Any) -> np.ndarray:
        from scratchnn.tensor import Tensor, no_grad

        check_is_fitted(self, "network_")
        x = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        x = np.asarray(x, dtype=self._dtype)
        self.network_.eval()
        with no_grad():
            chunks = [self.network_(Tensor(x[i:i + 4096])).numpy()
                      for i in range(0, len(x), 4096)]
        return np.concatenate(chunks).astype(np.float64)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrices, layer by layer, as ``(fan_in, fan_out)`` arrays (scikit-learn's
        layout; scratchnn's ``nn.Linear`` stores the transpose)."""
        check_is_fitted(self, "network_")
        return [p.data.T.copy() for n, p in self.network_.named_parameters()
                if n.endswith("weight")]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        check_is_fitted(self, "network_")
        return [p.data.copy() for n, p in self.network_.named_parameters()
                if n.endswith("bias")]


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier (softmax outputs, cross-entropy loss) trained by
    scratchnn. Labels may be any values (strings, booleans, numbers); ``classes_`` holds them
    sorted, in the column order of :meth:`predict_proba`.

    Fitted attributes: ``classes_``, ``n_features_in_`` (``feature_names_in_`` for
    DataFrames), ``network_`` (the ``scratchnn.nn.Sequential``), ``loss_curve_``,
    ``validation_loss_curve_`` (with ``early_stopping``), ``best_loss_``, ``n_iter_``,
    ``t_``, ``n_outputs_``, ``history_``; ``coefs_`` and ``intercepts_`` as scikit-learn.
    """

    _is_classifier = True

    def _loss(self) -> Any:
        from scratchnn import nn

        return nn.CrossEntropyLoss()

    def _targets(self, y: np.ndarray) -> np.ndarray:
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"y contains labels not seen before: {np.unique(y[unknown])!r} "
                             f"(classes_: {self.classes_!r})")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _validate_xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        x, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32])
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples,), for example using ravel().",
                          _data_conversion_warning(), stacklevel=3)
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(f"y must be 1-dimensional (one label per sample), got shape "
                             f"{y.shape}")
        check_classification_targets(y)
        return x, y

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train from scratch (or from the current weights with ``warm_start``) on
        ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        self._check_params()
        warm = self.warm_start and hasattr(self, "network_")
        x, y = self._validate_xy(X, y, reset=not warm)
        seed = self._seed()
        if not warm:
            self._dtype = x.dtype.type
            self.classes_ = np.unique(y)
            self._build(x.shape[1], max(len(self.classes_), 1), seed)
        self._train(x, self._targets(y), int(self.max_iter), stop=True)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)``. The first call needs ``classes`` (every label that will
        ever occur), as in scikit-learn."""
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        x, y = self._validate_xy(X, y, reset=first)
        if first:
            self._dtype = x.dtype.type
            self.classes_ = np.unique(np.asarray(classes))
            self._build(x.shape[1], max(len(self.classes_), 1), self._seed())
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={np.unique(classes)!r}` is not the same as on the "
                             f"first call to partial_fit, was: {self.classes_!r}")
        self._train(x, self._targets(y), 1, stop=False)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``softmax(network(X))``, (n_samples, n_classes)."""
        z = self._outputs(X)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``, computed stably."""
        z = self._outputs(X)
        z -= z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def decision_function(self, X: Any) -> np.ndarray:
        """The network's raw class scores (logits), (n_samples, n_classes); for two classes
        the difference ``score_1 - score_0`` (n_samples,), as scikit-learn expects."""
        z = self._outputs(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (values from ``classes_``)."""
        scores = self._outputs(X)
        return self.classes_[np.argmax(scores, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor (linear outputs, squared-error loss) trained by
    scratchnn. ``y`` may be (n_samples,) or (n_samples, n_targets); it is standardised for
    training (mean and scale kept in ``target_mean_`` / ``target_scale_``) and predictions
    are returned in its units.

    Fitted attributes: as :class:`MLPClassifier`, without ``classes_``, plus
    ``target_mean_`` and ``target_scale_``.
    """

    def _loss(self) -> Any:
        from scratchnn import nn

        return nn.MSELoss()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate_xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        x, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32],
                             multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        return x, y

    def _scaled(self, y: np.ndarray) -> np.ndarray:
        target = y.reshape(len(y), -1)
        return ((target - self.target_mean_) / self.target_scale_).astype(self._dtype)

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on ``X`` (n_samples, n_features) and targets ``y``."""
        self._check_params()
        warm = self.warm_start and hasattr(self, "network_")
        x, y = self._validate_xy(X, y, reset=not warm)
        seed = self._seed()
        if not warm:
            self._dtype = x.dtype.type
            self._set_target_scaling(y)
            self._build(x.shape[1], y.reshape(len(y), -1).shape[1], seed)
        self._train(x, self._scaled(y), int(self.max_iter), stop=True)
        return self

    def _set_target_scaling(self, y: np.ndarray) -> None:
        target = y.reshape(len(y), -1)
        self._y_ndim = y.ndim
        self.target_mean_ = target.mean(axis=0)
        scale = target.std(axis=0)
        self.target_scale_ = np.where(scale > 0, scale, 1.0)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``(X, y)``; the first call fixes the target scaling from its ``y``."""
        first = not hasattr(self, "network_")
        x, y = self._validate_xy(X, y, reset=first)
        if first:
            self._dtype = x.dtype.type
            self._set_target_scaling(y)
            self._build(x.shape[1], y.reshape(len(y), -1).shape[1], self._seed())
        self._train(x, self._scaled(y), 1, stop=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets in the units of ``y``: (n_samples,) or (n_samples, n_targets)."""
        values = self._outputs(X) * self.target_scale_ + self.target_mean_
        return values[:, 0] if self._y_ndim == 1 else values


def _data_conversion_warning() -> type[Warning]:
    try:
        from sklearn.exceptions import DataConversionWarning
    except ImportError:  # pragma: no cover
        return UserWarning
    return DataConversionWarning
