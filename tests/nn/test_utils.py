"""scratchnn.nn.utils and the containers ModuleDict / ParameterList, against PyTorch."""

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn


def grads_after(lib, values, norm_type, max_norm):
    params = [lib.tensor(v, requires_grad=True) for v in values]
    sum(((p * p * p).sum() for p in params), lib.tensor(0.0)).backward()
    total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return float(total), [np.asarray(p.grad) for p in params]


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    values = [np.array([[0.5, -1.0], [2.0, 0.1]]), np.array([1.5, -0.3, 0.7])]
    ours, theirs = grads_after(sn, values, norm_type, max_norm), grads_after(
        torch, values, norm_type, max_norm)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-5)
    for mine, other in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(mine, other, rtol=1e-5)


def test_clip_grad_norm_nonfinite_and_clip_grad_value(torch):
    p = sn.tensor([1.0, 2.0], requires_grad=True)
    p.grad = sn.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = sn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    q.grad = sn.tensor([-5.0, 0.5, 3.0])
    nn.utils.clip_grad_value_(q, 1.0)
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t.grad = torch.tensor([-5.0, 0.5, 3.0])
    torch.nn.utils.clip_grad_value_(t, 1.0)
    np.testing.assert_allclose(q.grad.data, t.grad.numpy())


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2)
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (8,)
    nn.utils.vector_to_parameters(vector * 2, model.parameters())
    np.testing.assert_allclose(nn.utils.parameters_to_vector(model.parameters()).data,
                               vector.data * 2)
    with pytest.raises(ValueError, match="elements"):
        nn.utils.vector_to_parameters(sn.zeros(5), model.parameters())


def test_module_dict_and_parameter_list_register_like_torch(torch):
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.heads = lib.nn.ModuleDict(
                    {"a": lib.nn.Linear(2, 3), "b": lib.nn.Linear(3, 1)})
                self.scales = lib.nn.ParameterList(
                    [lib.nn.Parameter(lib.ones(2)) for _ in range(2)])

            def forward(self, x):
                x = x * self.scales[0] * self.scales[1]
                return self.heads["b"](self.heads["a"](x))

        return Net()

    ours, theirs = build(sn), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [
        tuple(v.shape) for v in theirs.state_dict().values()]
    assert list(ours.heads.keys()) == ["a", "b"] and "a" in ours.heads and len(ours.scales) == 2
    ours.heads["c"] = nn.Identity()
    assert len(ours.heads) == 3 and ours.heads.pop("c").__class__ is nn.Identity
    out = ours(sn.ones(4, 2))
    out.sum().backward()
    assert ours.scales[1].grad is not None
