"""Module / Parameter: registration, traversal, state dicts, modes, repr (vs PyTorch)."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.nn.module import IncompatibleKeys
from scratchnn.tensor import Tensor


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.register_buffer("count", np.zeros(2, dtype=np.int64))

    def forward(self, x):
        return self.act(self.fc(x))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.head = nn.Sequential(nn.Linear(4, 2), nn.Tanh())

    def forward(self, x):
        return self.head(self.block(x) * self.scale)


# ------------------------------------------------------------------ Parameter
def test_parameter_is_a_float_leaf_tensor_requiring_grad():
    p = nn.Parameter(np.arange(3))
    assert isinstance(p, Tensor)
    assert p.requires_grad and p.is_leaf
    assert p.dtype == np.float32
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(np.ones(2), requires_grad=False).requires_grad


def test_parameter_of_a_tensor_shares_its_array_and_keeps_its_dtype():
    t = Tensor(np.ones(3), dtype=np.float64)
    p = nn.Parameter(t)
    assert p.dtype == np.float64
    assert np.shares_memory(p.data, t.data)


def test_operations_on_parameters_give_plain_tensors():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    assert type(p * 2) is Tensor


# --------------------------------------------------------------- registration
def test_attributes_register_into_the_right_stores():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["block", "head"]
    assert list(net.block._buffers) == ["count"]
    assert "fc" not in net.block.__dict__  # stored in _modules, found by __getattr__
    assert net.block.fc is net.block._modules["fc"]


def test_named_parameters_use_dotted_names_in_registration_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["scale", "block.fc.weight", "block.fc.bias", "head.0.weight", "head.0.bias"]
    names = [name for name, _ in Net().named_parameters(prefix="model", recurse=False)]
    assert names == ["model.scale"]


def test_module_traversal():
    net = Net()
    assert [name for name, _ in net.named_modules()] == [
        "", "block", "block.fc", "block.act", "head", "head.0", "head.1",
    ]
    assert [name for name, _ in net.named_children()] == ["block", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert len(list(net.modules())) == 7
    assert [name for name, _ in net.named_buffers()] == ["block.count"]


def test_shared_parameter_and_module_are_counted_once():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    model.extra = nn.Linear(4, 4)
    model.extra.weight = shared.weight  # tie a weight
    params = list(model.parameters())
    assert len(params) == 3  # shared.weight, shared.bias, extra.bias
    assert len({id(p) for p in params}) == 3
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "extra.bias"]
    assert len(list(model.modules())) == 4  # model, shared, relu, extra
    # the state dict keeps every name (as in PyTorch)
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "extra.weight", "extra.bias",
    ]


def test_reassigning_and_deleting_attributes():
    net = Net()
    net.block.fc.bias = None  # a registered parameter may become None...
    assert "bias" in net.block.fc._parameters
    assert [n for n, _ in net.block.named_parameters()] == ["fc.weight"]
    with pytest.raises(TypeError, match="Parameter or None"):
        net.block.fc.weight = Tensor(np.ones((4, 3)))  # ...but not a plain Tensor
    net.head = nn.Identity()  # replacing a child
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    net.block.act = nn.Parameter(np.ones(1))  # a module name re-used for a parameter
    assert "act" not in net.block._modules and "act" in net.block._parameters
    del net.scale
    assert "scale" not in net._parameters
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'scale'"):
        net.scale  # noqa: B018
    del net.block.count
    assert list(net.block.state_dict()) == ["act", "fc.weight"]


def test_buffers_register_and_non_persistent_ones_are_not_saved():
    m = nn.Module()
    m.register_buffer("kept", np.ones(2))
    m.register_buffer("scratch", Tensor(np.zeros(3)), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [name for name, _ in m.named_buffers()] == ["kept", "scratch"]
    m.kept = np.full(2, 7.0)  # assignment to a buffer name replaces the buffer
    assert np.all(m.state_dict()["kept"] == 7)
    with pytest.raises(TypeError):
        m.kept = "not an array"


def test_registration_errors():
    class Early(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(np.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    m = nn.Module()
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError):
        m.register_buffer("training", np.ones(1))  # an existing attribute
    with pytest.raises(TypeError):
        m.register_parameter("w", Tensor(np.ones(1)))
    with pytest.raises(TypeError, match=r"did you mean ReLU\(\)"):
        nn.Sequential(nn.ReLU)


def test_forward_must_be_defined_and_call_runs_it():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)

    class Double(nn.Module):
        def forward(self, x, *, times=2):
            return x * times

    assert Double()(3, times=5) == 15


def test_copy_and_pickle_keep_registration():
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
        assert isinstance(clone.block.fc.weight, nn.Parameter)
        assert clone.block.fc.weight is not net.block.fc.weight
        np.testing.assert_array_equal(clone.block.fc.weight.data, net.block.fc.weight.data)


# ----------------------------------------------------------------- state dict
def test_state_dict_is_an_ordered_copy():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    # a module's own parameters, then its buffers, then each child's (PyTorch's order)
    assert list(state) == [
        "scale", "block.count", "block.fc.weight", "block.fc.bias", "head.0.weight",
        "head.0.bias",
    ]
    assert all(type(v) is np.ndarray for v in state.values())
    state["scale"][:] = 123
    assert np.all(net.scale.data == 1)


def test_state_dict_keys_and_order_equal_torchs():
    torch = pytest.importorskip("torch")

    def build(lib, counter, weights):
        """The same architecture in either library; counter() / weights() make the arrays."""

        class Inner(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = lib.Linear(3, 4)
                self.register_buffer("count", counter())
                self.register_buffer("tmp", counter(), persistent=False)
                self.gain = lib.Parameter(weights())

        class Outer(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layers = lib.Sequential(lib.Linear(4, 4), Inner(), lib.ReLU())
                self.blocks = lib.ModuleList([lib.Linear(2, 2, bias=False), Inner()])
                self.scale = lib.Parameter(weights())

        return Outer()

    ours = build(nn, lambda: np.zeros(2, dtype=np.int64), lambda: np.ones(2)).state_dict()
    theirs = build(torch.nn, lambda: torch.zeros(2, dtype=torch.int64), lambda: torch.ones(2))
    theirs = theirs.state_dict()
    assert list(ours) == list(theirs)
    assert [v.shape for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]


def test_load_state_dict_round_trip_copies_in_place_with_dtype_cast():
    source, target = Net(), Net()
    source.block.count[:] = [3, 4]
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)))
    weight_object, weight_array = target.block.fc.weight, target.block.fc.weight.data
    state64 = {k: v.astype(np.float64) for k, v in source.state_dict().items()}

    result = target.load_state_dict(state64)

    assert result == IncompatibleKeys([], [])
    assert repr(result) == "<All keys matched successfully>"
    assert target.block.fc.weight is weight_object  # same Parameter, same array:
    assert target.block.fc.weight.data is weight_array  # optimizers keep working
    assert target.block.fc.weight.dtype == np.float32
    assert target.block.count.dtype == np.int64 and list(target.block.count) == [3, 4]
    np.testing.assert_array_equal(target(x).data, source(x).data)
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = Net()
    before = net.state_dict()
    state = Net().state_dict()
    del state["block.fc.bias"], state["scale"]
    state["head.2.weight"] = np.zeros(3)
    state["block.fc.weight"] = np.zeros((3, 4))
    state["head.0.bias"] = np.zeros(5)

    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(state)

    error = info.value
    assert isinstance(error, ValueError)
    assert error.missing_keys == ["scale", "block.fc.bias"]
    assert error.unexpected_keys == ["head.2.weight"]
    assert [key for key, _, _ in error.shape_mismatches] == ["block.fc.weight", "head.0.bias"]
    message = str(error)
    for text in ('"scale"', '"block.fc.bias"', '"head.2.weight"', "block.fc.weight",
                 "(3, 4)", "(4, 3)", "head.0.bias", "(5,)", "(2,)", "Net"):
        assert text in message
    for key, value in net.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_non_strict_reports_keys_but_still_rejects_bad_shapes():
    net, other = Net(), Net()
    state = other.state_dict()
    del state["scale"]
    state["extra"] = np.ones(1)

    missing, unexpected = net.load_state_dict(state, strict=False)

    assert missing == ["scale"] and unexpected == ["extra"]
    np.testing.assert_array_equal(net.head[0].weight.data, other.head[0].weight.data)
    state["head.0.weight"] = np.ones((9, 9))
    with pytest.raises(nn.StateDictError, match="size mismatch for head.0.weight"):
        net.load_state_dict(state, strict=False)


def test_load_state_dict_accepts_tensors_and_rejects_non_mappings():
    net = nn.Linear(2, 3)
    net.load_state_dict({"weight": Tensor(np.ones((3, 2))), "bias": [1.0, 2.0, 3.0]})
    assert np.all(net.weight.data == 1) and list(net.bias.data) == [1, 2, 3]
    with pytest.raises(TypeError):
        net.load_state_dict([("weight", np.ones((3, 2)))])


# ---------------------------------------------------------------------- modes
def test_train_and_eval_propagate_to_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert [m.training for m in net.modules()] == [True, False, False, False, True, True, True]
    with pytest.raises(TypeError):
        net.train("no")


def test_zero_grad_and_requires_grad():
    net = Net()
    x = Tensor(np.ones((2, 3)))
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.scale.grad
    net.zero_grad(set_to_none=False)
    assert net.scale.grad is grad and np.all(grad == 0)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.block.requires_grad_(False) is net.block
    assert [p.requires_grad for p in net.parameters()] == [True, False, False, True, True]


def test_apply_visits_children_first_then_self():
    net = Net()
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "ReLU", "Block", "Linear", "Tanh", "Sequential", "Net"]


# ----------------------------------------------------------------------- repr
def test_repr_of_a_nested_model_equals_torchs():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Classifier(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                self.features = lib.Sequential(
                    lib.Flatten(), lib.Linear(784, 128), lib.ReLU(), lib.Dropout(0.25)
                )
                self.blocks = lib.ModuleList(
                    [lib.Linear(128, 128) for _ in range(3)]
                    + [lib.LeakyReLU(0.2), lib.Linear(128, 64, bias=False)]
                )
                self.head = lib.Sequential(
                    OrderedDict(
                        fc=lib.Linear(64, 10), act=lib.Tanh(), out=lib.LogSoftmax(dim=1)
                    )
                )
                self.gate = lib.Sigmoid()
                self.probs = lib.Softmax(dim=-1)
                self.skip = lib.Identity()
                self.flat = lib.Flatten(2, 3)
                self.empty = lib.Sequential()
                self.loss = lib.CrossEntropyLoss()

        return Classifier()

    ours, theirs = repr(build(nn)), repr(build(torch.nn))
    assert ours == theirs
    assert "(0-2): 3 x Linear(in_features=128, out_features=128, bias=True)" in ours


def test_extra_repr_of_a_custom_module_is_used():
    class Scaled(nn.Module):
        def extra_repr(self) -> str:
            return "factor=2"

    outer = nn.Sequential(Scaled(), nn.Sequential(Scaled()))
    assert repr(outer) == (
        "Sequential(\n"
        "  (0): Scaled(factor=2)\n"
        "  (1): Sequential(\n"
        "    (0): Scaled(factor=2)\n"
        "  )\n"
        ")"
    )


def test_to_double_converts_parameters_and_buffers_in_place():
    import scratchnn as sn
    from scratchnn import nn

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    weight = model[0].weight
    loss = nn.CrossEntropyLoss(weight=sn.tensor([1.0, 2.0])).double()
    model.double()
    assert model[0].weight is weight and weight.dtype == np.float64
    assert model(sn.tensor(np.ones((4, 2)), dtype=np.float64)).dtype == np.float64
    assert loss.weight.dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
