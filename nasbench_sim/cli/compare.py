"""``compare``: the main job — many seeded searches per strategy, a summary and plots."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from nasbench_sim.bench import Budget
from nasbench_sim.cli.core import load_bench, synthetic_banner
from nasbench_sim.cli.search import add_budget_args, parse_seeds
from nasbench_sim.search import DEFAULT_STRATEGIES, available_strategies
from nasbench_sim.search.experiment import parse_budget, run_many

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare search strategies over many seeds; writes a summary and plots",
        description=(
            "Replay every strategy with every seed against a table under a simulated-time "
            "budget and write runs.parquet, summary.csv, anytime.png and final.png."
        ),
    )
    p.add_argument(
        "--table",
        default=None,
        help="table file (default: the table shipped in data/), or 'synthetic[:SEED]'",
    )
    p.add_argument(
        "--strategies",
        default=",".join(DEFAULT_STRATEGIES),
        help="comma-separated strategy names, or 'all' (default: %(default)s)",
    )
    p.add_argument("--seeds", default="100", help="N (seeds 0..N-1), A-B, or a list (default 100)")
    add_budget_args(p)
    p.add_argument(
        "--jobs", type=int, default=-1, help="processes to spread the runs over (-1: all cores)"
    )
    p.add_argument("--baseline", default="random", help="strategy for the paired test")
    p.add_argument("--out", default="results/compare", help="output folder")
    p.set_defaults(func=_compare)


def _strategies(text: str) -> list[str]:
    if text.strip() == "all":
        return available_strategies()
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ValueError("--strategies is empty; give names like 'random,evolution' or 'all'")
    return names


def _compare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analysis.plots import anytime_plot, final_plot, label
    from analysis.stats import anytime_curves, summarize, time_grid

    t0 = time.perf_counter()
    bench = load_bench(args.table)
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    strategies = _strategies(args.strategies)
    seeds = parse_seeds(args.seeds)
    budget = parse_budget(args.budget, bench)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = (os.cpu_count() or 1) if args.jobs == -1 else args.jobs
    print(
        f"comparing {len(strategies)} strategies x {len(seeds)} seeds on {bench.dataset} "
        f"({bench.table.n_cells} rows); budget: {_budget_text(budget)}; "
        f"{args.workers} simulated worker(s); {jobs} process(es)"
    )
    with tqdm(total=len(strategies) * len(seeds), unit="run", desc="replaying") as bar:
        comp = run_many(
            bench,
            strategies,
            seeds,
            budget,
            n_workers=args.workers,
            n_jobs=jobs,
            charge_strategy_time=args.charge_strategy_time,
            progress=bar.update,
        )
    runs_path = out / "runs.parquet"
    comp.runs.to_parquet(runs_path, index=False)
    comp.final.to_csv(out / "final.csv", index=False)
    baseline = args.baseline if args.baseline in strategies else None
    summary = summarize(comp.final, baseline=baseline)
    summary.to_csv(out / "summary.csv", index=False)

    times = time_grid(comp.runs, end=budget.time_s)
    curves = anytime_curves(comp.runs, times)
    order = list(summary["strategy"])
    title = f"{bench.dataset}: mean test regret, 95% CI band, {len(seeds)} seeds"
    if banner:
        title += " (SYNTHETIC table)"
    anytime_plot(
        curves, times, out / "anytime.png", title=title, order=order, budget_s=budget.time_s
    )
    final_plot(comp.final, out / "final.png", order=order)
    meta = {
        "table": args.table or "default",
        "dataset": bench.dataset,
        "synthetic": bench.table.is_synthetic,
        "budget": args.budget,
        "settings": comp.settings,
        "best_test_acc": bench.best_test_acc,
        "wall_time_s": time.perf_counter() - t0,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2))

    print()
    print(_format_summary(summary, label))
    _print_sanity(summary)
    print(
        f"\nwrote {out}/: runs.parquet, final.csv, summary.csv, anytime.png, final.png, meta.json"
        f"  ({meta['wall_time_s']:.1f} s)"
    )
    return 0


def _budget_text(budget: Budget) -> str:
    parts = []
    if budget.time_s is not None:
        parts.append(f"{budget.time_s:,.0f} simulated s ({budget.time_s / 3600:.2f} h)")
    if budget.queries is not None:
        parts.append(f"{budget.queries} queries")
    return " and ".join(parts)


def _format_summary(summary: pd.DataFrame, label: Callable[[str], str]) -> str:
    cols = [c for c in summary.columns if c.startswith("p_vs_")]
    head = f"{'strategy':<24}{'runs':>5}{'mean regret [95% CI]':>30}{'median':>9}{'rank':>6}"
    head += "".join(f"{c:>14}" for c in cols)
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        ci = f"{r.mean_regret:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
        line = (
            f"{label(r.strategy):<24}{r.runs:>5}{ci:>30}{r.median_regret:>9.4f}{r.mean_rank:>6.2f}"
        )
        for c in cols:
            v = r[c]
            line += f"{'—':>14}" if v != v else f"{v:>14.2g}"
        lines.append(line)
    return "\n".join(lines)


def _print_sanity(summary: pd.DataFrame) -> None:
    rows = summary.set_index("strategy")
    if not {"evolution", "random"} <= set(rows.index):
        return
    re_, rs = rows.loc["evolution"], rows.loc["random"]
    below = re_.mean_regret < rs.mean_regret
    separate = re_.ci_high < rs.ci_low
    verdict = "PASS" if below and separate else "FAIL"
    print(
        f"\nsanity check ({verdict}): regularized evolution {re_.mean_regret:.4f} "
        f"[{re_.ci_low:.4f}, {re_.ci_high:.4f}] vs random search {rs.mean_regret:.4f} "
        f"[{rs.ci_low:.4f}, {rs.ci_high:.4f}]: "
        + (
            "below, with non-overlapping 95% CIs"
            if separate and below
            else "evolution is not clearly better here; see the plots"
        )
    )
