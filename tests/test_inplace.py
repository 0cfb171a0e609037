"""In-place operations follow PyTorch's rules: same object and array, leaves only under
no_grad, recorded on non-leaves, and a changed saved value is caught at backward."""

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn


def leaf(values, dtype=np.float64):
    return sn.tensor(values, dtype=dtype, requires_grad=True)


# ------------------------------------------------------------- identity and values
@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("add_", (2.0,), [3.0, 0.0, 5.0]),
        ("sub_", (2.0,), [-1.0, -4.0, 1.0]),
        ("mul_", (2.0,), [2.0, -4.0, 6.0]),
        ("div_", (2.0,), [0.5, -1.0, 1.5]),
        ("pow_", (2.0,), [1.0, 4.0, 9.0]),
        ("clamp_", (-1.0, 2.0), [1.0, -1.0, 2.0]),
        ("fill_", (7.0,), [7.0, 7.0, 7.0]),
        ("zero_", (), [0.0, 0.0, 0.0]),
        ("copy_", (np.array([4.0, 5.0, 6.0]),), [4.0, 5.0, 6.0]),
        ("neg_", (), [-1.0, 2.0, -3.0]),
        ("relu_", (), [1.0, 0.0, 3.0]),
        ("abs_", (), [1.0, 2.0, 3.0]),
    ],
)
def test_inplace_methods_change_the_same_object_and_array(method, args, expected):
    x = sn.tensor([1.0, -2.0, 3.0])
    array = x.data
    version = x._version_number
    result = getattr(x, method)(*args)
    assert result is x and x.data is array
    np.testing.assert_allclose(x.data, expected)
    assert x._version_number == version + 1


def test_augmented_operators_keep_the_object():
    x = sn.tensor([1.0, 2.0])
    ident, array = id(x), x.data
    x += 1
    x -= sn.tensor([0.5, 0.5])
    x *= 4
    x /= 2
    assert id(x) == ident and x.data is array
    np.testing.assert_allclose(x.data, [3.0, 5.0])


def test_add_with_alpha_and_addcmul_addcdiv_match_their_formulas():
    x = sn.tensor([1.0, 2.0])
    x.add_(sn.tensor([1.0, 1.0]), alpha=-3)
    np.testing.assert_allclose(x.data, [-2.0, -1.0])
    x.addcmul_(sn.tensor([2.0, 2.0]), sn.tensor([3.0, 1.0]), value=0.5)
    np.testing.assert_allclose(x.data, [1.0, 0.0])
    x.addcdiv_(sn.tensor([2.0, 2.0]), sn.tensor([4.0, 1.0]), value=2)
    np.testing.assert_allclose(x.data, [2.0, 4.0])


def test_inplace_cannot_change_dtype_or_shape():
    ints = sn.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints.div_(2)
    ints += 1  # int + int stays int
    np.testing.assert_array_equal(ints.data, [2, 3, 4])
    small = sn.zeros(3)
    with pytest.raises(RuntimeError, match="broadcast shape"):
        small.add_(sn.ones(2, 3))


def test_normal_and_uniform_fill_from_the_seeded_generator():
    sn.manual_seed(0)
    a = sn.empty(1000) if hasattr(sn, "empty") else sn.zeros(1000)
    a.uniform_(-2, 3)
    assert -2 <= a.data.min() and a.data.max() <= 3 and a.dtype == np.float32
    sn.manual_seed(0)
    b = sn.zeros(1000).uniform_(-2, 3)
    np.testing.assert_array_equal(a.data, b.data)
    c = sn.zeros(20000).normal_(1.0, 2.0)
    assert abs(c.data.mean() - 1.0) < 0.05 and abs(c.data.std() - 2.0) < 0.05


