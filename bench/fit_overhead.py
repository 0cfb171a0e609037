"""What ``fit`` costs over the loop it runs: one epoch of the benchmark MLP (784-128-10 ReLU,
Fashion-MNIST, batch 100, SGD lr 0.01 momentum 0.9) through ``scratchnn.train.fit(...,
verbose=0)`` against the same loop written by hand, without a metric and with accuracy.

The hand-written loop is the one a user writes to get what ``fit`` reports: ``zero_grad``,
forward, loss, ``backward``, ``step``, and the epoch's mean loss (``loss.item()`` per step,
weighted by the batch size); "with accuracy" adds ``scratchnn.metrics.accuracy`` of each
batch's output, as ``fit(metrics=("accuracy",))`` does. All contestants train one model with
one optimizer and one loader, taking turns. ``python -m bench`` runs this as the
``fit`` row (interleaved rounds in alternating order; target: the median of the rounds'
fit / hand-written ratios within 5 %);
``python -m bench.fit_overhead [--limit N] [--repeats R]`` runs it alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from bench import round_order, workloads

LABELS = {
    "hand": "hand-written loop (loss per step)",
    "fit": "fit(metrics=None, verbose=0)",
    "hand_accuracy": "hand-written loop + accuracy per step",
    "fit_accuracy": "fit(metrics=('accuracy',), verbose=0)",
}


def build(x: np.ndarray, y: np.ndarray, batch_size: int = 100) -> dict[str, Callable[[], float]]:
    """The epoch function of every contestant (keyed like ``LABELS``); each returns its
    epoch's mean loss. All four train **one** model with one optimizer and one loader, so the
    only difference between them is the loop, not where each one's weights, gradients and
    buffers happen to lie in memory."""
    import scratchnn
    from scratchnn import nn, optim
    from scratchnn.data import DataLoader, TensorDataset
    from scratchnn.metrics import accuracy
    from scratchnn.train import fit

    scratchnn.allocator.keep_freed_memory()  # as fit does; the hand-written loop gets it too
    model = nn.Sequential(nn.Linear(workloads.IN_FEATURES, workloads.HIDDEN), nn.ReLU(),
                          nn.Linear(workloads.HIDDEN, workloads.CLASSES))
    model.load_state_dict(workloads.initial_weights())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=workloads.LR, momentum=workloads.MOMENTUM)
    loader = DataLoader(TensorDataset(scratchnn.Tensor(x), scratchnn.Tensor(y)),
                        batch_size=batch_size, shuffle=True)

    def fit_epoch(metrics: tuple[str, ...] | None) -> Callable[[], float]:
        def run() -> float:
            history = fit(model, loss_fn, optimizer, loader, epochs=1, metrics=metrics,
                          verbose=0)
            return history.loss[0]

        return run

    def hand_epoch(with_accuracy: bool) -> Callable[[], float]:
        def run() -> float:
            model.train()
            total, correct, seen = 0.0, 0.0, 0
            for inputs, targets in loader:
                optimizer.zero_grad()
                output = model(inputs)
                loss = loss_fn(output, targets)
                loss.backward()
                optimizer.step()
                n = len(inputs)
                total += loss.item() * n
                if with_accuracy:
                    correct += accuracy(output.data, targets.data) * n
                seen += n
            return total / seen

        return run

    return {"hand": hand_epoch(False), "fit": fit_epoch(None),
            "hand_accuracy": hand_epoch(True), "fit_accuracy": fit_epoch(("accuracy",))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fit_overhead",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="training samples (default all)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args(argv)
    x, y = workloads.load_split(train=True, limit=args.limit)
    runs = build(x, y)
    for run in runs.values():
        run()  # warm-up
    # Wall time, and this process's CPU time, which a busy machine inflates less (the time
    # the process waits for a core is not counted).
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for round_number in range(args.repeats):
        for name, run in round_order(runs.items(), round_number):
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    for times, what in ((wall, "wall"), (cpu, "CPU")):
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, value in medians.items():
            print(f"{what:>4} {LABELS[name]:<44} {value:.3f} s (median of {args.repeats})")
        for fit_name, hand_name in (("fit", "hand"), ("fit_accuracy", "hand_accuracy")):
            paired = statistics.median(a / b for a, b in zip(times[fit_name], times[hand_name],
                                                             strict=True))
            ratio = medians[fit_name] / medians[hand_name]
            print(f"{what:>4} {fit_name} / {hand_name}: {ratio:.3f} (median of the rounds' "
                  f"ratios: {paired:.3f})")


if __name__ == "__main__":
    main()
