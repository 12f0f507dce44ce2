"""CPU time of a stacked evaluation pass against its batch size (the rule of
:func:`nasbench_sim.generate.train_matmul.stack_eval_batch`).

Builds a stack of M consecutive class representatives under the default table's protocol
(C = 8, N = 3, MNIST-1D 2,000 / 4,000 / 4,000) and times one pass over the validation split
for each evaluation batch size, one thread, best of ``--rounds``; prints µs of CPU per model
and sample.

    python benchmarks/stack_eval_batch.py                # M = 16 and 8
    python benchmarks/stack_eval_batch.py --m 16 --batches 64,128,1024 --rounds 3
"""

from __future__ import annotations

import argparse
import time

import torch

from nasbench_sim.generate._loop import evaluate
from nasbench_sim.generate.datasets import dataset_for
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.train_matmul import stack_eval_batch, stacked_model
from nasbench_sim.space import Cell, get_space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m", default="16,8", help="stack sizes (default: 16,8)")
    ap.add_argument("--batches", default="32,64,128,256,512,1024", help="evaluation batches")
    ap.add_argument("--rounds", type=int, default=2, help="timed passes, best kept (default: 2)")
    ap.add_argument("--start", type=int, default=3000, help="first class representative")
    args = ap.parse_args()
    torch.set_num_threads(1)
    p = Protocol(
        dataset="mnist1d", channels=8, cells_per_stage=3, epochs=1, batch_size=64,
        data_sizes=(2000, 4000, 4000),
    )  # fmt: skip
    data = dataset_for(p, device="cpu")
    reps = get_space("nb201").representatives()
    n = int(data.valid_y.shape[0])
    for m in (int(v) for v in args.m.split(",")):
        cells = [Cell.from_index(int(i)) for i in reps[args.start : args.start + m]]
        model = stacked_model(p, cells, 0, data, "cpu")
        model.eval()
        row = []
        for b in (int(v) for v in args.batches.split(",")):
            best = float("inf")
            for _ in range(args.rounds):
                t = time.process_time()
                evaluate(model, data.valid_x, data.valid_y, b, m)
                best = min(best, time.process_time() - t)
            row.append(f"{b}: {best / (m * n) * 1e6:.1f}")
        print(
            f"M={m} (rule picks {stack_eval_batch(p, m)}): us/model-sample by batch  "
            + ", ".join(row)
        )


if __name__ == "__main__":
    main()
