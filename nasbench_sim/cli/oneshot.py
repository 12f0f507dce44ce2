"""``oneshot`` (train a weight-sharing super-network on a table's protocol; needs torch) and
``gap`` (rank agreement between one-shot and stand-alone accuracy, with plots).

torch is imported only inside the ``oneshot`` handler, so the rest of the CLI works without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.oneshot import (
    METHODS,
    OneShotError,
    OneShotProgress,
    gap_report,
    list_oneshot,
    parameter_free_fraction,
    read_oneshot,
    run_oneshot,
    seed_spread,
    spread,
    standalone_accuracy,
)

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "oneshot",
        help="train a SPOS/DARTS/GDAS super-network on a table's protocol (needs torch)",
        description="Train a weight-sharing super-network with the table's skeleton, dataset and "
        "training protocol, score cells with inherited weights (SPOS) or record the derived cell "
        "per epoch (DARTS, GDAS), and store the result in the table file under "
        "/oneshot/<method>/seed_<seed>/ (see docs/oneshot.md).",
    )
    p.add_argument("--table", required=True, help="table file built by `nasbench-sim build`")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--seed", type=int, default=0, help="super-network seed (default: 0)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--epochs", type=int, default=None, help="override the protocol's epochs")
    p.add_argument("--batch-size", type=int, default=None, help="override the batch size")
    p.add_argument("--channels", type=int, default=None, help="override C")
    p.add_argument("--cells-per-stage", type=int, default=None, help="override N")
    p.add_argument("--train-subset", type=int, default=None, help="train on this many samples")
    p.add_argument("--eval-subset", type=int, default=None, help="evaluate on this many samples")
    p.add_argument(
        "--cells",
        default="table",
        help="SPOS cells to score: 'table' (the table's cells, default), 'all' (15,625) or "
        "comma-separated indices",
    )
    p.add_argument("--bn-batches", type=int, default=4, help="BN recalibration batches per cell")
    p.add_argument("--arch-lr", type=float, default=3e-4, help="Adam lr of alpha (DARTS, GDAS)")
    p.add_argument("--tau-max", type=float, default=10.0, help="GDAS first-epoch temperature")
    p.add_argument("--tau-min", type=float, default=0.1, help="GDAS last-epoch temperature")
    p.add_argument("--data-dir", default=None, help="folder of cifar10/cifar100/fashion_mnist")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_oneshot)

    p = sub.add_parser(
        "gap",
        help="Kendall tau / Spearman rho / top-k precision of one-shot vs stand-alone accuracy",
    )
    p.add_argument("--table", required=True, help="table file holding /oneshot groups")
    p.add_argument("--method", default=None, choices=METHODS, help="default: every method")
    p.add_argument("--seed", type=int, default=None, help="default: every seed present")
    p.add_argument("--out", default=None, help="folder of the PNG/JSON (default: TABLE_gap/)")
    p.add_argument("--top-k", default="10,50,100", help="top-k sizes: counts or fractions")
    p.add_argument("--top-fraction", type=float, default=0.1, help="stand-alone top fraction")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.set_defaults(func=_gap)


def _cells(text: str) -> str | list[int]:
    if text in ("table", "all"):
        return text
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise OneShotError(
            f"--cells must be 'table', 'all' or comma-separated indices, got {text!r}"
        ) from None


class _Bar:
    """Turns :class:`OneShotProgress` events into tqdm bars (one per stage)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, ev: OneShotProgress) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(ev.stage)
        if bar is None:
            from tqdm import tqdm

            unit = "epoch" if ev.stage == "train" else "cell"
            bar = self.bars[ev.stage] = tqdm(
                total=ev.total, unit=unit, desc=ev.stage, file=sys.stderr
            )
        bar.update(ev.done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _oneshot(args: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError:
        from nasbench_sim.generate.errors import MissingTrainingDependency

        raise MissingTrainingDependency("torch") from None
    from nasbench_sim.oneshot.train import OneShotSettings

    if args.threads is not None:
        if args.threads < 1:
            raise OneShotError("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "channels": args.channels,
        "cells_per_stage": args.cells_per_stage,
        "train_subset": args.train_subset,
        "eval_subset": args.eval_subset,
    }
    settings = OneShotSettings(
        arch_lr=args.arch_lr, tau_max=args.tau_max, tau_min=args.tau_min, bn_batches=args.bn_batches
    )
    bar = _Bar(enabled=not args.no_progress)
    try:
        rec = run_oneshot(
            args.table,
            args.method,
            seed=args.seed,
            overrides=overrides,
            settings=settings,
            cells=_cells(args.cells),
            device=args.device,
            data_dir=args.data_dir,
            progress=bar,
        )
    finally:
        bar.close()
    c = rec.cost
    print(
        f"wrote oneshot/{rec.method}/seed_{rec.seed} to {args.table}: super-network "
        f"{c['epochs']} epochs, {c['steps']} steps, {c['train_wall_s']:.1f} s training + "
        f"{c['eval_wall_s']:.1f} s evaluation on {c['device']}"
    )
    if rec.method == "spos":
        print(
            f"scored {rec.arch_index.size} cells; one-shot valid acc "
            f"min {rec.valid_acc.min():.3f} / median {np.median(rec.valid_acc):.3f} / "
            f"max {rec.valid_acc.max():.3f}"
        )
    else:
        free = parameter_free_fraction(rec.arch_index)
        sa = rec.standalone_valid_acc
        for e, idx in enumerate(rec.arch_index):
            acc = float(sa[e]) if sa is not None else float("nan")
            print(
                f"epoch {e + 1}: derived cell {int(idx)}, stand-alone valid acc {acc:.3f}, "
                f"parameter-free ops {free[e]:.2f}"
            )
    return 0


def _float_list(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise OneShotError(f"--top-k takes comma-separated numbers, got {text!r}") from None


def _gap(args: argparse.Namespace) -> int:
    from nasbench_sim.bench import TabularBenchmark
    from nasbench_sim.oneshot.plots import plot_gap_scatter, plot_trajectory
    from nasbench_sim.table import read_table

    table = read_table(args.table)
    bench = TabularBenchmark(table)
    runs = [
        (m, s)
        for m, s in list_oneshot(args.table)
        if (args.method is None or m == args.method) and (args.seed is None or s == args.seed)
    ]
    if not runs:
        have = ", ".join(f"{m}/seed_{s}" for m, s in list_oneshot(args.table)) or "none"
        raise OneShotError(
            f"{args.table}: no one-shot group matches method={args.method} seed={args.seed}; "
            f"groups present: {have} (run `nasbench-sim oneshot` first)"
        )
    out = Path(args.out) if args.out else Path(str(Path(args.table).with_suffix("")) + "_gap")
    out.mkdir(parents=True, exist_ok=True)
    ks = _float_list(args.top_k)
    reports: dict[str, list[Any]] = {}
    lines: list[str] = []
    for method, seed in runs:
        rec = read_oneshot(args.table, method, seed)
        tag = f"{method}_seed{seed}"
        if method == "spos":
            truth = standalone_accuracy(bench, rec.arch_index, "valid_acc")
            rep = gap_report(rec, truth, ks=ks, top_fraction=args.top_fraction)
            png = plot_gap_scatter(
                rec, truth, rep, out / f"gap_{tag}.png", synthetic=table.is_synthetic
            )
            reports.setdefault(method, []).append(rep)
            prec = ", ".join(f"P@{k}={v:.2f}" for k, v in rep.precision.items())
            lines.append(
                f"{method} seed {seed}: n={rep.n_cells} Kendall tau={rep.kendall_tau:.3f} "
                f"Spearman rho={rep.spearman_rho:.3f}; top {100 * rep.top_fraction:g}% "
                f"(n={rep.n_top}) tau={rep.top_kendall_tau:.3f} rho={rep.top_spearman_rho:.3f}; "
                f"{prec}; super-net {rec.cost.get('wall_s', float('nan')):.1f} s -> {png}"
            )
        else:
            png = plot_trajectory(rec, out / f"trajectory_{tag}.png")
            free = parameter_free_fraction(rec.arch_index)
            sa = rec.standalone_valid_acc
            if sa is None:
                sa = np.full(rec.arch_index.shape, np.nan)
            reports.setdefault(method, []).append(
                {
                    "seed": seed,
                    "derived": rec.arch_index.tolist(),
                    "standalone_valid_acc": [float(v) for v in sa],
                    "parameter_free_fraction": free.tolist(),
                    "cost": dict(rec.cost),
                }
            )
            lines.append(
                f"{method} seed {seed}: final derived cell {int(rec.arch_index[-1])}, stand-alone "
                f"valid acc {float(sa[-1]) if len(sa) else float('nan'):.3f}, parameter-free ops "
                f"per epoch {np.round(free, 2).tolist()} -> {png}"
            )
    summary: dict[str, Any] = {}
    for method, reps in reports.items():
        if method == "spos":
            summary[method] = {
                "runs": [r.to_dict() for r in reps],
                "seed_spread": seed_spread(reps),
            }
            if len(reps) > 1:
                s = summary[method]["seed_spread"]["kendall_tau"]
                lines.append(
                    f"spos over {len(reps)} seeds: Kendall tau {s['mean']:.3f} +- {s['std']:.3f} "
                    f"(min {s['min']:.3f}, max {s['max']:.3f})"
                )
        else:
            finals = [r["standalone_valid_acc"][-1] for r in reps if r["standalone_valid_acc"]]
            summary[method] = {"runs": reps}
            if len(finals) > 1:
                s = spread(finals)
                summary[method]["final_standalone_valid_acc"] = s
                lines.append(
                    f"{method} over {len(finals)} seeds: final stand-alone valid acc "
                    f"{s['mean']:.3f} +- {s['std']:.3f} (min {s['min']:.3f}, max {s['max']:.3f})"
                )
    text = json.dumps(_nan_to_none(summary), indent=2, default=float, allow_nan=False)
    (out / "gap.json").write_text(text)
    if args.json:
        print(text)
    else:
        print("\n".join(lines))
        print(f"wrote {out / 'gap.json'}")
    return 0


def _nan_to_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return None
    return obj
