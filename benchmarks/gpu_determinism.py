"""Are two builds of the same cells on one GPU bitwise equal, and what does it cost?

Trains the same K random class representatives twice in each of two modes, side by side in
one process: with the build's deterministic CUDA settings
(:func:`nasbench_sim.generate.worker.deterministic_cuda`: deterministic kernels, no TF32) and
with torch's defaults (the context replaced by a no-op). Prints, per mode, the seconds of
each training and the largest difference between the two runs' validation accuracy curves
(0 means bitwise equal), and the deterministic mode's time over the default's. The network
is the default table's (C = 8, N = 3, batch 64, lr 0.05, label smoothing 0.1, MNIST-1D
2,000/4,000/4,000), ``--epochs`` (default 2), the batched trainer.

    python benchmarks/gpu_determinism.py --cells 64
    python benchmarks/gpu_determinism.py --device cpu --cells 2 --epochs 1   # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

import numpy as np

from nasbench_sim.generate import Protocol, build, worker
from nasbench_sim.generate.datasets import dataset_for


@contextlib.contextmanager
def _torch_defaults(dev: object) -> Iterator[None]:
    yield


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--cells", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    p = Protocol(
        dataset="mnist1d", channels=8, cells_per_stage=3, epochs=args.epochs, batch_size=64,
        lr=0.05, label_smoothing=0.1, data_sizes=(2000, 4000, 4000), seeds=(0,),
        timing_cells_per_chunk=0,
    )  # fmt: skip
    dev = worker.resolve_device(args.device)
    data = dataset_for(p, dev)
    cells = build.resolve_cells(args.cells, 0)
    deterministic = worker.deterministic_cuda
    seconds = {}
    for mode, context in (("deterministic", deterministic), ("torch defaults", _torch_defaults)):
        worker.deterministic_cuda = context
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            r = worker.train_chunk(p, cells, p.seeds, dev, trainer="batched", data=data)
            runs.append((time.perf_counter() - t0, r.metrics["valid_acc"]))
        worker.deterministic_cuda = deterministic
        diff = float(np.nanmax(np.abs(runs[0][1] - runs[1][1])))
        seconds[mode] = min(t for t, _ in runs)
        print(
            f"{mode}: {runs[0][0]:.1f} s and {runs[1][0]:.1f} s; the two runs' valid_acc differ "
            f"by at most {diff:.4g}" + (" (bitwise equal)" if diff == 0 else ""),
            flush=True,
        )
    print(
        f"{args.cells} cells x {args.epochs} epochs on {args.device}: deterministic / default "
        f"time {seconds['deterministic'] / seconds['torch defaults']:.2f}"
    )


if __name__ == "__main__":
    main()
