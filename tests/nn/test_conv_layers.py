"""The convolutional layers as modules: parameters, PyTorch's init and reprs, buffers in the
state dict (and through save/load), BatchNorm's running statistics and modes, argument
errors, and the summary table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import scratchnn
from scratchnn import nn
from scratchnn.tensor import Tensor

torch = pytest.importorskip("torch")

# (scratchnn layer, the same PyTorch layer): built from one constructor string
LAYERS = [
    "Conv2d(1, 32, 3, padding=1)",
    "Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=2, groups=2, bias=False)",
    "Conv2d(3, 3, 3, padding='same', groups=3)",
    "Conv2d(2, 5, 1, padding='valid')",
    "Conv1d(3, 4, 5, stride=2, padding=2)",
    "ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)",
    "ConvTranspose2d(4, 6, (2, 3), groups=2, bias=False, dilation=(1, 2))",
    "MaxPool2d(2)",
    "MaxPool2d(3, stride=2, padding=1, ceil_mode=True)",
    "MaxPool2d((2, 3), stride=(1, 2), dilation=(2, 1))",
    "AvgPool2d(2)",
    "AvgPool2d(3, 2, 1, count_include_pad=False)",
    "AdaptiveAvgPool2d(1)",
    "AdaptiveAvgPool2d((2, 3))",
    "BatchNorm1d(7)",
    "BatchNorm2d(5, eps=1e-3, momentum=None, affine=False)",
    "BatchNorm2d(3, track_running_stats=False)",
    "BatchNorm2d(3, bias=False)",
    "GroupNorm(3, 6, bias=False)",
    "LayerNorm(5, bias=False)",
    "LayerNorm((4, 5))",
    "LayerNorm(6, elementwise_affine=False)",
    "GroupNorm(2, 6)",
    "Embedding(10, 4, padding_idx=0)",
    "Dropout2d(0.3)",
]


def _both(spec: str) -> tuple[Any, Any]:
    return eval("nn." + spec), eval("torch.nn." + spec)  # noqa: S307 (our own strings)


@pytest.mark.parametrize("spec", LAYERS)
def test_repr_parameters_and_buffers_match_pytorch(spec: str) -> None:
    ours, theirs = _both(spec)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].dtype == value.numpy().dtype, key


@pytest.mark.parametrize("layer, fan_in", [
    (lambda: nn.Conv2d(16, 32, 3), 16 * 9), (lambda: nn.Conv2d(8, 8, (1, 5), groups=4), 2 * 5),
    (lambda: nn.Conv1d(6, 12, 4), 24), (lambda: nn.ConvTranspose2d(16, 12, 3, groups=2), 6 * 9),
])
def test_conv_init_is_pytorchs_uniform_bound(layer: Any, fan_in: int, seeded: Any) -> None:
    seeded(0)
    module = layer()
    bound = 1 / np.sqrt(fan_in)
    for param in (module.weight.data, module.bias.data):
        assert param.dtype == np.float32
        assert np.abs(param).max() <= bound
    weights = module.weight.data
    assert np.abs(weights).max() > 0.9 * bound  # spread over the whole range, not shrunk
    assert abs(weights.std() - bound / np.sqrt(3)) < 0.15 * bound / np.sqrt(3)


def test_embedding_init_is_standard_normal_with_a_zero_padding_row(seeded: Any) -> None:
    seeded(1)
    layer = nn.Embedding(400, 50, padding_idx=3)
    assert np.all(layer.weight.data[3] == 0)
    rows = np.delete(layer.weight.data, 3, axis=0)
    assert abs(rows.mean()) < 0.02 and abs(rows.std() - 1) < 0.02


def test_batchnorm_running_stats_train_and_eval(rng: np.random.Generator) -> None:
    bn = nn.BatchNorm2d(3, momentum=0.5)
    x = rng.standard_normal((8, 3, 4, 4)).astype(np.float32) * 2 + 3
    out = bn(Tensor(x))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    # training: normalised by the batch statistics (biased variance)
    np.testing.assert_allclose(out.data.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.data.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-4)
    # running stats moved halfway towards the batch's (unbiased variance), count went up
    np.testing.assert_allclose(bn.running_mean.data, 0.5 * mean, rtol=1e-5)
    unbiased = x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_var.data, 0.5 + 0.5 * unbiased, rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 1
    # eval: the running statistics normalise, and nothing moves
    before = bn.state_dict()
    bn.eval()
    out = bn(Tensor(x))
    expected = (x - bn.running_mean.data[:, None, None]) / np.sqrt(
        bn.running_var.data[:, None, None] + 1e-5)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_batchnorm_momentum_none_is_a_cumulative_average(rng: np.random.Generator) -> None:
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [rng.standard_normal((5, 2)).astype(np.float32) + i for i in range(3)]
    for batch in batches:
        bn(Tensor(batch))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 3


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval(rng: np.random.Generator):
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()
    x = rng.standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(bn(Tensor(x)).data.mean(0), 0, atol=1e-6)
    assert bn.state_dict().keys() == {"weight", "bias"}


def test_batchnorm_rejects_a_single_value_per_channel_in_training() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.ones((1, 3), dtype=np.float32)))


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_state_dict_round_trip_with_buffers(tmp_path: Any, suffix: str,
                                            rng: np.random.Generator) -> None:
    def model() -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))

    trained = model()
    for _ in range(3):  # move the running statistics away from their initial values
        trained(Tensor(rng.standard_normal((5, 1, 6, 6)).astype(np.float32)))
    path = tmp_path / f"weights{suffix}"
    scratchnn.save(trained.state_dict(), path)
    fresh = model()
    assert not np.allclose(fresh[1].running_mean.data, trained[1].running_mean.data)
    fresh.load_state_dict(scratchnn.load(path))
    for key, value in trained.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value, err_msg=key)
    assert fresh.state_dict()["1.num_batches_tracked"].dtype == np.int64
    x = Tensor(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))
    np.testing.assert_array_equal(fresh.eval()(x).data, trained.eval()(x).data)


def test_buffers_are_listed_converted_and_non_persistent_ones_not_saved() -> None:
    bn = nn.BatchNorm2d(2)
    bn.register_buffer("scratch", Tensor(np.zeros(2, dtype=np.float32)), persistent=False)
    assert [name for name, _ in bn.named_buffers()] == [
        "running_mean", "running_var", "num_batches_tracked", "scratch"]
    assert len(list(bn.buffers())) == 4
    assert "scratch" not in bn.state_dict()
    bn.double()
    assert bn.running_mean.dtype == np.float64 and bn.scratch.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64


@pytest.mark.parametrize("build, call, message", [
    (lambda: nn.Conv2d(3, 8, 3), lambda m: m(Tensor(np.zeros((1, 4, 5, 5), np.float32))),
     "input has 4 channels"),
    (lambda: nn.Conv2d(3, 8, 3), lambda m: m(Tensor(np.zeros((3, 5), np.float32))),
     "expected a 4-D"),
    (lambda: nn.Conv2d(3, 8, 5), lambda m: m(Tensor(np.zeros((1, 3, 4, 4), np.float32))),
     "larger than the padded input"),
    (lambda: nn.Conv2d(3, 8, 3, groups=2), None, "divisible by groups"),
    (lambda: nn.Conv2d(3, 8, 3, padding="full"), None, "'same' or 'valid'"),
    (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"), None, "strided"),
    (lambda: nn.Conv2d(3, 8, 3, padding_mode="reflect"), None, "padding_mode"),
    (lambda: nn.MaxPool2d(2, padding=2), lambda m: m(Tensor(np.zeros((1, 1, 4, 4), np.float32))),
     "at most half"),
    (lambda: nn.MaxPool2d(5), lambda m: m(Tensor(np.zeros((1, 1, 4, 4), np.float32))),
     "too small"),
    (lambda: nn.BatchNorm2d(3), lambda m: m(Tensor(np.zeros((2, 4, 2, 2), np.float32))),
     "expected 3 channels"),
    (lambda: nn.Embedding(5, 2), lambda m: m(Tensor(np.array([5]))), "out of range"),
    (lambda: nn.GroupNorm(4, 6), None, "divisible"),
])
def test_bad_arguments_raise_one_clear_error(build: Any, call: Any, message: str) -> None:
    with pytest.raises((ValueError, IndexError, NotImplementedError), match=message):
        module = build()
        call(module)


def test_dtype_mismatch_is_named() -> None:
    layer = nn.Conv2d(1, 2, 3)
    with pytest.raises(TypeError, match="one dtype"):
        layer(Tensor(np.zeros((1, 1, 4, 4)), dtype=np.float64))


def test_unbatched_input_gives_unbatched_output(rng: np.random.Generator) -> None:
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = rng.standard_normal((2, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(conv(Tensor(x)).data, conv(Tensor(x[None])).data[0], rtol=1e-6)
    assert nn.MaxPool2d(2)(Tensor(x)).shape == (2, 2, 2)


def test_conv_transpose_output_size_picks_the_output_padding() -> None:
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = Tensor(np.zeros((1, 2, 4, 4), np.float32))
    assert up(x).shape == (1, 2, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 2, 8, 8)


def test_summary_lists_the_cnn_layers_with_shapes_and_parameter_counts() -> None:
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.BatchNorm2d(32), nn.Flatten(), nn.Linear(32 * 14 * 14, 10))
    from scratchnn.summary import summary

    text = str(summary(model, (1, 28, 28)))
    for layer, shape, count in [("Conv2d", "32, 28, 28)", "320"), ("MaxPool2d", "32, 14, 14)",
                                                                      "0"),
                                ("BatchNorm2d", "32, 14, 14)", "64")]:
        line = next(line for line in text.splitlines() if layer in line)
        assert shape in line and count in line, line
