"""fit / evaluate: history, divergence, modes, progress output, resuming from a checkpoint."""

from __future__ import annotations

import io
import json
import sys
import warnings

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import functional as F
from scratchnn import nn, optim
from scratchnn.callbacks import Callback
from scratchnn.data import DataLoader, TensorDataset
from scratchnn.serialization import load_checkpoint, save_checkpoint
from scratchnn.train import History, TrainingDiverged, evaluate, fit


def separable(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated blobs in 2-D: class = side of the line x0 + x1 = 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = (x.sum(axis=1) > 0).astype(np.int64)
    x += np.where(y[:, None] == 1, 1.0, -1.0).astype(np.float32)
    return x, y


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return model.state_dict()


def test_fit_history_lengths_and_loss_decreases():
    sn.manual_seed(0)
    x, y = separable()
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    train = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True)  # 7 batches
    val = DataLoader(TensorDataset(x, y), batch_size=32)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train, epochs=5, val_loader=val,
                  metrics=("accuracy", "top1_accuracy"), scheduler=scheduler, verbose=0)

    assert isinstance(history, History) and len(history) == 5
    assert history.epoch == [0, 1, 2, 3, 4]
    assert list(history.history) == ["loss", "accuracy", "top1_accuracy", "val_loss",
                                     "val_accuracy", "val_top1_accuracy", "time", "lr"]
    assert all(len(values) == 5 for values in history.history.values())
    assert len(history.step_loss) == 5 * 7
    assert history.lr == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert history.loss is history["loss"] is history.history["loss"]
    assert all(t > 0 for t in history.time)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.val_accuracy[-1] == 1.0 and history.accuracy == history.top1_accuracy
    assert history.params["steps_per_epoch"] == 7

    # The epoch loss is the sample-weighted mean of its step losses (6 batches of 10, one of 4).
    sizes = np.array([10] * 6 + [4])
    first = np.array(history.step_loss[:7])
    assert history.loss[0] == pytest.approx(float((first * sizes).sum() / sizes.sum()))

    # The validation entries are what evaluate() gives for the final model.
    final = evaluate(model, val, metrics=("accuracy",), loss_fn=nn.CrossEntropyLoss())
    assert final["loss"] == pytest.approx(history.val_loss[-1])

    text = json.dumps(history.to_dict())
    again = History.from_dict(json.loads(text))
    assert again.history == history.history and again.step_loss == history.step_loss


def test_fit_from_initial_epoch_runs_the_remaining_epochs():
    sn.manual_seed(0)
    x, y = separable(20)
    model = make_model()
    loader = DataLoader(TensorDataset(x, y), batch_size=5)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    steps = Snapshots()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=5, initial_epoch=3,
                  verbose=0, metrics=None, callbacks=[steps])
    assert history.epoch == [3, 4] and len(history.step_loss) == 8
    assert list(steps.after_step) == list(range(12, 20))  # global steps count epochs 0-2
    assert list(history.history) == ["loss", "time", "lr"]
    with pytest.raises(ValueError, match="initial_epoch"):
        fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2, initial_epoch=3)


class Snapshots(Callback):
    """Weights after every optimizer step, keyed by the global step."""

    def __init__(self):
        self.after_step: dict[int, dict[str, np.ndarray]] = {}

    def on_batch_end(self, step, logs):
        self.after_step[step] = self.model.state_dict()


class NanAtCall:
    """Cross-entropy, except that call number ``bad`` (0-based) returns ``make_bad(...)``."""

    def __init__(self, bad: int, make_bad):
        self.calls, self.bad, self.make_bad = 0, bad, make_bad

    def __call__(self, output, target):
        call, self.calls = self.calls, self.calls + 1
        if call == self.bad:
            return self.make_bad(output, target)
        return F.cross_entropy(output, target)


