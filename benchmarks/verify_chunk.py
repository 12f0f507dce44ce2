"""Retrain a committed chunk of a build (or some of its seeds) with the current code and check
that the curves are bitwise those on disk.

A build that runs across sessions must train every chunk with the same arithmetic. Run this
after any change under ``nasbench_sim/generate/`` (or a new torch) before resuming a build:

    python benchmarks/verify_chunk.py --chunk 0 --seeds 0       # about a minute on one core

It prints, per metric, whether the retrained curves equal the committed ones and the largest
difference. The machine must match the numerics the chunk was trained with (trainer, threads,
torch, CPU capability: recorded in the chunk), or the comparison says so and stops (on
another CPU, ``benchmarks/hardware_effect.py`` measures how far the numbers move).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from nasbench_sim.generate import Protocol
from nasbench_sim.generate.chunks import chunk_path, parts_dir, read_chunk, read_manifest
from nasbench_sim.generate.grad_sum import recorded_grad_sum
from nasbench_sim.generate.hardware import hardware_only, same_machine
from nasbench_sim.generate.worker import numerics, train_chunk

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT, help="the build's output path")
    p.add_argument("--chunk", type=int, default=0)
    p.add_argument("--seeds", default="0", help="comma-separated training seeds to retrain")
    args = p.parse_args()
    parts = parts_dir(args.table)
    manifest = read_manifest(parts)
    chunk = read_chunk(chunk_path(parts, args.chunk))
    # the chunk's own numerics: in a --mixed-hardware build they name the machine that trained it
    built = chunk.info.get("numerics") or manifest.get("numerics") or {}
    grad_sum = recorded_grad_sum(built)
    here = numerics(
        manifest["trainer"], "cpu", built.get("dtype", "float32"), built.get("threads"), grad_sum
    )
    if "cpu_vendor" not in built and "cpu_vendor" in here:  # chunks from before it was recorded
        print(f"the chunk records no CPU vendor; this machine's is {here['cpu_vendor']}")
    if not (hardware_only(built, here) and same_machine(built, here)):
        print(f"this machine's numerics {here} differ from the chunk's {built}: not comparable")
        return 2
    seeds = [int(s) for s in args.seeds.split(",")]
    cols = [int(np.flatnonzero(chunk.seeds == s)[0]) for s in seeds]
    t0 = time.perf_counter()
    got = train_chunk(
        Protocol.from_dict(manifest["protocol"]), chunk.arch_index, seeds, "cpu",
        trainer=manifest["trainer"], threads=int(built.get("threads", 1)), grad_sum=grad_sum,
    )  # fmt: skip
    print(f"retrained chunk {args.chunk}, seeds {seeds}: {time.perf_counter() - t0:.0f} s")
    same = True
    for name, stored in chunk.metrics.items():
        a, b = got.metrics[name], stored[:, cols]
        equal = np.array_equal(a, b, equal_nan=True)
        same &= equal
        diff = float(np.nanmax(np.abs(a - b))) if a.size else 0.0
        print(f"  {name:<11} {'bitwise equal' if equal else 'DIFFERENT'}  max |diff| {diff:.3g}")
    print("the current code reproduces the committed chunk" if same else "MISMATCH")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
