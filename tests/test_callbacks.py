"""Callbacks: hook order, stopping, EarlyStopping, ModelCheckpoint, LearningRateLogger."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn, optim
from scratchnn.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LearningRateLogger,
    ModelCheckpoint,
)
from scratchnn.data import DataLoader, TensorDataset
from scratchnn.serialization import load, load_checkpoint
from scratchnn.train import TrainingDiverged, fit


def setup(n: int = 12, batch_size: int = 4, lr: float = 0.1):
    sn.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    return model, optimizer, loader


class Recorder(Callback):
    def __init__(self, stop_at_step: int | None = None, epochs: int = 2, steps: int = 2):
        self.calls: list[tuple] = []
        self.stop_at_step = stop_at_step
        self.epochs, self.steps = epochs, steps

    def on_train_begin(self, logs):
        self.calls.append(("train_begin",))
        assert isinstance(self.model, nn.Module) and self.model.stop_training is False
        assert self.params["epochs"] == self.epochs and self.params["steps_per_epoch"] == self.steps
        self.last_step = -1

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_begin(self, step, logs):
        assert set(logs) == {"batch", "size"} and step == self.last_step + 1

    def on_batch_end(self, step, logs):
        self.calls.append(("batch_end", step, logs["batch"]))
        assert set(logs) == {"loss", "batch", "size"}
        self.last_step = step
        if step == self.stop_at_step:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch))
        assert {"loss", "accuracy", "lr", "time"} <= set(logs)  # lr: logged before us

    def on_train_end(self, logs):
        self.calls.append(("train_end",))


def test_hooks_are_called_in_order():
    model, optimizer, loader = setup(n=8)  # 2 batches per epoch
    recorder = Recorder()
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2, callbacks=[recorder],
        verbose=0)
    assert recorder.calls == [
        ("train_begin",),
        ("epoch_begin", 0), ("batch_end", 0, 0), ("batch_end", 1, 1), ("epoch_end", 0),
        ("epoch_begin", 1), ("batch_end", 2, 0), ("batch_end", 3, 1), ("epoch_end", 1),
        ("train_end",),
    ]


def test_stop_training_in_a_batch_stops_after_that_batch_and_finishes_the_epoch():
    model, optimizer, loader = setup(n=12)  # 3 batches per epoch
    recorder = Recorder(stop_at_step=4, epochs=5, steps=3)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=5,
                  callbacks=[recorder], verbose=0)
    assert recorder.calls[-3:] == [("batch_end", 4, 1), ("epoch_end", 1), ("train_end",)]
    assert len(history) == 2 and len(history.step_loss) == 5
    assert model.stop_training is True
    # A second fit clears the flag.
    recorder.stop_at_step, recorder.epochs = None, 2
    assert len(fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2,
                   callbacks=[recorder], verbose=0)) == 2


class Score(Callback):
    """Puts a scripted value under logs['score'] (placed before the callback under test),
    and keeps the weights of every epoch."""

    def __init__(self, values):
        self.values = values
        self.weights: list[dict[str, np.ndarray]] = []

    def on_epoch_end(self, epoch, logs):
        logs["score"] = self.values[epoch]
        self.weights.append(self.model.state_dict())


def run_scored(values, *callbacks, epochs=None):
    model, optimizer, loader = setup()
    score = Score(values)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader,
                  epochs=epochs or len(values), callbacks=[score, *callbacks], verbose=0)
    return model, score, history


@pytest.mark.parametrize(
    "patience, expected_epochs, stopped",
    [(0, 3, 2), (1, 4, 3), (2, 6, None)],
)
def test_early_stopping_patience(patience, expected_epochs, stopped):
    values = [5.0, 4.0, 4.5, 4.2, 3.0, 3.5]  # no improvement at epochs 2, 3, 5
    stopper = EarlyStopping(monitor="score", patience=patience)
    _, _, history = run_scored(values, stopper)
    assert len(history) == expected_epochs
    assert history.score == values[:expected_epochs]
    assert stopper.stopped_epoch == stopped
    assert stopper.best == (4.0 if stopped is not None else 3.0)


def test_early_stopping_min_delta_and_max_mode():
    stopper = EarlyStopping(monitor="score", min_delta=0.1)
    _, _, history = run_scored([1.0, 0.95, 0.5], stopper)  # 0.95 is not 0.1 better
    assert len(history) == 2 and stopper.best_epoch == 0
    rising = EarlyStopping(monitor="val_accuracy")
    assert rising.mode == "max" and EarlyStopping().mode == "min"
    stopper = EarlyStopping(monitor="score", mode="max")
    _, _, history = run_scored([0.1, 0.2, 0.15, 0.3], stopper)
    assert len(history) == 3 and stopper.best == 0.2


def test_early_stopping_positional_arguments_are_monitor_patience_restore_best():
    stopper = EarlyStopping("score", 1, True)  # the order of the issue and the docs
    assert (stopper.monitor, stopper.patience, stopper.restore_best) == ("score", 1, True)
    assert stopper.min_delta == 0.0 and stopper.mode == "min"
    with pytest.raises(TypeError):
        EarlyStopping("score", 1, True, 0.5)  # min_delta only by name


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_restore_best_weights(restore_best):
    stopper = EarlyStopping(monitor="score", patience=1, restore_best=restore_best)
    model, score, history = run_scored([3.0, 1.0, 2.0, 2.5, 0.5], stopper)
    assert len(history) == 4 and stopper.best_epoch == 1
    expected = score.weights[1] if restore_best else score.weights[3]
    for key, value in expected.items():
        assert np.array_equal(model.state_dict()[key], value)
    assert not np.array_equal(score.weights[1]["0.weight"], score.weights[3]["0.weight"])


def test_missing_monitor_warns_and_does_not_stop():
    stopper = EarlyStopping(monitor="val_loss")
    with pytest.warns(RuntimeWarning, match="val_loss.*not in the logs"):
        _, _, history = run_scored([1.0, 2.0, 3.0], stopper)
    assert len(history) == 3


def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    history = History()
    checkpoint = ModelCheckpoint(tmp_path / "sub" / "ckpt_{epoch}.npz", monitor="score",
                                 save_best_only=True, history=history,
                                 extra=lambda epoch, logs: {"note": f"epoch {epoch}"})
    _, score, returned = run_scored([3.0, 2.0, 2.5, 1.0, 1.5], history, checkpoint)
    assert returned is history and history.score == [3.0, 2.0, 2.5, 1.0, 1.5]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "ckpt_1.npz", "ckpt_2.npz", "ckpt_4.npz"
    ]
    assert checkpoint.saved == [str(tmp_path / "sub" / f"ckpt_{e}.npz") for e in (1, 2, 4)]
    assert checkpoint.best == 1.0
    saved = load(tmp_path / "sub" / "ckpt_4.npz")
    assert saved["epoch"] == 4 and saved["extra"]["logs"]["score"] == 1.0
    assert saved["extra"]["history"]["epoch"] == [0, 1, 2, 3]  # the saved epoch included
    assert saved["extra"]["history"]["history"]["score"] == [3.0, 2.0, 2.5, 1.0]
    assert saved["extra"]["note"] == "epoch 3"
    for key, value in score.weights[3].items():
        assert np.array_equal(saved["model"][key], value)


def test_model_checkpoint_same_path_keeps_the_best(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "best.npz", monitor="score", save_best_only=True)
    model, score, _ = run_scored([3.0, 2.0, 2.5], checkpoint)
    fresh, _, _ = setup()
    info = load_checkpoint(tmp_path / "best.npz", fresh, restore_rng=False)
    assert info["epoch"] == 2
    for key, value in score.weights[1].items():
        assert np.array_equal(fresh.state_dict()[key], value)


@pytest.mark.parametrize("pass_threshold", [True, False])
def test_model_checkpoint_resumed_with_the_saved_best_does_not_overwrite_it(tmp_path,
                                                                           pass_threshold):
    path = tmp_path / "best.npz"
    _, score, _ = run_scored([3.0, 1.0, 2.0], ModelCheckpoint(path, monitor="score",
                                                             save_best_only=True))
    best = load(path)
    assert best["epoch"] == 2 and best["extra"]["best"] == 1.0

    # A resumed run whose epochs are all worse than the saved best (1.0).
    threshold = best["extra"]["best"] if pass_threshold else None
    resumed = ModelCheckpoint(path, monitor="score", save_best_only=True,
                              initial_value_threshold=threshold)
    run_scored([1.5, 1.2], resumed)
    after = load(path)
    if pass_threshold:
        assert resumed.saved == [] and resumed.best == 1.0
        assert after["epoch"] == 2
        for key, value in score.weights[1].items():
            assert np.array_equal(after["model"][key], value)
    else:  # control: without it the first resumed epoch replaces the better checkpoint
        assert resumed.saved == [str(path), str(path)] and after["extra"]["best"] == 1.2


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    model, optimizer, loader = setup(n=12)  # 3 steps per epoch
    calls = []

    def loss_fn(output, target):  # cross-entropy, NaN from step 7 on (epoch 2)
        calls.append(None)
        loss = nn.CrossEntropyLoss()(output, target)
        return loss * float("nan") if len(calls) > 7 else loss

    path = tmp_path / "last.npz"
    snapshots = Score([0.0] * 5)  # keeps the weights at the end of every epoch
    with pytest.raises(TrainingDiverged) as info:
        fit(model, loss_fn, optimizer, loader, epochs=5, verbose=0,
            callbacks=[snapshots, ModelCheckpoint(path)])
    assert (info.value.step, info.value.epoch) == (7, 2)
    assert len(snapshots.weights) == 2
    fresh, fresh_optimizer, _ = setup()
    saved = load_checkpoint(path, fresh, fresh_optimizer)
    assert saved["epoch"] == 2  # epochs 0 and 1 completed; the file is the end of epoch 1
    for key, value in snapshots.weights[1].items():
        assert np.array_equal(fresh.state_dict()[key], value)
        assert np.isfinite(value).all()


def test_model_checkpoint_every_epoch_with_log_fields_in_the_name(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{score:.1f}.npz"))
    run_scored([3.0, 2.0, 2.5], checkpoint)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "e01-3.0.npz", "e02-2.0.npz", "e03-2.5.npz"
    ]


def test_model_checkpoint_resume_matches_straight_training(tmp_path):
    def make():
        model, optimizer, _ = setup(n=20, batch_size=6)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        x = np.random.default_rng(3).normal(size=(20, 2)).astype(np.float32)
        loader = DataLoader(TensorDataset(x, (x[:, 1] > 0).astype(np.int64)), batch_size=6,
                            shuffle=True)
        return model, optimizer, scheduler, loader

    model, optimizer, scheduler, loader = make()
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3, scheduler=scheduler,
        verbose=0)
    straight = model.state_dict()

    model, optimizer, scheduler, loader = make()
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2, scheduler=scheduler,
        callbacks=[ModelCheckpoint(tmp_path / "c{epoch}.npz", scheduler=scheduler)], verbose=0)
    model, optimizer, scheduler, loader = make()
    info = load_checkpoint(tmp_path / "c2.npz", model, optimizer, scheduler)
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3, initial_epoch=info["epoch"],
        scheduler=scheduler, verbose=0)
    for key, value in straight.items():
        assert np.array_equal(model.state_dict()[key], value)


def test_learning_rate_logger_per_epoch_and_per_step():
    model, optimizer, loader = setup(n=8)  # 2 steps per epoch
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    per_epoch, per_step = LearningRateLogger(), LearningRateLogger(per_step=True)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3,
                  scheduler=scheduler, callbacks=[per_epoch, per_step], verbose=0)
    assert per_epoch.lrs == [[0.1], [0.05], [0.025]] and per_epoch.steps == [0, 1, 2]
    assert per_step.lrs == [[0.1], [0.1], [0.05], [0.05], [0.025], [0.025]]
    assert per_step.steps == [0, 1, 2, 3, 4, 5]
    assert history.lr_group0 == history.lr == [0.1, 0.05, 0.025]


def test_learning_rate_logger_logs_every_group():
    model, _, loader = setup(n=8)
    optimizer = optim.SGD(
        [{"params": [model[0].weight, model[0].bias], "lr": 0.1},
         {"params": [model[2].weight, model[2].bias], "lr": 0.01}]
    )
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2,
                  callbacks=[LearningRateLogger()], verbose=0)
    assert history.lr_group0 == [0.1, 0.1] and history.lr_group1 == [0.01, 0.01]


def test_model_checkpoint_saves_only_what_it_is_given(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "c.npz", monitor="score", extra={"run": "a"})
    run_scored([1.0, 2.0], checkpoint)
    saved = load(tmp_path / "c.npz")
    assert saved["extra"]["run"] == "a" and saved["extra"]["best"] == 1.0
    assert "history" not in saved["extra"] and saved.get("scheduler") is None


def test_a_history_passed_to_fit_is_continued():
    model, optimizer, loader = setup(n=8)
    first = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2, verbose=0)
    resumed = History.from_dict(first.to_dict())
    returned = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=4, initial_epoch=2,
                   callbacks=[resumed], verbose=0)
    assert returned is resumed and resumed.epoch == [0, 1, 2, 3]
    assert resumed.loss[:2] == first.loss and len(resumed.step_loss) == 8
    assert resumed.params["initial_epoch"] == 2


def test_callback_list_dispatches_in_order_and_rejects_non_callbacks():
    model, optimizer, _ = setup()
    seen = []

    class Named(Callback):
        def __init__(self, name):
            self.name = name

        def on_epoch_end(self, epoch, logs):
            seen.append((self.name, epoch, dict(logs)))
            logs[self.name] = epoch

    callbacks = CallbackList([Named("a"), Callback(), Named("b")], model, optimizer,
                             {"epochs": 1})
    callbacks.on_epoch_end(0, {})
    assert seen == [("a", 0, {}), ("b", 0, {"a": 0})]
    assert all(cb.model is model and cb.params == {"epochs": 1} for cb in callbacks)
    with pytest.raises(TypeError, match="Callback instances, got function"):
        CallbackList([lambda: None], model, optimizer, {})
