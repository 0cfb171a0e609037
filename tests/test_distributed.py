"""scratchnn.distributed, DistributedDataParallel and DistributedSampler.

The multi-process tests start ``mpiexec -n 2`` / ``-n 3`` on loopback with the scripts in
``tests/distributed_scripts/`` (each launch under a timeout); they skip without mpi4py or
mpiexec (``pip install 'scratchnn[distributed]'``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import scratchnn
import scratchnn.distributed as dist
from scratchnn import nn
from scratchnn.data import DataLoader, DistributedSampler, TensorDataset
from scratchnn.nn.parallel import DistributedDataParallel

SCRIPTS = Path(__file__).parent / "distributed_scripts"
SRC = Path(scratchnn.__file__).resolve().parents[1]


def _mpiexec() -> str:
    pytest.importorskip("mpi4py")
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if found is None:
        pytest.skip("mpiexec not found (pip install 'scratchnn[distributed]')")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OMPI_MCA_btl="self,sm",  # loopback: shared memory only, no network probing
        OMPI_MCA_pml="ob1",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]),
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def run_mpi(
    n: int, script: str, *args: str, mpi4py_runner: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n N python -m mpi4py SCRIPT ARGS`` (``--oversubscribe``: 3 ranks on 2 cores)."""
    command = [_mpiexec(), "--oversubscribe", "-n", str(n), sys.executable]
    if mpi4py_runner:
        command += ["-m", "mpi4py"]
    command += [str(SCRIPTS / script), *args]
    return subprocess.run(
        command, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def run_alone(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The script as one plain process (no mpiexec)."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


# ----------------------------------------------------------------- without processes
def test_init_without_mpi4py_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # "import mpi4py" now fails
    assert not dist.is_available()
    with pytest.raises(RuntimeError, match=r"pip install 'scratchnn\[distributed\]'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_uninitialised_group_errors() -> None:
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(np.zeros(2))
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group("nccl")
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))


def _shards(n: int, replicas: int, **kwargs: object) -> list[list[int]]:
    dataset = TensorDataset(np.arange(n))
    return [list(DistributedSampler(dataset, replicas, rank, **kwargs)) for rank in range(replicas)]


@pytest.mark.parametrize("n", [0, 1, 5, 10, 11, 12])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("shuffle", [False, True])
def test_sampler_shards_are_disjoint_and_cover(n: int, replicas: int, shuffle: bool) -> None:
    shards = _shards(n, replicas, shuffle=shuffle, seed=5)
    per_rank = math.ceil(n / replicas)
    assert all(len(shard) == per_rank for shard in shards)
    union = [i for shard in shards for i in shard]
    assert set(union) == set(range(n))  # covers
    # padding repeats only as many indices as the total exceeds n; otherwise disjoint
    assert len(union) - len(set(union)) == replicas * per_rank - n

    dropped = _shards(n, replicas, shuffle=shuffle, seed=5, drop_last=True)
    per_rank = n // replicas
    assert all(len(shard) == per_rank for shard in dropped)
    union = [i for shard in dropped for i in shard]
    assert len(set(union)) == len(union) == replicas * per_rank  # disjoint, nothing repeated
    assert set(union) <= set(range(n))


def test_sampler_shuffles_per_epoch_the_same_on_every_rank() -> None:
    dataset = TensorDataset(np.arange(40))
    samplers = [DistributedSampler(dataset, 4, rank, seed=1) for rank in range(4)]
    first = [list(s) for s in samplers]
    assert first == [list(s) for s in samplers]  # same epoch, same order
    assert sorted(i for shard in first for i in shard) == list(range(40))
    for sampler in samplers:
        sampler.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first
    assert sorted(i for shard in second for i in shard) == list(range(40))
    other_seed = DistributedSampler(dataset, 4, 0, seed=2)
    assert list(other_seed) != first[0]


@pytest.mark.parametrize(
    "n, replicas, drop_last",
    [(10, 3, False), (10, 3, True), (2, 3, False), (12, 4, False), (13, 5, True)],
)
def test_sampler_matches_torch_without_shuffle(n: int, replicas: int, drop_last: bool) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        ours = DistributedSampler(
            TensorDataset(np.arange(n)), replicas, rank, shuffle=False, drop_last=drop_last
        )
        assert list(ours) == list(theirs), (rank, torch.__version__)
        assert len(ours) == len(theirs)


def test_sampler_bad_arguments() -> None:
    dataset = TensorDataset(np.arange(4))
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(dataset, 2, 2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(dataset, 0, 0)
    with pytest.raises(TypeError, match="rank"):
        DistributedSampler(dataset, 2, 0.5)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(dataset)  # no process group to ask
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(dataset, batch_size=2, shuffle=True, sampler=DistributedSampler(dataset, 1, 0))


def test_dataloader_follows_the_sampler() -> None:
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    dataset = TensorDataset(x, np.arange(10))
    sampler = DistributedSampler(dataset, 3, 1, seed=4)
    loader = DataLoader(dataset, batch_size=3, sampler=sampler)
    assert len(loader) == 2  # 4 samples per rank: batches of 3 and 1
    batches = list(loader)
    order = np.concatenate([y.numpy() for _, y in batches])
    assert order.tolist() == list(sampler)
    np.testing.assert_array_equal(np.concatenate([xb.numpy() for xb, _ in batches]), x[order])


# ------------------------------------------------------------------ with processes
def test_one_process_without_mpiexec() -> None:
    assert "collectives ok 1" in _ok(run_alone("collectives.py"))


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_and_sampler_over_ranks(n: int) -> None:
    assert f"collectives ok {n}" in _ok(run_mpi(n, "collectives.py"))


@pytest.fixture(scope="module")
def reference_weights(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The model trained in one process, without DDP, on the whole global batch (per model)."""
    cache: dict[str, dict[str, np.ndarray]] = {}

    def get(model: str) -> dict[str, np.ndarray]:
        if model not in cache:
            path = tmp_path_factory.mktemp("ddp") / f"reference-{model}.npz"
            _ok(run_alone("ddp_equivalence.py", str(path), "--plain", f"--{model}"))
            with np.load(path) as data:
                cache[model] = {k: data[k] for k in data.files if k != "world"}
        return cache[model]

    return get


@pytest.mark.parametrize("n, model", [(2, "mlp"), (3, "mlp"), (2, "cnn")])
def test_ddp_training_equals_one_process_with_the_global_batch(
    n: int, model: str, tmp_path: Path, reference_weights: Any
) -> None:
    expected = reference_weights(model)
    path = tmp_path / "ddp.npz"
    _ok(run_mpi(n, "ddp_equivalence.py", str(path), f"--{model}"))
    with np.load(path) as data:
        assert int(data["world"]) == n
        assert set(data.files) - {"world"} == set(expected)
        for name, weights in expected.items():
            # the same steps; only the order of the float32 sums differs
            np.testing.assert_allclose(data[name], weights, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("runner", [True, False], ids=["python-m-mpi4py", "plain-python"])
def test_a_rank_that_raises_ends_the_job_quickly(runner: bool) -> None:
    started = time.monotonic()
    result = run_mpi(2, "failing_rank.py", "raise", mpi4py_runner=runner, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "rank 1 failed on purpose" in result.stderr + result.stdout
    assert "should not get here" not in result.stdout
    assert elapsed < 10, f"the job took {elapsed:.1f} s to end"


def test_ddp_refuses_different_models_on_every_rank() -> None:
    result = run_mpi(2, "failing_rank.py", "mismatch", timeout=60)
    assert result.returncode != 0
    assert "model differs" in result.stderr
    assert "should not get here" not in result.stdout


# ------------------------------------------------------------------- fit under DDP
@pytest.fixture(scope="module")
def ddp_fit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """fit() for 3 epochs on 2 ranks with ModelCheckpoint each epoch: (output dir, stdout)."""
    out = tmp_path_factory.mktemp("fit_ddp")
    return out, _ok(run_mpi(2, "fit_ddp.py", str(out), "--epochs", "3"))


def _result(out: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(out / "result.npz") as data:
        weights = {k: data[k] for k in data.files}
    return weights, json.loads((out / "history.json").read_text())


def _assert_same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_fit_under_ddp_equals_one_process(ddp_fit: tuple[Path, str], tmp_path: Path) -> None:
    out, stdout = ddp_fit
    _ok(run_alone("fit_ddp.py", str(tmp_path), "--plain", "--world", "2", "--epochs", "3"))
    weights, record = _result(out)
    expected_weights, expected = _result(tmp_path)
    _assert_same_weights(weights, expected_weights)
    ours, theirs = record["history"]["history"], expected["history"]["history"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):  # averaged over the ranks
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(  # each step's loss is the global batch's
        record["history"]["step_loss"], expected["history"]["step_loss"], rtol=1e-5
    )
    assert record["world"] == 2 and record["steps"] == expected["steps"] == 15
    for epoch in (1, 2, 3):  # rank 0 alone prints
        assert stdout.count(f"Epoch {epoch}/3 ") == 1, stdout
    # rank 0 alone wrote the checkpoints (the script checks the other ranks saved nothing)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(("ckpt", "."))) == [
        "ckpt-1.npz",
        "ckpt-2.npz",
        "ckpt-3.npz",
    ]


def test_rank0_checkpoint_resumes_in_one_process(ddp_fit: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = ddp_fit
    resumed = _ok(
        run_alone(
            "fit_ddp.py",
            str(tmp_path),
            "--plain",
            "--world",
            "2",
            "--epochs",
            "3",
            "--resume",
            str(out / "ckpt-2.npz"),
            "--initial-epoch",
            "2",
        )
    )
    assert "Epoch 3/3" in resumed and "Epoch 2/3" not in resumed
    weights, record = _result(tmp_path)
    expected_weights, expected = _result(out)
    _assert_same_weights(weights, expected_weights)
    assert record["history"]["epoch"] == [0, 1, 2]  # the saved history, continued
    np.testing.assert_allclose(
        record["history"]["history"]["loss"], expected["history"]["history"]["loss"], rtol=1e-5
    )


def test_checkpoint_resumes_data_parallel(ddp_fit: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = ddp_fit  # rank 0's checkpoint of the plain model, resumed by ddp.module
    _ok(
        run_mpi(
            3,
            "fit_ddp.py",
            str(tmp_path),
            "--epochs",
            "3",
            "--resume",
            str(out / "ckpt-2.npz"),
            "--initial-epoch",
            "2",
        )
    )
    _assert_same_weights(_result(tmp_path)[0], _result(out)[0])  # global batches don't depend
    # on the world size: rank r takes every W-th index of one permutation


def test_a_stop_on_one_rank_stops_every_rank_at_the_same_step(tmp_path: Path) -> None:
    # rank 1 alone sets model.stop_training after global step 6 (epoch 1, batch 1); the
    # script checks every rank took the same steps and recorded the same history
    _ok(run_mpi(3, "fit_ddp.py", str(tmp_path), "--epochs", "3", "--stop-at-step", "6"))
    record = _result(tmp_path)[1]
    assert record["steps"] == 7
    assert record["history"]["epoch"] == [0, 1]


def test_early_stopping_decides_alike_on_every_rank(tmp_path: Path) -> None:
    # min_delta=100: the second epoch cannot improve, so every rank stops after it
    _ok(run_mpi(2, "fit_ddp.py", str(tmp_path), "--epochs", "3", "--early-stop"))
    record = _result(tmp_path)[1]
    assert record["history"]["epoch"] == [0, 1]
    assert record["steps"] == 10


# ------------------------------------------------------------------------------- the CLI
def _csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((240, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    rows = ["a,b,c,label"] + [
        f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{label}" for r, label in zip(x, y, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_train_nproc_trains_data_parallel(tmp_path: Path) -> None:
    _mpiexec()  # skips without MPI
    data, checkpoint = _csv(tmp_path / "d.csv"), tmp_path / "m.npz"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scratchnn",
            "train",
            "--nproc",
            "2",
            "--data",
            str(data),
            "--epochs",
            "4",
            "--batch-size",
            "16",
            "--lr",
            "0.01",
            "--checkpoint",
            str(checkpoint),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    stdout = _ok(result)
    assert "-m mpi4py -m scratchnn train" in stdout  # the launch line is shown
    assert "2 processes (world size 2); global batch 16 = 2 x 8" in stdout
    assert stdout.count("\n  1/4 ") == 1, stdout  # rank 0 alone prints the epochs
    model = scratchnn.load_model(checkpoint)  # rank 0's checkpoint, used in one process
    x = np.loadtxt(data, delimiter=",", skiprows=1)
    accuracy = (model.predict(x[:, :3]).astype(int) == x[:, 3]).mean()
    assert accuracy > 0.8


def test_cli_nproc_checks_before_launching(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from scratchnn.cli import main

    data = _csv(tmp_path / "d.csv")
    assert main(["train", "--data", str(data), "--nproc", "3", "--batch-size", "32"]) == 2
    assert "--batch-size 32 must be divisible by --nproc 3" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--nproc", "0"]) == 2
    assert "--nproc must be a positive" in capsys.readouterr().err


def test_ddp_details_over_ranks() -> None:
    # unused parameters, no_sync accumulation, buffers from rank 0, both state dict forms
    assert "details ok" in _ok(run_mpi(3, "ddp_details.py"))
