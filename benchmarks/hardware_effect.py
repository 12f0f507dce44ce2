"""How much another CPU changes a build's numbers, next to what another seed changes.

Torch picks its CPU kernels by instruction set (``torch.backends.cpu.get_cpu_capability()``:
AVX2, AVX512, ...), so the same training run on another CPU rounds differently, and the
differences grow over the epochs. This retrains committed chunks of a build on this machine,
with every other part of the build's numerics the same (trainer, threads, torch, gradient
order), and compares the final validation and test accuracies per cell:

* hardware effect: this machine's run of seed s against the build's run of seed s;
* seed effect: the build's seed s against its other seeds (same machine).

    python benchmarks/hardware_effect.py --chunks 11,200 --seeds 0   # ~3 min per chunk-seed

It prints, for both, the mean, 90th percentile and maximum of |difference|, Kendall τ across
the cells, and the mean signed difference (a shift) with its standard error and Wilcoxon's
signed-rank p, and writes the retrained curves to ``--save`` (npz) so that the figures can be
recomputed (``--load``). If the hardware effect is no larger than the seed effect and shifts
nothing, a cell trained on either machine is a draw from the same protocol's noise (what
``build --mixed-hardware`` relies on).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, wilcoxon

from nasbench_sim.generate import Protocol
from nasbench_sim.generate.chunks import chunk_path, parts_dir, read_chunk, read_manifest
from nasbench_sim.generate.grad_sum import recorded_grad_sum
from nasbench_sim.generate.hardware import describe_hardware, hardware_only, same_machine
from nasbench_sim.generate.worker import numerics, train_chunk

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"


def _summary(label: str, a: np.ndarray, b: np.ndarray) -> str:
    """|a - b| (size of the change), a - b (a shift: mean, its standard error, Wilcoxon's
    signed-rank p) and Kendall τ between a and b across the cells."""
    signed = (a - b).astype(np.float64)
    d = np.abs(signed)
    se = signed.std(ddof=1) / np.sqrt(len(signed))
    shift_p = wilcoxon(signed).pvalue if np.any(signed) else 1.0
    return (
        f"  {label:<34} mean |diff| {d.mean():.4f}   90th pct {np.quantile(d, 0.9):.4f}   "
        f"max {d.max():.4f}   tau {kendalltau(a, b).statistic:.3f}   "
        f"shift {signed.mean():+.4f} ± {se:.4f} (p {shift_p:.2f})"
    )


KEYS = ("valid_acc", "test_acc")


def _retrain(parts: Path, manifest: dict, ids: list[int], seeds: list[int]) -> list[dict]:
    built, got, t0 = manifest.get("numerics") or {}, [], time.perf_counter()
    for cid in ids:
        run = train_chunk(
            Protocol.from_dict(manifest["protocol"]), read_chunk(chunk_path(parts, cid)).arch_index,
            seeds, "cpu", trainer=manifest["trainer"], threads=int(built.get("threads", 1)),
            grad_sum=recorded_grad_sum(built),
        )  # fmt: skip
        got.append({k: run.metrics[k] for k in KEYS})
        print(f"retrained chunk {cid}, seeds {seeds}: {time.perf_counter() - t0:.0f} s so far")
    return got


def _load(files: list[Path]) -> tuple[list[int], list[int], list[dict], str]:
    ids, got, seeds, machines = [], [], None, []
    for f in files:
        z = np.load(f)
        if seeds is not None and z["seeds"].tolist() != seeds:
            raise SystemExit(f"{f}: seeds {z['seeds'].tolist()}, the others {seeds}")
        seeds = z["seeds"].tolist()
        machines.append(str(z["machine"]) if "machine" in z else "unrecorded")
        for cid in z["chunks"].tolist():
            ids.append(int(cid))
            got.append({k: z[f"{k}_{cid}"] for k in KEYS})
    return ids, list(seeds or []), got, "; ".join(sorted(set(machines)))


def _check_chunks(parts: Path, manifest: dict, ids: list[int], here: dict) -> str | None:
    """Why the chunks cannot measure this machine's effect, or None: each must have been
    trained on another kind of machine, with the rest of its numerics this machine's."""
    for cid in ids:
        built = read_chunk(chunk_path(parts, cid)).info.get("numerics") or manifest["numerics"]
        if not hardware_only(built, here):
            return f"chunk {cid}: numerics differ beyond the machine: {built} vs here {here}"
        if same_machine(built, here):
            return f"chunk {cid} was trained on this kind of machine ({describe_hardware(built)})"
    return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT, help="the build's output path")
    p.add_argument("--chunks", default="11", help="comma-separated committed chunk ids")
    p.add_argument("--seeds", default="0", help="comma-separated training seeds to retrain")
    p.add_argument("--save", type=Path, default=None, help="npz file for the retrained curves")
    p.add_argument(
        "--load", default=None,
        help="comma-separated npz files of earlier --save runs: compare those, retrain nothing",
    )  # fmt: skip
    args = p.parse_args()
    parts = parts_dir(args.table)
    manifest = read_manifest(parts)
    built = manifest.get("numerics") or {}
    if args.load:
        ids, seeds, got, machine = _load([Path(f) for f in args.load.split(",")])
        print(f"retrained curves from {args.load} (retrained on {machine})")
    else:
        here = numerics(
            manifest["trainer"], "cpu", built.get("dtype", "float32"), built.get("threads"),
            recorded_grad_sum(built),
        )  # fmt: skip
        seeds = [int(s) for s in args.seeds.split(",")]
        ids = [int(c) for c in args.chunks.split(",")]
        why = _check_chunks(parts, manifest, ids, here)
        if why:
            print(f"not comparable: {why}")
            return 2
        machine = describe_hardware(here)
        print(f"retraining on this machine: {machine}")
        got = _retrain(parts, manifest, ids, seeds)
    chunks = [read_chunk(chunk_path(parts, cid)) for cid in ids]
    trained_on = {describe_hardware(c.info.get("numerics") or built) for c in chunks}
    print(f"the build trained these chunks on: {'; '.join(sorted(trained_on))}")
    all_seeds = [int(s) for s in manifest["protocol"]["seeds"]]
    for metric in KEYS:
        new = np.concatenate([g[metric][:, :, -1] for g in got])  # (cells, retrained seeds)
        old = np.concatenate([c.metrics[metric][:, :, -1] for c in chunks])  # (cells, seeds)
        print(f"{metric}, final epoch, {new.shape[0]} cells:")
        for j, s in enumerate(seeds):
            col = all_seeds.index(s)
            print(_summary(f"seed {s}: this machine vs the build", new[:, j], old[:, col]))
            for other in (o for o in all_seeds if o != s):
                o_col = all_seeds.index(other)
                print(_summary(f"seed {s} vs seed {other} (the build)", old[:, col], old[:, o_col]))
    if args.save and not args.load:
        arrays: dict[str, np.ndarray] = {
            "chunks": np.array(ids), "seeds": np.array(seeds), "machine": np.array(machine),
        }  # fmt: skip
        arrays.update({f"{k}_{c}": g[k] for c, g in zip(ids, got, strict=True) for k in g})
        np.savez_compressed(args.save, **arrays)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
