"""``import scratchnn`` alone reaches the training workflow, without importing the extras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Run in a fresh interpreter: inside pytest other tests have already imported the submodules,
# which would make them attributes of the package whatever __init__ does.
CODE = """
import json, sys
import scratchnn as sn
from scratchnn import nn
from scratchnn.summary import layer_table

model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
table = str(sn.summary.summary(model, (4,)))
print(json.dumps({
    "summary_total": [line for line in table.splitlines() if line.startswith("Total params")],
    "rows": [row.output_shape[1] for row in layer_table(model, (4,))],
    "train": [callable(sn.train.fit), callable(sn.train.evaluate)],
    "callbacks": sorted(n for n in ("EarlyStopping", "ModelCheckpoint", "LearningRateLogger")
                        if hasattr(sn.callbacks, n)),
    "metrics": callable(sn.metrics.top_k_accuracy),
    "viz": sn.viz.graph(model(sn.randn(2, 4)).sum()).startswith("digraph"),
    "plot": callable(sn.plot.plot_history),
    "extras_imported": sorted(m for m in ("matplotlib", "tqdm") if m in sys.modules),
}))
"""


def test_import_scratchnn_reaches_fit_summary_plot_and_viz_but_not_the_extras() -> None:
    result = subprocess.run([sys.executable, "-c", CODE], env={"PYTHONPATH": str(SRC)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    # 4*3 + 3 + 3*2 + 2 = 23 parameters
    assert seen["summary_total"] == ["Total params: 23 (0.00 MB as float32)"]
    assert seen["rows"] == [3, 3, 2]
    assert seen["train"] == [True, True]
    assert seen["callbacks"] == ["EarlyStopping", "LearningRateLogger", "ModelCheckpoint"]
    assert seen["metrics"] and seen["viz"] and seen["plot"]
    assert seen["extras_imported"] == []  # matplotlib and tqdm stay lazy
