"""Device boilerplate of PyTorch programs runs: everything is on the CPU, and asking for
anything else is a clear error."""

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn


def test_cpu_is_the_device_and_cuda_is_not_available():
    assert sn.cuda.is_available() is False and sn.cuda.device_count() == 0
    device = sn.device("cuda" if sn.cuda.is_available() else "cpu")
    assert device == sn.device("cpu") == "cpu" and str(device) == "cpu"
    assert repr(device) == "device(type='cpu')"
    x = sn.ones(2, 3)
    assert x.device == device and not x.is_cuda
    assert x.to(device) is x and x.to("cpu") is x and x.cpu() is x


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "mps"])
def test_other_devices_raise_saying_scratchnn_runs_on_the_cpu(name):
    with pytest.raises(RuntimeError, match="CPU only"):
        sn.device(name)
    with pytest.raises(RuntimeError, match="CPU only"):
        sn.ones(2).to(name)
    with pytest.raises(RuntimeError, match="CPU only"):
        sn.ones(2).cuda()


def test_to_converts_dtypes_like_torch():
    x = sn.tensor([1.5, 2.5])
    assert x.to(sn.float64).dtype == np.float64
    assert x.to("cpu", sn.int64).dtype == np.int64
    assert x.to(device="cpu", dtype=sn.float64).dtype == np.float64
    assert x.to(sn.zeros(1, dtype=sn.float64)).dtype == np.float64
    copy = x.to("cpu", copy=True)
    assert copy is not x and np.array_equal(copy.data, x.data)
    assert x.type() == "scratchnn.FloatTensor" and x.long().type() == "scratchnn.LongTensor"


def test_modules_move_to_the_cpu_and_keep_their_parameters():
    model = nn.Linear(2, 3)
    params = list(model.parameters())
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to(sn.device("cpu")) is model
    assert list(model.parameters()) == params
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")
    model.to(sn.float64)
    assert model.weight.dtype == np.float64
