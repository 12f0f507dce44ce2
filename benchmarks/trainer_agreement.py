"""Do the batched and the reference trainer give the same curves on a device?

Builds the same K random cells twice on ``--device`` (default ``cuda``), once with each
trainer, under the default table's network (C = 8, N = 3, batch 64, lr 0.05; ``--epochs``,
default 3), and prints the largest and the mean absolute difference of the validation
accuracy curves and each trainer's median final accuracy. On the CPU the two agree to about
1e-4 (``tests/generate/test_gen_equivalence.py``); on an H200 they did not (see
``docs/generator.md``).

    python benchmarks/trainer_agreement.py --device cuda --cells 64
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from nasbench_sim.generate import Protocol, build_table
from nasbench_sim.table import read_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--cells", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    p = Protocol(
        dataset="mnist1d", channels=8, cells_per_stage=3, epochs=args.epochs, batch_size=64,
        lr=0.05, seeds=(0,),
    )  # fmt: skip
    acc = {}
    with tempfile.TemporaryDirectory() as tmp:
        for trainer in ("batched", "reference"):
            t0 = time.perf_counter()
            path = build_table(
                p, Path(tmp) / f"{trainer}.h5", cells=args.cells, device=args.device,
                chunk_size=args.cells, trainer=trainer,
            )  # fmt: skip
            acc[trainer] = read_table(path).metrics["valid_acc"]
            print(f"{trainer}: {time.perf_counter() - t0:.1f} s", flush=True)
    diff = np.abs(acc["batched"] - acc["reference"])
    print(
        f"{args.cells} cells x {args.epochs} epochs on {args.device}: |batched - reference| "
        f"valid_acc max {np.nanmax(diff):.4f}, mean {np.nanmean(diff):.4f}; median final "
        f"valid_acc batched {np.median(acc['batched'][:, 0, -1]):.3f}, reference "
        f"{np.median(acc['reference'][:, 0, -1]):.3f}"
    )


if __name__ == "__main__":
    main()
