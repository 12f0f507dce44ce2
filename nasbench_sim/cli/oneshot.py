"""``oneshot`` (train a weight-sharing super-network on a table's protocol; needs torch) and
``gap`` (rank agreement between one-shot and stand-alone accuracy, with plots).

torch is imported only inside the ``oneshot`` handler, so the rest of the CLI works without it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.atomic import check_output_dir
from nasbench_sim.cli.progress import progress_bar
from nasbench_sim.oneshot import (
    GAP_FILES,
    METHODS,
    GapReport,
    OneShotError,
    OneShotProgress,
    gap_study,
    parameter_free_fraction,
    run_oneshot,
    write_gap_study,
)
from nasbench_sim.sources import parse_synthetic

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
            unit = "epoch" if ev.stage == "train" else "cell"
            bar = self.bars[ev.stage] = progress_bar(total=ev.total, unit=unit, desc=ev.stage)
        bar.update(ev.done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _table_file(table: str) -> None:
    """``oneshot`` and ``gap`` keep super-networks in a table file: a synthetic table made in
    memory has none, and says how to get a file."""
    if parse_synthetic(table) is not None:
        raise ValueError(
            f"--table {table}: one-shot super-networks are stored in a table file; write one "
            "first (`nasbench-sim synthetic --out T.h5`, or `nasbench-sim build`) and pass "
            "its path"
        )


def _oneshot(args: argparse.Namespace) -> int:
    _table_file(args.table)
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


def _gap_line(rep: GapReport, path: Any) -> str:
    """One line on one super-network's gap."""
    prec = ", ".join(f"P@{k}={v:.2f}" for k, v in rep.precision.items())
    ranking = (
        f"n={rep.n_cells} Kendall tau={rep.kendall_tau:.3f} Spearman rho={rep.spearman_rho:.3f}; "
        f"top {100 * rep.top_fraction:g}% (n={rep.n_top}) tau={rep.top_kendall_tau:.3f} "
        f"rho={rep.top_spearman_rho:.3f}; {prec}"
    )
    if not rep.derived:
        wall = rep.cost.get("wall_s", float("nan"))
        return (
            f"{rep.method} seed {rep.seed}: {ranking}; its best-scored cell: stand-alone valid "
            f"acc {rep.pick_standalone:.3f} (percentile {rep.pick_percentile:.1f}); super-net "
            f"{wall:.1f} s -> {path}"
        )
    final = rep.standalone_valid_acc[-1] if rep.standalone_valid_acc else float("nan")
    pct = rep.standalone_percentile[-1] if rep.standalone_percentile else float("nan")
    return (
        f"{rep.method} seed {rep.seed}: final derived cell {rep.derived[-1]}, stand-alone "
        f"valid acc {final:.3f} (percentile {pct:.1f}), parameter-free ops per epoch "
        f"{[round(v, 2) for v in rep.parameter_free]}; softmax(alpha) ranking of the table's "
        f"cells: {ranking} -> {path}"
    )


def _spread_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for method, entry in summary.items():
        n = len(entry["runs"])
        if n < 2:
            continue
        s = entry["seed_spread"]["kendall_tau"]
        lines.append(
            f"{method} over {n} seeds: Kendall tau {s['mean']:.3f} +- {s['std']:.3f} "
            f"(min {s['min']:.3f}, max {s['max']:.3f})"
        )
        f = entry.get("final_standalone_valid_acc")
        p = entry.get("final_standalone_percentile") or entry["seed_spread"]["pick_percentile"]
        what = "final derived cell's" if f is not None else "best-scored cell's"
        if f is not None:
            lines.append(
                f"{method} over {n} seeds: final stand-alone valid acc {f['mean']:.3f} +- "
                f"{f['std']:.3f} (min {f['min']:.3f}, max {f['max']:.3f})"
            )
        lines.append(
            f"{method} over {n} seeds: {what} stand-alone percentile {p['mean']:.1f} +- "
            f"{p['std']:.1f} (min {p['min']:.1f}, max {p['max']:.1f})"
        )
    return lines


def _gap(args: argparse.Namespace) -> int:
    _table_file(args.table)
    out = Path(args.out) if args.out else Path(str(Path(args.table).with_suffix("")) + "_gap")
    check_output_dir(out, GAP_FILES)  # before any work
    study = gap_study(
        args.table,
        method=args.method,
        seed=args.seed,
        ks=_float_list(args.top_k),
        top_fraction=args.top_fraction,
    )
    written = write_gap_study(study, out)
    if args.json:
        print(written["json"].read_text())
        return 0
    for rep in study.reports:
        print(_gap_line(rep, written[f"{rep.method}_seed{rep.seed}"]))
    print("\n".join(_spread_lines(study.summary())))
    print(f"wrote {written['json']}")
    return 0