# ------------------------------------------------------------------- leaf rules
def test_leaf_that_requires_grad_raises_outside_no_grad():
    w = leaf([1.0, 2.0])
    for change in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(),
                   lambda: w.__iadd__(1), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            change()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_manual_sgd_step_under_no_grad_updates_the_parameters_in_place():
    model = nn.Linear(3, 2)
    params = list(model.parameters())
    before = [p.data.copy() for p in params]
    arrays = [p.data for p in params]
    loss = model(sn.randn(4, 3)).pow(2).sum()
    loss.backward()
    with sn.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, old, array in zip(params, before, arrays, strict=True):
        assert p.data is array
        np.testing.assert_allclose(p.data, old - 0.1 * p.grad.data, rtol=1e-6)
    assert list(model.parameters()) == params


def test_inplace_under_no_grad_keeps_optimizer_state():
    p = nn.Parameter(sn.tensor([1.0, 2.0]))
    optimizer = sn.optim.SGD([p], lr=0.1, momentum=0.9)
    (p * p).sum().backward()
    optimizer.step()
    buffer = optimizer.state[p]["momentum_buffer"].copy()
    with sn.no_grad():
        p.mul_(0.5)
    assert optimizer.param_groups[0]["params"][0] is p
    np.testing.assert_array_equal(optimizer.state[p]["momentum_buffer"], buffer)


# -------------------------------------------------------------- recorded changes
def test_inplace_on_a_non_leaf_is_recorded_in_the_graph(torch):
    x_values = np.array([0.5, -1.0, 2.0])

    def run(lib):
        x = lib.tensor(x_values, requires_grad=True)
        y = x * 2
        y.mul_(3)
        y.add_(x)
        y.relu_()
        y.sum().backward()
        return np.asarray(x.grad), y.detach().numpy()

    (ours_grad, ours_y), (torch_grad, torch_y) = run(sn), run(torch)
    np.testing.assert_allclose(ours_y, torch_y)
    np.testing.assert_allclose(ours_grad, torch_grad)


def test_earlier_users_of_a_changed_tensor_keep_their_gradient(torch):
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a * 2
        z = y + 1  # Add saves nothing: the later change of y does not matter to it
        y.mul_(3)
        (z.sum() + y.sum()).backward()
        return np.asarray(a.grad)

    np.testing.assert_allclose(run(sn), run(torch))
    np.testing.assert_allclose(run(sn), [8.0, 8.0])


@pytest.mark.parametrize("change", ["mul_", "add_", "setitem", "exp_output"])
def test_changing_a_saved_tensor_raises_at_backward_naming_the_op(change):
    a = leaf([1.0, 2.0, 3.0])
    if change == "exp_output":
        out = a.exp()
        out.add_(1)  # Exp saved its output
        with pytest.raises(RuntimeError, match="modified by an inplace.*ExpBackward"):
            out.sum().backward()
        return
    y = a * 1.0
    z = y * y  # Mul saved y
    if change == "mul_":
        y.mul_(2)
    elif change == "add_":
        y += 1
    else:
        y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace.*MulBackward"):
        z.sum().backward()


def test_a_change_under_no_grad_of_a_saved_leaf_is_caught_too():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    with sn.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        loss.backward()


def test_an_optimizer_step_between_two_backwards_is_caught():
    w = nn.Parameter(sn.tensor([1.0, 2.0]))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    sn.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        loss.backward()


def test_an_optimizer_step_leaves_a_parameter_without_gradient_usable_in_graphs(torch):
    """A parameter whose .grad is None is skipped by the step, its values and its version
    alike: a graph that saved it can still run backward (PyTorch's behaviour)."""
    def run(lib):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        frozen = lib.nn.Parameter(lib.tensor([3.0, 4.0]))
        kept = (frozen * frozen).sum()  # saves `frozen`
        (w * w).sum().backward()
        lib.optim.SGD([w, frozen], lr=0.1, momentum=0.9).step()
        kept.backward()
        return w.detach().numpy(), np.asarray(frozen.grad)

    for ours, theirs in zip(run(sn), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs)


