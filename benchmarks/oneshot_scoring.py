"""How long one-shot scoring takes per cell: the super-network's path for a cell, batch-norm
recalibrated on 4 training batches, evaluated on the validation split
(:func:`nasbench_sim.oneshot.paths.oneshot_accuracy`), as SPOS scores every class.

Side by side in one process, on the same super-network and cells:

* ``every edge x weight``: each edge multiplies its op's output by the path's weight, as the
  code did before 2026-12-01 (a product by exactly 1.0 on every edge of a one-hot path);
* ``path as is``: an edge whose one op has weight exactly 1 and no gradient returns the op's
  output (``_active_ops`` in ``nasbench_sim/oneshot/supernet.py``).

Both must give the same accuracies bit for bit (checked); prints seconds per cell and the
projection for every one of the 6,466 classes. The protocol is the default table's (from the
table, or from its build's manifest while it is being built); ``--threads 1`` is how one
process of two scores on a 2-core machine.

    python benchmarks/oneshot_scoring.py --threads 1         # 16 cells, about a minute
    python benchmarks/oneshot_scoring.py --cells 64 --threads 2

Times are CPU seconds of this process (best of ``--repeats``, the variants interleaved), so
that other work on the machine distorts them less than wall time; with ``--threads 2`` they
count both threads.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench_sim.generate.chunks import parts_dir, read_manifest
from nasbench_sim.generate.datasets import dataset_for
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.oneshot import supernet
from nasbench_sim.oneshot.paths import oneshot_accuracy
from nasbench_sim.table import read_table

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"


def _protocol(table: Path) -> Protocol:
    if table.is_file():
        recorded = read_table(table).protocol
    else:  # a build in progress: its manifest
        recorded = read_manifest(parts_dir(table))["protocol"]
    facts = ("splits", "input_shape", "n_classes")  # recorded data facts, not settings
    return Protocol.from_dict({k: v for k, v in recorded.items() if k not in facts})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT)
    p.add_argument("--cells", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--eval-subset", type=int, default=None,
        help="score on the first N validation samples (oneshot --eval-subset)",
    )  # fmt: skip
    p.add_argument("--repeats", type=int, default=3, help="timings per variant (best kept)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    protocol = dataclasses.replace(_protocol(args.table), eval_subset=args.eval_subset)
    data = dataset_for(protocol, "cpu")
    torch.manual_seed(0)
    net = supernet.SuperNetwork(
        protocol.channels, protocol.cells_per_stage, tuple(data.input_shape), data.n_classes
    )
    cells = np.random.default_rng(0).choice(15625, size=args.cells, replace=False)
    oneshot_accuracy(net, cells[:2], data, protocol)  # warm-up
    as_is = supernet._active_ops
    every_edge = functools.partial(as_is, skip_unit=False)
    variants: dict[str, Any] = {"every edge x weight": every_edge, "path as is": as_is}
    results: dict[str, np.ndarray] = {}
    seconds = dict.fromkeys(variants, float("inf"))
    for _ in range(args.repeats):  # interleaved, so that a busy spell hits both alike
        for name, plan in variants.items():
            supernet._active_ops = plan
            t0 = time.process_time()  # CPU time: what else runs on the machine counts less
            results[name] = oneshot_accuracy(net, cells, data, protocol)
            seconds[name] = min(seconds[name], (time.process_time() - t0) / len(cells))
    supernet._active_ops = as_is
    same = np.array_equal(results["every edge x weight"], results["path as is"])
    print(
        f"one-shot scoring at the protocol of {args.table.name}: {args.cells} cells, "
        f"{args.threads} thread(s), {len(data.valid_y):,} validation samples, CPU seconds, "
        f"best of {args.repeats}"
    )
    for name, s in seconds.items():
        print(f"  {name:>20}: {s:.3f} s per cell, {6466 * s / 60:.1f} min for 6,466 classes")
    base, now = seconds.values()
    print(f"  speed-up {base / now:.2f}x; the same accuracies bit for bit: {same}")
    if not same:
        raise SystemExit("the two variants disagree")


if __name__ == "__main__":
    main()
