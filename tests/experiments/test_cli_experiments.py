"""``scratchnn list`` / ``scratchnn run``, through a real subprocess and in-process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import scratchnn
from scratchnn.cli import main
from scratchnn.experiments import EXPERIMENTS, common, load, logical_and

SRC = str(Path(scratchnn.__file__).resolve().parents[1])


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "scratchnn.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_list(tmp_path):
    result = cli("list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(EXPERIMENTS)
    assert all("seed 00" in line for line in lines)


def test_run_logical_and_writes_metrics_and_plots(tmp_path):
    result = cli("run", "logical-and", "--out", "tmp", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loss  0.1513" in result.stdout
    assert "results written to tmp/" in result.stdout
    metrics = json.loads((tmp_path / "tmp" / "metrics.json").read_text())
    assert metrics["loss_log"][-1] == 0.0032
    assert metrics["outputs_after"] == [0.0, 0.08, 0.08, 0.9]
    if has_matplotlib():
        assert (tmp_path / "tmp" / "loss.png").stat().st_size > 0
    # not a terminal: no progress bar on stderr
    assert "it/s" not in result.stderr


def test_default_out_and_options(tmp_path):
    result = cli("run", "logical-and", "--epochs", "10", "--lr", "0.5", "--seed", "1",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "runs" / "logical-and" / "metrics.json").read_text())
    assert (metrics["epochs"], metrics["lr"], metrics["seed"]) == (10, 0.5, 1)


@pytest.mark.parametrize("args, message", [
    (["run", "nope"], "unknown experiment 'nope'"),
    (["run", "manual-backprop", "--lr", "0.1"], "does not take --lr"),
    (["run", "logical-and", "--epochs", "0"], "--epochs must be at least 1"),
    (["run", "circle", "--dataset", "mnist"], "does not take --dataset"),
])
def test_usage_errors(tmp_path, args, message):
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_in_process(tmp_path, capsys):
    assert main(["run", "nope"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


def test_every_experiment_has_run_and_docstring():
    for name in EXPERIMENTS:
        module = load(name)
        assert module.__doc__ and "seed 00" in module.__doc__.lower()  # the seed it follows
        assert callable(module.run) and module.run.__annotations__.get("return")


def test_without_matplotlib_the_run_still_works(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    metrics = logical_and.run(epochs=5, out=tmp_path)
    assert metrics["plots"] == []
    assert not list(tmp_path.glob("*.png"))
    assert (tmp_path / "metrics.json").is_file()
    assert capsys.readouterr().err.count(common.PLOTS_SKIPPED) == 1


def test_report_writes_metrics_json_and_lets_other_import_errors_through(tmp_path):
    report = common.Report("demo", tmp_path / "out")
    np = pytest.importorskip("numpy")
    metrics = report.finish({"values": np.arange(3), "path": tmp_path, "score": np.float32(0.5)})
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written == {"experiment": "demo", "values": [0, 1, 2], "path": str(tmp_path),
                       "score": 0.5, "plots": []}
    assert metrics["experiment"] == "demo"

    def broken(path):
        raise ImportError("some other module is missing")

    with pytest.raises(ImportError, match="some other module"):
        report.plot("x.png", broken)
