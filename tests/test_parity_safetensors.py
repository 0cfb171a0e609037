"""Weights move between scratchnn and PyTorch through safetensors, both ways: a model trained in
scratchnn loads into the same torch architecture with ``load_state_dict(load_file(...))`` and
gives the same outputs (1e-5), and torch weights load into scratchnn, get fine-tuned, and go
back. Mismatched architectures list every difference at once."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn, optim
from scratchnn.nn import StateDictError
from scratchnn.serialization import CheckpointMismatchError, load, load_weights, save

torch = pytest.importorskip("torch")
st_torch = pytest.importorskip("safetensors.torch")

SIZES = [20, 32, 16, 5]


def ours_mlp(sizes=SIZES) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [nn.ReLU(), nn.Dropout(0.1)]
    return nn.Sequential(*layers)


def torch_mlp(sizes=SIZES) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [torch.nn.ReLU(), torch.nn.Dropout(0.1)]
    return torch.nn.Sequential(*layers)


def data(seed: int = 0, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, SIZES[0])).astype(np.float32)
    return x, (x[:, :SIZES[-1]].argmax(axis=1))


def train_ours(model: nn.Module, steps: int = 30) -> None:
    x, y = data()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(sn.tensor(x)), sn.tensor(y)).backward()
        optimizer.step()
    model.eval()


def torch_out(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def ours_out(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    with sn.no_grad():
        return model(sn.tensor(x)).numpy()


def test_scratchnn_trained_weights_run_in_pytorch(tmp_path):
    sn.manual_seed(0)
    ours = ours_mlp()
    train_ours(ours)
    path = tmp_path / "mlp.safetensors"
    save(ours.state_dict(), path)

    theirs = torch_mlp()
    result = theirs.load_state_dict(st_torch.load_file(str(path)))
    assert not result.missing_keys and not result.unexpected_keys
    x = data(seed=1)[0]
    np.testing.assert_allclose(torch_out(theirs, x), ours_out(ours, x), rtol=1e-5, atol=1e-5)


def test_pytorch_weights_fine_tuned_in_scratchnn_and_handed_back(tmp_path):
    torch.manual_seed(0)
    theirs = torch_mlp()
    path = tmp_path / "from_torch.safetensors"
    st_torch.save_file(theirs.state_dict(), str(path))

    ours = ours_mlp()
    ours.load_state_dict(load(path))
    x = data(seed=2)[0]
    np.testing.assert_allclose(ours_out(ours, x), torch_out(theirs, x), rtol=1e-5, atol=1e-5)

    before = ours.state_dict()
    train_ours(ours, steps=10)  # fine-tune
    assert not np.allclose(ours.state_dict()["0.weight"], before["0.weight"])
    back = tmp_path / "fine_tuned.safetensors"
    save(ours.state_dict(), back, metadata={"note": "fine-tuned in scratchnn"})
    theirs.load_state_dict(st_torch.load_file(str(back)))
    np.testing.assert_allclose(torch_out(theirs, x), ours_out(ours, x), rtol=1e-5, atol=1e-5)


def test_load_weights_checks_the_header_against_the_model_and_lists_every_difference(
    tmp_path,
):
    torch.manual_seed(0)
    other = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(),
                                torch.nn.Linear(30, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 5), torch.nn.Linear(5, 2))
    path = tmp_path / "other.safetensors"
    st_torch.save_file(other.state_dict(), str(path))
    ours = ours_mlp()
    before = ours.state_dict()
    with pytest.raises(CheckpointMismatchError) as caught:
        load_weights(ours, path)
    error = caught.value
    assert isinstance(error, StateDictError)
    message = str(error)
    assert str(path) in message
    # every difference at once: the renumbered layers and the mis-shaped ones
    assert set(error.missing_keys) == {"3.weight", "3.bias", "6.weight", "6.bias"}
    assert set(error.unexpected_keys) == {"2.weight", "2.bias", "4.weight", "4.bias",
                                          "5.weight", "5.bias"}
    assert {key for key, _, _ in error.shape_mismatches} == {"0.weight", "0.bias"}
    assert "size mismatch for 0.weight: copying a param with shape (30, 20)" in message
    for key, value in ours.state_dict().items():  # nothing was copied
        assert np.array_equal(value, before[key])

    # the same for torch's own load_state_dict: our file, their wrong model
    ours_path = tmp_path / "ours.safetensors"
    save(ours.state_dict(), ours_path)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        other.load_state_dict(st_torch.load_file(str(ours_path)))


def test_load_weights_into_a_matching_model(tmp_path):
    torch.manual_seed(3)
    theirs = torch_mlp()
    path = tmp_path / "w.safetensors"
    st_torch.save_file(theirs.state_dict(), str(path))
    ours = ours_mlp()
    result = load_weights(ours, path)
    assert not result.missing_keys and not result.unexpected_keys
    x = data(seed=4)[0]
    np.testing.assert_allclose(ours_out(ours, x), torch_out(theirs, x), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------ CNN
def cnn(lib):
    """The same small CNN in scratchnn or torch (BatchNorm buffers included)."""
    return lib.Sequential(
        lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 8, 3), lib.BatchNorm2d(8), lib.ReLU(), lib.AdaptiveAvgPool2d(1),
        lib.Flatten(), lib.Linear(8, 3),
    )


def images(seed: int, n: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 10, 10)).astype(np.float32)


@pytest.fixture
def needs_cnn():
    if not hasattr(nn, "Conv2d") or not hasattr(nn, "BatchNorm2d"):
        pytest.skip("the CNN layers are not in this scratchnn yet")


def test_scratchnn_trained_cnn_with_batchnorm_buffers_runs_in_pytorch(tmp_path, needs_cnn):
    sn.manual_seed(0)
    ours = cnn(nn)
    optimizer = optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    ours.train()
    for step in range(5):
        optimizer.zero_grad()
        target = sn.tensor(np.arange(16) % 3)
        nn.CrossEntropyLoss()(ours(sn.tensor(images(step))), target).backward()
        optimizer.step()
    state = ours.state_dict()
    assert int(state["1.num_batches_tracked"]) == 5
    assert not np.allclose(state["1.running_var"], 1)
    path = tmp_path / "cnn.safetensors"
    save(state, path)

    theirs = cnn(torch.nn)
    theirs.load_state_dict(st_torch.load_file(str(path)))  # strict: every buffer present
    assert int(theirs[1].num_batches_tracked) == 5
    x = images(99)
    np.testing.assert_allclose(torch_out(theirs, x), ours_out(ours, x), rtol=1e-5, atol=1e-5)


def test_pytorch_cnn_with_running_stats_loads_into_scratchnn(tmp_path, needs_cnn):
    torch.manual_seed(0)
    theirs = cnn(torch.nn)
    theirs.train()
    with torch.no_grad():
        for seed in range(4):
            theirs(torch.from_numpy(images(seed)))
    path = tmp_path / "torch_cnn.safetensors"
    st_torch.save_file(theirs.state_dict(), str(path))
    ours = cnn(nn)
    result = load_weights(ours, path)
    assert not result.missing_keys and not result.unexpected_keys
    assert int(ours.state_dict()["5.num_batches_tracked"]) == 4
    x = images(98)
    np.testing.assert_allclose(ours_out(ours, x), torch_out(theirs, x), rtol=1e-5, atol=1e-5)
