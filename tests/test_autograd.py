"""scratchnn.autograd: custom Functions written the PyTorch way, autograd.grad, hooks."""

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import autograd


class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x ** 2


class ScaledAdd(autograd.Function):
    """Mixed arguments: two tensors and a number, keyword-free."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.scale = scale
        ctx.save_for_backward(a, b)
        return a * scale + b

    @staticmethod
    def backward(ctx, grad_output):
        needs_a, needs_b, needs_scale = ctx.needs_input_grad
        assert needs_scale is False
        grad_a = grad_output * ctx.scale if needs_a else None
        grad_b = grad_output if needs_b else None
        return grad_a, grad_b, None


def test_custom_function_gives_its_backward_and_passes_gradcheck():
    x = sn.tensor([0.5, -1.5, 2.0], dtype=np.float64, requires_grad=True)
    y = Cube.apply(x)
    assert repr(y.grad_fn) == "<CubeBackward>"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    assert autograd.gradcheck(Cube.apply, [sn.tensor([0.3, -0.7], dtype=np.float64,
                                                     requires_grad=True)])


def test_needs_input_grad_and_non_tensor_arguments(torch):
    def run(lib, function):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0])
        out = function.apply(a, b, 2.5)
        (out * out).sum().backward()
        return np.asarray(a.grad)

    class TorchScaledAdd(torch.autograd.Function):
        forward = ScaledAdd.forward
        backward = ScaledAdd.backward

    np.testing.assert_allclose(run(sn, ScaledAdd), run(torch, TorchScaledAdd))


def test_a_custom_function_inside_a_larger_graph_matches_torch(torch):
    class TorchCube(torch.autograd.Function):
        forward = Cube.forward
        backward = Cube.backward

    def run(lib, cube):
        x = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        w = lib.tensor([[1.0, 2.0], [-1.0, 0.5]], requires_grad=True)
        out = (cube.apply(x @ w) + x).sigmoid().sum()
        out.backward()
        return np.asarray(x.grad), np.asarray(w.grad)

    for ours, theirs in zip(run(sn, Cube), run(torch, TorchCube), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_wrong_number_of_gradients_is_a_clear_error():
    class TooFew(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    a = sn.tensor([1.0], requires_grad=True)
    out = TooFew.apply(a, sn.tensor([2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="incorrect number of gradients.*expected 2, got 1"):
        out.backward()


def test_gradient_of_the_wrong_shape_is_a_clear_error():
    class BadShape(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.sum()

    out = BadShape.apply(sn.tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="invalid gradient at index 0.*shape"):
        out.sum().backward()


def test_saved_tensor_changed_in_place_is_caught():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = Cube.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        y.sum().backward()


def test_mark_non_differentiable_and_forward_without_grad():
    class ArgmaxAndMax(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = sn.tensor(x.data.argmax())
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            raise AssertionError("never called")

    index = ArgmaxAndMax.apply(sn.tensor([1.0, 5.0, 2.0], requires_grad=True))
    assert index.item() == 1 and not index.requires_grad
    with sn.no_grad():
        assert not Cube.apply(sn.tensor([1.0], requires_grad=True)).requires_grad


def test_forward_must_return_one_tensor():
    class Two(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

    with pytest.raises(NotImplementedError, match="one Tensor"):
        Two.apply(sn.tensor([1.0], requires_grad=True))

    class NotATensor(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

    with pytest.raises(TypeError, match="must return a Tensor"):
        NotATensor.apply(sn.tensor([1.0], requires_grad=True))


def test_autograd_grad_returns_gradients_without_touching_dot_grad(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x * w
        y = (h * h).sum() + x.sum()
        gx, gh = lib.autograd.grad(y, [x, h], retain_graph=True)
        return np.asarray(gx), np.asarray(gh), x.grad, w.grad

    ours, theirs = run(sn), run(torch)
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])
    assert ours[2] is None and ours[3] is None


def test_autograd_grad_unused_input_and_grad_outputs():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    unused = sn.tensor([1.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="not used"):
        autograd.grad(y.sum(), [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], grad_outputs=sn.tensor([1.0, 10.0]),
                           allow_unused=True)
    np.testing.assert_allclose(gx.data, [3.0, 30.0])
    assert gu is None


def test_backward_inputs_accumulates_only_into_those():
    a = sn.tensor([1.0], requires_grad=True)
    b = sn.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_allclose(a.grad.data, [2.0])
    assert b.grad is None


def test_post_accumulate_grad_hook_and_queue_callback_run_once_per_backward():
    w = sn.tensor([1.0, 2.0], requires_grad=True)
    seen, ends = [], []

    def hook(param):
        seen.append(param.grad.data.copy())
        if len(ends) == len(seen) - 1:
            autograd.queue_callback(lambda: ends.append(len(seen)))

    handle = w.register_post_accumulate_grad_hook(hook)
    (w * w).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(seen[1], [5.0, 7.0])  # accumulated before the hook runs
    assert ends == [1, 2]
    handle.remove()
    (w * 3).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="no backward pass"):
        autograd.queue_callback(lambda: None)


def test_a_long_chain_backpropagates_without_recursion():
    x = sn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001**5000], rtol=1e-3)


def test_gradcheck_finds_a_wrong_backward_and_takes_one_tensor():
    class WrongBackward(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 3

    x = sn.tensor([0.3, 0.5], dtype=np.float64, requires_grad=True)
    assert autograd.gradcheck(lambda t: t.sin(), x)
    assert autograd.gradcheck(WrongBackward.apply, (x,), raise_exception=False) is False
    with pytest.raises(autograd.GradcheckError):
        autograd.gradcheck(WrongBackward.apply, x)
