"""Protocol pilot: how well would a full table built with this protocol tell cells apart, and
what would it cost?

Trains K random equivalence-class representatives with (at least) two training seeds under a
candidate protocol — an ordinary resumable build (``--out``; ``--resume`` continues it) — and
prints, from the finished pilot table:

* Kendall τ between two seeds' final validation accuracies (the ceiling of any ranking the
  full table can support) and the same for test accuracy;
* the spread of the seed-mean final test accuracy (10th percentile, median, best);
* the seed noise (median over cells of the standard deviation across seeds of the final
  validation accuracy);
* the Pearson correlation of seed-mean validation and test accuracy;
* the reliability of the mean of 3 seeds (Spearman-Brown from the between-seed correlation);
* CPU seconds per (cell, seed), everything included (training, evaluation, cost metrics), and
  the projected time of the full build (6,466 classes x 3 seeds) on this machine's cores.

    python benchmarks/protocol_pilot.py --k 200 --channels 8 --cells-per-stage 2 \\
        --epochs 12 --data-sizes 5000,3000,8000 --out results/pilot/c8n2.h5

With ``--record FILE`` the result is also appended as a row of a Markdown table (the rows of
the pilot record in ``docs/protocol_pilot.md`` were made this way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from nasbench_sim.bench.discrimination import discrimination
from nasbench_sim.generate import Protocol, build_table
from nasbench_sim.generate.chunks import parts_dir
from nasbench_sim.generate.grad_sum import GRAD_SUMS
from nasbench_sim.generate.worker import TRAINERS
from nasbench_sim.table import read_table

FULL_CLASSES = 6466
FULL_SEEDS = 3


def _sizes(text: str) -> tuple[int, int, int]:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 3:
        raise argparse.ArgumentTypeError("--data-sizes takes TRAIN,VALID,TEST")
    return values


def _args() -> argparse.Namespace:
    d = Protocol()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--k", type=int, default=200, help="class representatives (default: 200)")
    ap.add_argument("--seeds", default="0,1", help="training seeds, at least two (default: 0,1)")
    ap.add_argument("--cells-seed", type=int, default=0, help="seed of the draw of the K cells")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--cells-per-stage", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=d.epochs)
    ap.add_argument("--batch-size", type=int, default=d.batch_size)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--weight-decay", type=float, default=d.weight_decay)
    ap.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    ap.add_argument("--data-sizes", type=_sizes, default=None, metavar="TRAIN,VALID,TEST")
    ap.add_argument("--test-every", type=int, default=d.test_every)
    ap.add_argument("--trainer", default="matmul", choices=TRAINERS)
    ap.add_argument(
        "--grad-sum", default=None, choices=GRAD_SUMS,
        help="matmul trainers' gradient order (default: ordered; the pilot in data/pilot/ "
        "and the default table's build: autograd)",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chunk-size", type=int, default=8)
    ap.add_argument("--out", required=True, help="pilot table (.h5); OUT.parts/ while it runs")
    ap.add_argument("--resume", action="store_true", help="continue an interrupted pilot")
    ap.add_argument("--record", default=None, help="append the result row to this Markdown file")
    ap.add_argument("--note", default="", help="free text for the record's last column")
    return ap.parse_args()


def _progress(ev: object) -> None:
    done, total = getattr(ev, "cells_done", 0), getattr(ev, "cells_total", 0)
    print(f"\r  {done}/{total} cells", end="", file=sys.stderr, flush=True)


def pilot_stats(path: Path) -> dict[str, float]:
    """The pilot's figures from a finished pilot table (see the module docstring)."""
    t = read_table(path)
    valid = np.asarray(t.metrics["valid_acc"][:, :, -1], dtype=np.float64)
    test = np.asarray(t.metrics["test_acc"][:, :, -1], dtype=np.float64)
    s = valid.shape[1]
    pairs = [(i, j) for i in range(s) for j in range(i + 1, s)]
    tau_t = float(np.mean([stats.kendalltau(test[:, i], test[:, j]).statistic for i, j in pairs]))
    mean_test = test.mean(axis=1)
    mean_valid = valid.mean(axis=1)
    d = discrimination(valid, mean_valid, mean_test)  # the figures a table's datasheet gives
    r1 = float(d["seed_pearson"] or np.nan)
    cells_seeds = t.n_cells * s
    cpu_s = float(t.provenance.get("cpu_s", float("nan")))
    per = cpu_s / cells_seeds
    cores = os.cpu_count() or 1
    return {
        "k": float(t.n_cells),
        "seeds": float(s),
        "tau_valid": float(d["seed_kendall_tau"] or np.nan),
        "tau_test": tau_t,
        "p10_test": float(np.percentile(mean_test, 10)),
        "median_test": float(np.median(mean_test)),
        "best_test": float(mean_test.max()),
        "seed_sd_valid": float(d["seed_std_valid"] or np.nan),
        "valid_test_pearson": float(d["valid_test_pearson"] or np.nan),
        "reliability_1": r1,
        "reliability_3": FULL_SEEDS * r1 / (1 + (FULL_SEEDS - 1) * r1) if r1 > 0 else np.nan,
        "cpu_s_per_cell_seed": per,
        "projected_full_h": FULL_CLASSES * FULL_SEEDS * per / cores / 3600,
    }


def main() -> None:
    args = _args()
    seeds = tuple(int(v) for v in args.seeds.split(","))
    if len(seeds) < 2:
        raise SystemExit("the pilot needs at least two training seeds (--seeds 0,1)")
    protocol = Protocol(
        channels=args.channels,
        cells_per_stage=args.cells_per_stage,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        data_sizes=args.data_sizes,
        test_every=args.test_every,
        seeds=seeds,
        timing_cells_per_chunk=0,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        start = time.perf_counter()
        build_table(
            protocol, out, cells=args.k, cells_seed=args.cells_seed, chunk_size=args.chunk_size,
            resume=args.resume or parts_dir(out).exists(), trainer=args.trainer,
            grad_sum=args.grad_sum, workers=args.workers, threads=1, progress=_progress,
        )  # fmt: skip
        print(f"\n  built in {time.perf_counter() - start:.0f} s wall", file=sys.stderr)
    r = pilot_stats(out)
    sizes = "x".join(map(str, args.data_sizes)) if args.data_sizes else "3000x1000x1000"
    label = (
        f"C={args.channels}, N={args.cells_per_stage}, {args.epochs} ep, batch "
        f"{args.batch_size}, lr {args.lr}, wd {args.weight_decay}"
        + (f", label smoothing {args.label_smoothing}" if args.label_smoothing else "")
        + f", data {sizes}"
        + (f", test every {args.test_every}" if args.test_every != 1 else "")
    )
    print(f"protocol: {label}; K={int(r['k'])}, seeds {list(seeds)}, trainer {args.trainer}")
    print(json.dumps(r, indent=1))
    row = (
        f"| {label} | {int(r['k'])} | {r['tau_valid']:.3f} | {r['tau_test']:.3f} | "
        f"{r['p10_test']:.3f} / {r['median_test']:.3f} / {r['best_test']:.3f} | "
        f"{100 * r['seed_sd_valid']:.2f} % | {r['valid_test_pearson']:.3f} | "
        f"{r['reliability_3']:.3f} | {r['cpu_s_per_cell_seed']:.2f} | "
        f"{r['projected_full_h']:.1f} | {args.note} |"
    )
    print(row)
    if args.record:
        with open(args.record, "a", encoding="utf-8") as fh:
            fh.write(row + "\n")


if __name__ == "__main__":
    main()