def test_a_view_shares_the_version_counter_with_its_base():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = a * 1.0
    z = y * y
    with sn.no_grad():
        y[0].zero_()  # through a view
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        z.sum().backward()


def test_inplace_on_a_view_while_recording_is_refused_clearly():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = a * 1.0
    with pytest.raises(RuntimeError, match="view"):
        y[0].mul_(2)


def test_setitem_on_a_non_leaf_is_recorded(torch):
    def run(lib):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True)
        y = a * 2
        y[:, 1] = v * 3
        (y * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        return np.asarray(a.grad), np.asarray(v.grad), y.detach().numpy()

    for ours, theirs in zip(run(sn), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs)


def test_leaf_without_grad_becomes_part_of_the_graph_when_an_input_requires_grad(torch):
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        buffer = lib.zeros(3)
        buffer += w * w
        buffer.sum().backward()
        return np.asarray(w.grad), buffer.requires_grad

    ours, theirs = run(sn), run(torch)
    np.testing.assert_allclose(ours[0], theirs[0])
    assert ours[1] is theirs[1] is True


@pytest.mark.parametrize("module", ["ReLU", "LeakyReLU"])
def test_inplace_activation_modules_change_their_input_and_give_torch_gradients(torch, module):
    values = np.array([[-1.0, 0.5], [2.0, -3.0]])

    def run(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x * 1.5
        out = getattr(lib.nn, module)(inplace=True)(h)
        out.sum().backward()
        return out is h, h.detach().numpy(), np.asarray(x.grad)

    ours, theirs = run(sn), run(torch)
    assert ours[0] and theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1])
    np.testing.assert_allclose(ours[2], theirs[2])


def test_inplace_dropout_changes_its_input_and_keeps_the_expected_value():
    sn.manual_seed(1)
    x = sn.ones(10000)
    out = nn.Dropout(0.25, inplace=True)(x)
    assert out is x
    assert set(np.unique(x.data)) <= {0.0, np.float32(1 / 0.75)}
    assert abs(x.data.mean() - 1.0) < 0.05


# ------------------------------------------------------------------ grad tensors
def test_grad_is_a_tensor_that_pytorch_habits_work_on():
    w = leaf([1.0, -2.0])
    (w * w).sum().backward()
    grad = w.grad
    assert isinstance(grad, sn.Tensor) and not grad.requires_grad
    np.testing.assert_allclose(grad.norm().item(), np.sqrt(4 + 16))
    copy = grad.clone()
    grad.zero_()
    np.testing.assert_array_equal(grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(copy.data, [2.0, -4.0])
    (w * 3).sum().backward()  # accumulates into the same tensor
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])
    w.grad = None
    assert w.grad is None


def test_assigning_a_grad_checks_shape_and_dtype():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        w.grad = sn.zeros(3, dtype=np.float64)
    with pytest.raises(RuntimeError, match="dtype"):
        w.grad = sn.zeros(2, dtype=np.float32)
    w.grad = sn.ones(2, dtype=np.float64)
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_setitem_mixing_integers_and_index_arrays_places_dims_as_torch(torch):
    values = np.arange(24.0).reshape(2, 3, 4)
    patch = np.arange(6.0).reshape(3, 2) * 10

    def run(lib, record):
        base = lib.tensor(values, requires_grad=record)
        x = base * 1.0 if record else base.clone()
        v = lib.tensor(patch, requires_grad=record)
        x[0, :, [1, 2]] = v
        if record:
            (x * x).sum().backward()
            return x.detach().numpy(), np.asarray(base.grad), np.asarray(v.grad)
        return (x.numpy(),)

    for record in (False, True):
        for ours, theirs in zip(run(sn, record), run(torch, record), strict=True):
            np.testing.assert_allclose(ours, theirs)


def test_writing_into_an_expanded_tensor_says_to_clone_it():
    x = sn.tensor([[1.0], [2.0]]).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="clone"):
        x[0, 0] = 5.0
