"""``compare --objectives``: the multi-objective comparison, written beside the
single-objective outputs of the same runs.

Kept apart from :mod:`nasbench_sim.cli.compare` so that it moves as one piece when ``compare``
becomes a library function: it only parses, calls
:func:`~nasbench_sim.search.mo.experiment.compare_mo`, and writes and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd

import nasbench_sim
from nasbench_sim.atomic import atomic_dir, check_output_dir
from nasbench_sim.bench import Benchmark
from nasbench_sim.cli.core import synthetic_banner
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.search.mo.experiment import MOComparison, compare_mo
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.runs_io import write_runs
from nasbench_sim.strategies import (
    DEFAULT_MO_STRATEGIES,
    DEFAULT_STRATEGIES,
    MO_STRATEGIES,
    lacking_features,
)

__all__ = ["run_compare_mo"]

OUTPUTS = (
    "runs.h5", "final.csv", "summary.csv", "hv_anytime.png", "hv_anytime_queries.png",
    "hv_final.png", "fronts.png", "anytime.png", "anytime_queries.png", "final.png", "meta.json",
)  # fmt: skip


def _strategies(text: str, bench: Benchmark) -> list[str]:
    """Multi-objective strategy names; the single-objective default list means the MO default.
    Those that need what ``bench`` lacks are left out of a default or ``all`` (said so), and
    refused when named."""
    if text == ",".join(DEFAULT_STRATEGIES) or text.strip() == "all":
        pool = DEFAULT_MO_STRATEGIES if text.strip() != "all" else tuple(MO_STRATEGIES)
        names = []
        for name in pool:
            why = lacking_features(MO_STRATEGIES[name], bench)
            if why is None:
                names.append(name)
            else:
                print(f"left out {name}: {why}")
        return names
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in MO_STRATEGIES]
    if unknown or not names:
        raise ValueError(
            f"--objectives needs multi-objective strategies; not one: {unknown or text!r}. "
            f"Allowed: {', '.join(MO_STRATEGIES)}, or 'all'"
        )
    for name in names:
        why = lacking_features(MO_STRATEGIES[name], bench)
        if why is not None:
            raise StrategyConfigError(f"strategy {name!r} {why}")
    return names


def _summary(comp: MOComparison, baseline: str | None) -> pd.DataFrame:
    from analysis.stats import summarize

    summary = summarize(comp.final, baseline=baseline)
    extra = comp.final.groupby("strategy", observed=True)[["igd", "acc_regret"]].mean()
    extra.columns = ["mean_igd", "mean_acc_regret"]
    return summary.merge(extra, left_on="strategy", right_index=True)


def run_compare_mo(args: argparse.Namespace) -> int:
    """The ``compare`` command with ``--objectives``."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    objectives = ObjectiveSet.parse(args.objectives)  # a typo fails before any work
    check_output_dir(args.out, OUTPUTS)
    bench = nasbench_sim.open(args.table)
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    objectives = objectives.bind(bench)
    strategies = _strategies(args.strategies, bench)
    seeds = args.seeds
    budget = parse_budget(args.budget, bench)
    baseline = "mo_random" if args.baseline in (None, "random") else args.baseline
    if baseline == "none":
        baseline = None
    out = Path(args.out)
    jobs = (os.cpu_count() or 1) if args.jobs == -1 else args.jobs
    print(
        f"comparing {len(strategies)} multi-objective strategies x {len(seeds)} seeds on "
        f"{', '.join(f'{o.name} ({o.direction})' for o in objectives.objectives)}; "
        f"{args.workers} simulated worker(s); {jobs} process(es)"
    )
    with tqdm(total=len(strategies) * len(seeds), unit="run", desc="replaying") as bar:
        comp = compare_mo(bench, strategies, seeds, budget, objectives, n_workers=args.workers,
                          n_jobs=jobs, progress=bar.update, registry=MO_STRATEGIES)  # fmt: skip
    summary = _summary(comp, baseline if baseline in strategies else None)
    meta = {
        "table": bench.source.origin,
        "synthetic": bench.source.synthetic,
        "budget": args.budget,
        "settings": comp.settings,
        "reference_point_rule": "objectives as losses scaled to [0, 1] by their minimum and "
        "maximum over all table rows; reference point 1.1 in every coordinate",
        "wall_time_s": time.perf_counter() - t0,
    }
    with atomic_dir(out, OUTPUTS) as folder:  # a whole folder, or none (Ctrl-C, a failure)
        _write(comp, summary, folder, args, bench)
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    _print(comp, summary)
    print(f"\nwrote {out}/: {', '.join(OUTPUTS)}  ({meta['wall_time_s']:.1f} s)")
    return 0


def _write(
    comp: MOComparison,
    summary: pd.DataFrame,
    out: Path,
    args: argparse.Namespace,
    bench: nasbench_sim.Benchmark,
) -> None:
    from analysis.mo_plots import write_mo_plots
    from analysis.plot_style import RunContext
    from analysis.plots import anytime_plot, final_plot
    from analysis.stats import anytime_curves, query_curves, time_grid

    write_runs(comp.runs, out / "runs.h5")
    comp.final.to_csv(out / "final.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    order = list(summary["strategy"])
    ctx = RunContext(
        table=args.table or Path(bench.source.origin).name, n_seeds=len(comp.settings["seeds"]),
        budget=args.budget, budget_s=comp.budget.time_s, budget_queries=comp.budget.queries,
        n_workers=args.workers, synthetic=bench.source.synthetic, dataset=bench.dataset,
    )  # fmt: skip
    write_mo_plots(comp, out, context=ctx, order=order)
    # the same runs judged by the single objective: test regret of the best-validation cell
    acc = comp.runs.drop(columns=["regret"]).rename(columns={"acc_regret": "regret"})
    times = time_grid(acc, end=comp.budget.time_s)
    anytime_plot(anytime_curves(acc, times), times, out / "anytime.png", order=order, context=ctx)
    ks, by_query = query_curves(acc, end=comp.budget.time_s)
    anytime_plot(by_query, ks, out / "anytime_queries.png", order=order, x_axis="queries",
                 context=ctx)  # fmt: skip
    final = comp.final.drop(columns=["final_regret"]).rename(columns={"acc_regret": "final_regret"})
    final_plot(final, out / "final.png", order=order, context=ctx)


def _print(comp: MOComparison, summary: pd.DataFrame) -> None:
    from analysis.plot_style import label

    f = comp.front
    print(
        f"\nexact front: {f.front_rows.size} cells, hypervolume {f.hypervolume:.4f} (objectives "
        "scaled to [0, 1] over the table, reference point 1.1)"
    )
    w = max(24, *(len(label(s)) + 2 for s in summary["strategy"]))
    head = f"{'strategy':<{w}}{'runs':>5}{'HV regret [95% CI]':>30}{'IGD':>8}{'acc regret':>11}"
    p_cols = [c for c in summary.columns if c.startswith("p_vs_")]
    head += "".join(f"{c:>16}" for c in p_cols)
    print(head)
    print("-" * len(head))
    for _, r in summary.iterrows():
        ci = f"{r.mean_regret:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
        line = f"{label(r.strategy):<{w}}{r.runs:>5}{ci:>30}{r.mean_igd:>8.4f}"
        line += f"{r.mean_acc_regret:>11.4f}"
        line += "".join(f"{'—' if r[c] != r[c] else f'{r[c]:.2g}':>16}" for c in p_cols)
        print(line)
