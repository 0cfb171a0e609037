"""scratchnn.summary: Keras-style table of output shapes and parameter counts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.summary import count_parameters, layer_table, print_summary, summary
from scratchnn.tensor import Tensor


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def test_mlp_784_128_10_counts_101770_parameters() -> None:
    text = str(summary(mlp(), (784,)))
    assert "Total params: 101,770" in text
    assert "Trainable params: 101,770" in text
    assert "Non-trainable params: 0" in text
    assert count_parameters(mlp()) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770


def test_rows_have_names_types_shapes_and_params() -> None:
    rows = layer_table(mlp(), (784,))
    assert [(r.name, r.type) for r in rows] == [("0", "Linear"), ("1", "ReLU"), ("2", "Linear")]
    assert [r.output_shape for r in rows] == [(None, 128), (None, 128), (None, 10)]
    assert [r.params for r in rows] == [100_480, 0, 1_290]
    text = str(summary(mlp(), 784))  # an int works as a 1-d shape
    assert re.search(r"0 \(Linear\)\s+\(None, 128\)\s+100,480", text)
    assert re.search(r"1 \(ReLU\)\s+\(None, 128\)\s+0", text)
    assert re.search(r"2 \(Linear\)\s+\(None, 10\)\s+1,290", text)
    header = text.splitlines()[2]
    assert header.split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]


def test_flatten_and_image_input_shapes() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Tanh(), nn.Dropout(0.5),
                          nn.Linear(32, 10))
    rows = layer_table(model, (28, 28))
    assert [r.output_shape for r in rows] == [(None, 784), (None, 32), (None, 32), (None, 32),
                                              (None, 10)]
    assert model.training and all(m.training for m in model.modules())  # modes restored


class Net(nn.Module):
    """A custom model with a nested container and a parameter of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x)) * self.scale


def test_nested_modules_use_dotted_names_and_own_parameters_count() -> None:
    rows = layer_table(Net(), (4,))
    names = [r.name for r in rows]
    assert names == ["Net", "encoder.0", "encoder.1", "head"]  # call order: Net starts first
    by_name = {r.name: r for r in rows}
    assert by_name["Net"].params == 3 and by_name["Net"].output_shape == (None, 3)
    assert by_name["encoder.0"].output_shape == (None, 8)
    assert sum(r.params for r in rows) == count_parameters(Net()) == 4 * 8 + 8 + 8 * 3 + 3 + 3


def test_frozen_parameters_are_non_trainable() -> None:
    model = mlp()
    model[0].requires_grad_(False)
    text = str(summary(model, (784,)))
    assert "Total params: 101,770" in text
    assert "Trainable params: 1,290" in text
    assert "Non-trainable params: 100,480" in text


def test_layers_that_do_not_chain_raise_a_value_error_naming_the_layer() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(16, 3))
    with pytest.raises(ValueError, match=r"layer '2' \(Linear\) cannot take input of shape "
                                         r"\(1, 8\)"):
        summary(model, (4,))
    # the wrappers are gone and the model still works
    assert all("forward" not in m.__dict__ for m in model.modules())
    model[2] = nn.Linear(8, 3)
    assert model(Tensor(np.zeros((2, 4), dtype=np.float32))).shape == (2, 3)


def test_wrong_input_shape_names_the_first_layer() -> None:
    with pytest.raises(ValueError, match=r"layer '0' \(Linear\)"):
        summary(mlp(), (100,))


def test_shared_module_is_listed_per_call_but_counted_once() -> None:
    layer = nn.Linear(5, 5)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    rows = layer_table(model, (5,))
    assert [r.params for r in rows] == [30, 0, 0]
    assert "Total params: 30" in str(summary(model, (5,)))


def test_no_graph_is_recorded_and_print_summary_prints(capsys: pytest.CaptureFixture) -> None:
    model = mlp()
    print_summary(model, (784,))
    out = capsys.readouterr().out
    assert "Total params: 101,770" in out
    assert all(p.grad is None for p in model.parameters())


def test_summary_object_prints_the_table_and_keeps_the_counts(
        capsys: pytest.CaptureFixture) -> None:
    model = mlp()
    result = summary(model, (784,))
    print(result)
    assert capsys.readouterr().out == str(result) + "\n" == repr(result) + "\n"
    assert (result.total_params, result.trainable_params) == (101_770, 101_770)
    assert [r.type for r in result.rows] == ["Linear", "ReLU", "Linear"]
    lines: list[str] = []
    print_summary(model, (784,), print_fn=lines.append)
    assert lines == [str(result)]
    model[0].weight.requires_grad_(False)
    frozen = summary(model, (784,))
    assert frozen.non_trainable_params == 784 * 128
    assert "Non-trainable params: 100,352" in str(frozen)


def test_summary_is_a_leaf_module_and_module_has_no_summary_method() -> None:
    import scratchnn

    assert not hasattr(nn.Module, "summary")  # as in PyTorch
    assert scratchnn.summary.__name__ == "scratchnn.summary"  # the module, not shadowed
    assert scratchnn.summary.summary is summary