@pytest.mark.parametrize(
    "make_bad, reason",
    [
        (lambda out, t: F.cross_entropy(out, t) * float("nan"), "loss is nan"),
        (lambda out, t: F.cross_entropy(out, t) * float("inf"), "loss is inf"),
        # finite loss (0) whose gradient is NaN: d sqrt(u)/du at u = 0 is infinite, times 0
        (lambda out, t: F.sqrt(((out - out.detach()) ** 2).sum()), "gradient of 0.weight"),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises_naming_the_step_and_keeps_the_last_good_weights(make_bad, reason):
    sn.manual_seed(0)
    x, y = separable(20)
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(x, y), batch_size=5)  # 4 steps per epoch
    snapshots = Snapshots()
    with pytest.raises(TrainingDiverged, match=reason) as info:
        fit(model, NanAtCall(6, make_bad), optimizer, loader, epochs=3, callbacks=[snapshots],
            verbose=0)
    error = info.value
    assert isinstance(error, RuntimeError)
    assert (error.step, error.epoch, error.batch) == (6, 1, 2)
    assert "step 6" in str(error)
    assert max(snapshots.after_step) == 5  # the bad step 6 was never taken
    for key, value in snapshots.after_step[5].items():
        assert np.array_equal(model.state_dict()[key], value)
    assert all(p.grad is None or np.isfinite(p.grad).all() for p in model.parameters())


class ModeProbe(nn.Module):
    """Records (training flag, grad mode) at every forward."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(2, 2)
        self.seen: list[tuple[bool, bool, bool]] = []

    def forward(self, x):
        self.seen.append((self.training, self.inner.training, sn.is_grad_enabled()))
        return self.inner(x)


@pytest.mark.parametrize("start_training", [True, False])
def test_evaluate_runs_in_eval_mode_without_grad_and_restores_the_mode(start_training):
    sn.manual_seed(0)
    x, y = separable(10)
    model = ModeProbe().train(start_training)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)  # batches of 4, 4, 2
    result = evaluate(model, loader, metrics=("accuracy", "top1_accuracy"),
                      loss_fn=nn.CrossEntropyLoss())
    assert model.seen == [(False, False, False)] * 3
    assert model.training is start_training and model.inner.training is start_training

    with sn.no_grad():
        full = model.inner(sn.tensor(x))
    assert result["loss"] == pytest.approx(F.cross_entropy(full, sn.tensor(y)).item(), rel=1e-6)
    assert result["accuracy"] == pytest.approx(float(np.mean(full.data.argmax(1) == y)))
    assert set(result) == {"loss", "accuracy", "top1_accuracy"}


def test_evaluate_restores_mixed_modes_even_after_an_error():
    model = ModeProbe()
    model.inner.eval()  # parent training, child in eval
    with pytest.raises(ValueError):
        evaluate(model, [(np.zeros((2, 2), np.float32), np.zeros(2, np.int64), "extra")])
    assert model.training is True and model.inner.training is False


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_keeps_every_value_within_its_width(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    x, y = separable(20)
    loader = DataLoader(TensorDataset(x, y), batch_size=10)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", "80")
    sn.manual_seed(0)
    model = make_model()
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader,
                  epochs=2, val_loader=loader, verbose=1)
    assert capsys.readouterr().out == ""
    shown = terminal.getvalue()
    assert "Epoch 2/2:" in shown and "batch/s" in shown  # a tqdm bar was drawn
    # each epoch ends with its line, wrapped at 80 columns: every value is there in full
    lines = [line for line in shown.replace("\r", "\n").splitlines()
             if line.startswith(("Epoch", "    "))
             and ("s - loss" in line or line.startswith("    "))]
    assert lines and all(len(line) <= 80 for line in lines)
    text = " ".join(lines)
    assert f"val_accuracy: {history.val_accuracy[-1]:.4f}" in text and "samples/s" in text


def test_verbose_output(capsys, monkeypatch):
    x, y = separable(20)
    loader = DataLoader(TensorDataset(x, y), batch_size=10)

    def run(verbose):
        sn.manual_seed(0)
        model = make_model()
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader,
            epochs=2, val_loader=loader, verbose=verbose)
        return capsys.readouterr()

    quiet = run(0)
    assert quiet.out == "" and quiet.err == ""
    lines = run(1).out.splitlines()  # stderr is not a terminal here: one line per epoch
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2")
    assert "loss:" in lines[0] and "val_accuracy:" in lines[1] and "samples/s" in lines[1]
    assert run(2).out.splitlines()[0].startswith("Epoch 1/2 - ")

    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    monkeypatch.setitem(sys.modules, "tqdm", None)  # tqdm not installed: plain lines again,
    with pytest.warns(UserWarning, match=r"needs tqdm: install scratchnn\[progress\]"):
        lines = run(1).out.splitlines()  # and a warning saying what to install
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2")

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # off a terminal tqdm is not wanted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(run(1).out.splitlines()) == 2


# ----------------------------------------------------------------------------- resuming
def build():
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    # step_size 3: the lr of epoch 3 depends on the scheduler's saved last_epoch.
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.7)
    return model, optimizer, scheduler


def loaders():
    x, y = separable(50, seed=1)
    train = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(x, y), batch_size=25)
    return train, val


def train_straight(epochs: int = 4):
    sn.manual_seed(0)
    model, optimizer, scheduler = build()
    train, val = loaders()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train, epochs=epochs, val_loader=val,
                  scheduler=scheduler, verbose=0)
    return model, history


def test_resume_from_checkpoint_is_bit_identical_to_training_straight(tmp_path):
    straight, straight_history = train_straight(4)

    sn.manual_seed(0)
    model, optimizer, scheduler = build()
    train, val = loaders()
    fit(model, nn.CrossEntropyLoss(), optimizer, train, epochs=2, val_loader=val,
        scheduler=scheduler, verbose=0)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, optimizer, scheduler, epoch=2)
    del model, optimizer, scheduler

    def resume(restore_rng: bool = True):
        sn.manual_seed(12345)  # a different RNG position, as in a new process
        model, optimizer, scheduler = build()
        info = load_checkpoint(path, model, optimizer, scheduler, restore_rng=restore_rng)
        history = fit(model, nn.CrossEntropyLoss(), optimizer, train, epochs=4,
                      initial_epoch=info["epoch"], val_loader=val, scheduler=scheduler,
                      verbose=0)
        return model, history

    resumed, history = resume()
    assert history.epoch == [2, 3]
    assert straight_history.lr == pytest.approx([0.2, 0.2, 0.2, 0.14])
    assert history.lr == straight_history.lr[2:]
    assert history.loss == straight_history.loss[2:]
    for key, value in straight.state_dict().items():
        assert np.array_equal(resumed.state_dict()[key], value), key

    # Control: without the RNG state (shuffling, dropout) the runs part ways.
    unseeded, _ = resume(restore_rng=False)
    assert not all(
        np.array_equal(unseeded.state_dict()[k], v) for k, v in straight.state_dict().items()
    )


def test_fit_rejects_bad_arguments():
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    x, y = separable(8)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    with pytest.raises(ValueError, match="verbose"):
        fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=1, verbose=3)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=1, metrics=["acuracy"])
    with pytest.raises(ValueError, match="no batches"):
        fit(model, nn.CrossEntropyLoss(), optimizer, [], epochs=1, verbose=0)
