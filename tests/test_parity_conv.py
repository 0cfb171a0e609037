"""Convolution, pooling, normalization, padding and embedding against PyTorch 2.13: the same
inputs give the same outputs and the same gradients of every input (for a random upstream
gradient), in float32 and float64, on randomised shapes and options (seeded, so a failure
names a reproducible case)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import scratchnn.functional as F
from scratchnn import nn
from scratchnn.tensor import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

TOLERANCE = {np.float32: {"rtol": 2e-4, "atol": 2e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-10}}
DTYPES = [np.float32, np.float64]


def compare(ours: Callable[..., Any], theirs: Callable[..., Any], arrays: list[np.ndarray],
            dtype: Any, seed: int = 0, differentiable: list[bool] | None = None) -> None:
    """Run ``ours(*Tensors)`` and ``theirs(*torch tensors)`` on the same data; compare the
    output and, after a backward of ``sum(out * r)`` for one random r, every input gradient."""
    arrays = [a.astype(dtype) for a in arrays]
    differentiable = differentiable or [True] * len(arrays)
    mine = [Tensor(a.copy(), requires_grad=d, dtype=dtype) for a, d in zip(arrays, differentiable,
                                                                          strict=True)]
    torchs = [torch.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, differentiable,
                                                                      strict=True)]
    out, expected = ours(*mine), theirs(*torchs)
    tolerance = TOLERANCE[dtype]
    assert out.shape == tuple(expected.shape)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tolerance)
    upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    (out * Tensor(upstream, dtype=dtype)).sum().backward()
    expected.backward(torch.from_numpy(upstream))
    for index, (t, e) in enumerate(zip(mine, torchs, strict=True)):
        if e.requires_grad:
            assert t.grad is not None, f"input {index} got no gradient"
            np.testing.assert_allclose(np.asarray(t.grad.data), e.grad.numpy(), **tolerance,
                                       err_msg=f"gradient of input {index}")


def _conv_cases(count: int, seed: int) -> list[dict[str, Any]]:
    """Random conv2d settings: odd sizes, batch 1, channel 1, non-square kernels, strides,
    dilations, paddings (int, tuple, 'same', 'valid'), groups (depthwise too), bias or not."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in = groups * int(rng.integers(1, 4))
        depthwise = rng.random() < 0.2
        c_out = c_in if depthwise else groups * int(rng.integers(1, 4))
        groups = c_in if depthwise else groups
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 4)))
        dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        padding: Any = (int(rng.integers(0, 3)), int(rng.integers(0, 2)))
        if rng.random() < 0.2:
            padding, stride = "same", (1, 1)
        elif rng.random() < 0.1:
            padding = "valid"
        elif rng.random() < 0.3:
            padding = padding[0]
        size = (int(rng.integers(3, 10)), int(rng.integers(3, 10)))
        extent = [dilation[a] * (kernel[a] - 1) + 1 for a in (0, 1)]
        pad = (0, 0) if isinstance(padding, str) else np.broadcast_to(padding, 2)
        if any(size[a] + 2 * pad[a] < extent[a] for a in (0, 1)):
            continue
        cases.append({"n": int(rng.integers(1, 4)), "c_in": c_in, "c_out": c_out,
                      "size": size, "kernel": kernel, "stride": stride, "padding": padding,
                      "dilation": dilation, "groups": groups, "bias": bool(rng.random() < 0.7)})
    return cases


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", _conv_cases(14, seed=1), ids=lambda c: str(tuple(c.values())))
def test_conv2d(case: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(2)
    c = case
    arrays = [rng.standard_normal((c["n"], c["c_in"], *c["size"])),
              rng.standard_normal((c["c_out"], c["c_in"] // c["groups"], *c["kernel"]))]
    if c["bias"]:
        arrays.append(rng.standard_normal(c["c_out"]))
    options = {k: c[k] for k in ("stride", "padding", "dilation", "groups")}

    def call(functional: Any) -> Callable[..., Any]:
        return lambda x, w, b=None: functional.conv2d(x, w, b, **options)

    compare(call(F), call(TF), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [
    {}, {"stride": 2, "padding": 1}, {"padding": "same", "dilation": 2},
    {"groups": 2, "padding": "valid"}, {"stride": 3, "dilation": 2, "padding": 2},
])
def test_conv1d(options: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 4 // options.get(
        "groups", 1), 3)), rng.standard_normal(6)]
    compare(lambda x, w, b: F.conv1d(x, w, b, **options),
            lambda x, w, b: TF.conv1d(x, w, b, **options), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, c_in, c_out, size, kernel, stride, padding, output_padding, "
                         "dilation, groups", [
                             (2, 3, 4, (5, 4), (3, 3), 2, 1, 1, 1, 1),
                             (1, 4, 6, (3, 6), (2, 3), (1, 2), (0, 1), (0, 1), 1, 2),
                             (2, 2, 3, (4, 4), (3, 3), (3, 2), (2, 1), (2, 0), (2, 1), 1),
                             (1, 1, 1, (1, 1), (1, 1), 1, 0, 0, 1, 1),
                             (3, 2, 2, (4, 3), (4, 2), 2, 1, 0, 1, 2),
                         ])
def test_conv_transpose2d(n: int, c_in: int, c_out: int, size: tuple, kernel: tuple,
                          stride: Any, padding: Any, output_padding: Any, dilation: Any,
                          groups: int, dtype: Any) -> None:
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((n, c_in, *size)),
              rng.standard_normal((c_in, c_out // groups, *kernel)), rng.standard_normal(c_out)]
    options = {"stride": stride, "padding": padding, "output_padding": output_padding,
               "groups": groups, "dilation": dilation}
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **options),
            lambda x, w, b: TF.conv_transpose2d(x, w, b, **options), arrays, dtype)


def _pool_cases(count: int, seed: int, dilation: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        padding = (int(rng.integers(0, kernel[0] // 2 + 1)),
                   int(rng.integers(0, kernel[1] // 2 + 1)))
        dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if dilation else (1, 1)
        size = (int(rng.integers(2, 9)), int(rng.integers(2, 9)))
        if any(size[a] + 2 * padding[a] < dil[a] * (kernel[a] - 1) + 1 for a in (0, 1)):
            continue
        cases.append({"shape": (int(rng.integers(1, 3)), int(rng.integers(1, 4)), *size),
                      "kernel_size": kernel, "stride": stride, "padding": padding,
                      "dilation": dil, "ceil_mode": bool(rng.random() < 0.4)})
    return cases


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", _pool_cases(12, seed=5, dilation=True),
                         ids=lambda c: str(tuple(c.values())))
def test_max_pool2d(case: dict[str, Any], dtype: Any) -> None:
    x = np.random.default_rng(6).standard_normal(case["shape"])
    options = {k: v for k, v in case.items() if k != "shape"}
    compare(lambda t: F.max_pool2d(t, **options), lambda t: TF.max_pool2d(t, **options), [x],
            dtype)
    _, ours = F.max_pool2d(Tensor(x), return_indices=True, **options)
    _, theirs = TF.max_pool2d(torch.from_numpy(x), return_indices=True, **options)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_max_pool2d_ties_go_to_the_first_element_as_in_pytorch() -> None:
    x = np.zeros((1, 2, 4, 4), dtype=np.float32)
    x[0, 1, 0, 1] = x[0, 1, 1, 0] = 1.0  # a tie between the 2nd and the 3rd element
    compare(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x], np.float32)


@pytest.mark.parametrize("chunk_bytes", [1, 3000])
def test_max_pool2d_in_batch_chunks_equals_pytorch(monkeypatch: pytest.MonkeyPatch,
                                                   chunk_bytes: int) -> None:
    """Max pooling runs chunk by chunk of the batch (one sample, or a few, per chunk here):
    windows that tile the input, overlap, or reach into the padding."""
    import scratchnn.ops.pool as pool_ops

    monkeypatch.setattr(pool_ops, "POOL_CHUNK_BYTES", chunk_bytes)
    x = np.random.default_rng(23).standard_normal((5, 3, 7, 8))
    for options in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1},
                    {"kernel_size": (2, 3), "stride": 2, "ceil_mode": True}):
        compare(lambda t, o=options: F.max_pool2d(t, **o),
                lambda t, o=options: TF.max_pool2d(t, **o), [x], np.float64)
        _, ours = F.max_pool2d(Tensor(x), return_indices=True, **options)
        _, theirs = TF.max_pool2d(torch.from_numpy(x), return_indices=True, **options)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("requires_grad", [True, False])
def test_max_pool2d_with_indices_pools_once_and_matches_pytorch(
        monkeypatch: pytest.MonkeyPatch, requires_grad: bool) -> None:
    """return_indices reuses the winners the op keeps for its backward (or, with no graph to
    record, pools once without a node): one pass over the input, not two."""
    import scratchnn.ops.pool as pool_ops

    passes = []
    pool_into = pool_ops._max_pool_into
    monkeypatch.setattr(pool_ops, "_max_pool_into",
                        lambda *args: passes.append(1) or pool_into(*args))
    x = np.random.default_rng(24).standard_normal((2, 3, 6, 7))
    options = {"kernel_size": 3, "stride": 2, "padding": 1}
    ours_x = Tensor(x, requires_grad=requires_grad, dtype=np.float64)
    out, ours = F.max_pool2d(ours_x, return_indices=True, **options)
    assert len(passes) == 1
    theirs_x = torch.tensor(x, requires_grad=requires_grad)
    expected, theirs = TF.max_pool2d(theirs_x, return_indices=True, **options)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    assert out.requires_grad is expected.requires_grad is requires_grad
    if requires_grad:
        weights = np.random.default_rng(25).standard_normal(out.shape)
        (out * Tensor(weights, dtype=np.float64)).sum().backward()
        (expected * torch.from_numpy(weights)).sum().backward()
        np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", _pool_cases(10, seed=7, dilation=False),
                         ids=lambda c: str(tuple(c.values())))
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d(case: dict[str, Any], count_include_pad: bool, dtype: Any) -> None:
    x = np.random.default_rng(8).standard_normal(case["shape"])
    options = {k: v for k, v in case.items() if k not in ("shape", "dilation")}
    options["count_include_pad"] = count_include_pad
    compare(lambda t: F.avg_pool2d(t, **options), lambda t: TF.avg_pool2d(t, **options), [x],
            dtype)


def test_avg_pool2d_divisor_override() -> None:
    x = np.random.default_rng(9).standard_normal((2, 3, 6, 5))
    compare(lambda t: F.avg_pool2d(t, 3, 2, 1, divisor_override=4),
            lambda t: TF.avg_pool2d(t, 3, 2, 1, divisor_override=4), [x], np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size, output_size", [
    ((8, 8), 1), ((7, 9), (3, 4)), ((6, 6), (2, 3)), ((5, 7), (5, None)), ((1, 1), 1),
])
def test_adaptive_avg_pool2d(size: tuple, output_size: Any, dtype: Any) -> None:
    x = np.random.default_rng(10).standard_normal((2, 3, *size))
    compare(lambda t: F.adaptive_avg_pool2d(t, output_size),
            lambda t: TF.adaptive_avg_pool2d(t, output_size), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel, dilation, padding, stride, size", [
    ((2, 3), (1, 2), (1, 0), (2, 1), (6, 7)), (3, 1, 1, 1, (5, 5)), (1, 1, 0, 2, (4, 3)),
])
def test_unfold_and_fold(kernel: Any, dilation: Any, padding: Any, stride: Any, size: tuple,
                         dtype: Any) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, *size))
    compare(lambda t: F.unfold(t, kernel, dilation, padding, stride),
            lambda t: TF.unfold(t, kernel, dilation, padding, stride), [x], dtype)
    blocks = TF.unfold(torch.from_numpy(x), kernel, dilation, padding, stride).numpy()
    compare(lambda t: F.fold(t, size, kernel, dilation, padding, stride),
            lambda t: TF.fold(t, size, kernel, dilation, padding, stride),
            [rng.standard_normal(blocks.shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad, mode", [
    ((1, 2), "constant"), ((1, -2, 3, 0), "constant"), ((2, 1, 0, 3, 1, 1), "constant"),
    ((1, 2, 2, 1), "reflect"), ((2, 0, 1, 3), "replicate"), ((1, 2, 3, 1), "circular"),
])
def test_pad(pad: tuple, mode: str, dtype: Any) -> None:
    x = np.random.default_rng(12).standard_normal((2, 3, 5, 6))
    compare(lambda t: F.pad(t, pad, mode), lambda t: TF.pad(t, pad, mode), [x], dtype)


def test_pad_constant_value() -> None:
    x = np.random.default_rng(13).standard_normal((2, 4))
    compare(lambda t: F.pad(t, (1, 2), value=-3.5), lambda t: TF.pad(t, (1, 2), value=-3.5), [x],
            np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, training, affine", [
    ((4, 3, 5, 6), True, True), ((4, 3, 5, 6), False, True), ((5, 3), True, False),
    ((2, 3, 7), True, True), ((1, 2, 3, 3), True, True),
])
def test_batch_norm(shape: tuple, training: bool, affine: bool, dtype: Any) -> None:
    rng = np.random.default_rng(14)
    channels = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    stats = [rng.standard_normal(channels), rng.random(channels) + 0.5]
    ours_stats = [s.astype(dtype) for s in stats]
    theirs_stats = [torch.from_numpy(s.astype(dtype)) for s in stats]
    arrays = [x] + ([rng.standard_normal(channels), rng.standard_normal(channels)] if affine
                    else [])
    compare(lambda t, *wb: F.batch_norm(t, *ours_stats, *wb, training=training, momentum=0.3),
            lambda t, *wb: TF.batch_norm(t, *theirs_stats, *wb, training=training,
                                         momentum=0.3), arrays, dtype)
    for ours, theirs in zip(ours_stats, theirs_stats, strict=True):  # updated in place alike
        np.testing.assert_allclose(ours, theirs.numpy(), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, normalized, affine", [
    ((3, 4, 5), (5,), "both"), ((3, 4, 5), (4, 5), "both"), ((2, 6), (6,), "none"),
    ((2, 3, 6), (6,), "weight"),
])
def test_layer_norm(shape: tuple, normalized: tuple, affine: str, dtype: Any) -> None:
    rng = np.random.default_rng(15)
    arrays = [rng.standard_normal(shape) * 3]
    if affine != "none":
        arrays.append(rng.standard_normal(normalized))
    if affine == "both":
        arrays.append(rng.standard_normal(normalized))
    compare(lambda t, *wb: F.layer_norm(t, normalized, *wb),
            lambda t, *wb: TF.layer_norm(t, normalized, *wb), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, groups", [((3, 4, 5, 2), 2), ((2, 6, 3), 3), ((2, 4), 1)])
def test_group_norm(shape: tuple, groups: int, dtype: Any) -> None:
    rng = np.random.default_rng(16)
    arrays = [rng.standard_normal(shape), rng.standard_normal(shape[1]),
              rng.standard_normal(shape[1])]
    compare(lambda t, w, b: F.group_norm(t, groups, w, b),
            lambda t, w, b: TF.group_norm(t, groups, w, b), arrays, dtype)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(padding_idx: int | None) -> None:
    rng = np.random.default_rng(17)
    table = rng.standard_normal((7, 3))
    index = np.array([[1, 2, 2, 6], [6, 0, 1, 2]])
    compare(lambda w: F.embedding(Tensor(index), w, padding_idx),
            lambda w: TF.embedding(torch.from_numpy(index), w, padding_idx), [table],
            np.float32)


def test_dropout2d_drops_whole_channels_and_scales_the_rest(seeded: Any) -> None:
    seeded(0)
    x = Tensor(np.ones((20, 30, 4, 4), dtype=np.float32), requires_grad=True)
    out = F.dropout2d(x, p=0.25)
    maps = out.data.reshape(20, 30, 16)
    constant = (maps == maps[:, :, :1]).all(axis=2)
    assert constant.all()  # every map is all zero or all 1/(1-p)
    values = set(np.unique(maps).tolist())
    assert values <= {0.0, np.float32(1 / 0.75)}
    assert 0.15 < (maps[:, :, 0] == 0).mean() < 0.35
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # d out / d x = the scaled mask
    assert F.dropout2d(x, 0.25, training=False) is x


def test_benchmark_cnn_with_pytorch_weights_gives_pytorch_outputs_and_gradients() -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 32),
        torch.nn.ReLU(), torch.nn.Linear(32, 10))
    ours = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Linear(32, 10))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(18)
    x = rng.standard_normal((6, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 6)
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        out, expected = ours(Tensor(x)), theirs(torch.from_numpy(x))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    loss = nn.CrossEntropyLoss()(ours.train()(Tensor(x)), Tensor(y))
    expected_loss = torch.nn.CrossEntropyLoss()(theirs.train()(torch.from_numpy(x)),
                                                torch.from_numpy(y))
    loss.backward()
    expected_loss.backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(),
                                 strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)
    for key, value in theirs.state_dict().items():  # running statistics moved alike
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=key)


@pytest.mark.parametrize("chunk_bytes", [1, 9000])
def test_conv2d_in_batch_chunks_equals_pytorch(monkeypatch: pytest.MonkeyPatch,
                                               chunk_bytes: int) -> None:
    """im2col + GEMM run chunk by chunk of the batch (one sample, or a few, per chunk here):
    the chunks together must give PyTorch's output and gradients, with and without the bias
    riding in a thin GEMM."""
    import scratchnn.ops.conv as conv_ops

    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(19)
    for c_in, padding in ((1, 1), (3, 0), (2, "same")):
        arrays = [rng.standard_normal((5, c_in, 6, 7)), rng.standard_normal((4, c_in, 3, 3)),
                  rng.standard_normal(4)]
        compare(lambda x, w, b, p=padding: F.conv2d(x, w, b, padding=p),
                lambda x, w, b, p=padding: TF.conv2d(x, w, b, padding=p), arrays, np.float64)
