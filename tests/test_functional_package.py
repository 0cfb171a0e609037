"""The functional package's public face: import paths, the dim/axis aliases, help()."""

import inspect

import numpy as np
import pytest

import scratchnn as sn
import scratchnn.functional as F


def test_nn_functional_is_the_same_api():
    import scratchnn.nn.functional as NF
    from scratchnn.nn.functional import cross_entropy, relu

    assert relu is F.relu and cross_entropy is F.cross_entropy
    for name in F.__all__:
        assert getattr(NF, name) is getattr(F, name), name
    assert sn.nn.functional is NF
    star: dict = {}
    exec("from scratchnn.nn.functional import *", star)  # noqa: S102
    assert "relu" in star and "cross_entropy" in star
    assert not {"sum", "max", "min", "abs", "pow", "round"} & set(star)  # builtins stay


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "max", "min", "argmax",
                                  "argmin", "softmax", "log_softmax", "squeeze", "cat"])
def test_aliased_functions_show_pytorch_signatures(name):
    parameters = inspect.signature(getattr(F, name)).parameters
    assert "dim" in parameters and "axis" not in parameters and "keepdims" not in parameters
    assert "axis=" in getattr(F, name).__doc__


def test_numpy_aliases_give_the_same_result():
    x = sn.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(F.sum(x, axis=1, keepdims=True).data,
                                  F.sum(x, dim=1, keepdim=True).data)
    np.testing.assert_array_equal(x.max(axis=-1).values.data, x.data.max(axis=-1))
    np.testing.assert_array_equal(sn.cat([x, x], axis=2).data, np.concatenate([x.data] * 2, 2))


def test_both_spellings_at_once_is_an_error():
    with pytest.raises(TypeError, match="sum: got both dim= and its NumPy alias axis="):
        F.sum(sn.ones(2, 3), dim=0, axis=1)
    with pytest.raises(TypeError, match="keepdim"):
        F.mean(sn.ones(2, 3), keepdim=True, keepdims=True)


def test_out_of_range_dim_is_an_index_error_as_in_pytorch():
    with pytest.raises(IndexError, match=r"sum: dim 2 is out of range"):
        sn.ones(2, 3).sum(dim=2)


def test_aliases_reach_every_parameter_and_required_ones_stay_required():
    x = sn.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(F.gather(x, axis=1, index=np.array([[2], [0]])).data,
                                  [[2.0], [3.0]])
    np.testing.assert_array_equal(F.cumsum(x, axis=-1).data, np.cumsum(x.data, -1))
    assert F.var(x, axis=0, keepdims=True, correction=0).shape == (1, 3)
    assert F.sum(x, 1, True).shape == (2, 1)  # positional dim, keepdim still work
    with pytest.raises(TypeError, match="cumsum: missing required argument 'dim'"):
        F.cumsum(x)
    with pytest.raises(TypeError, match="gather: missing required argument 'index'"):
        F.gather(x, 1)
