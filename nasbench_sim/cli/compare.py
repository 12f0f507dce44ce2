"""``compare``: the main job — many seeded searches per strategy, a summary and plots."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from nasbench_sim.bench import Benchmark, Budget
from nasbench_sim.cli.core import (
    describe_source,
    is_synthetic,
    load_bench,
    stored_methods,
    synthetic_banner,
    table_file,
)
from nasbench_sim.cli.search import add_budget_args, add_oneshot_args, parse_seeds
from nasbench_sim.oneshot.strategy import describe_records, oneshot_kwargs
from nasbench_sim.search import DEFAULT_STRATEGIES, available_strategies
from nasbench_sim.search.experiment import parse_budget, run_many
from nasbench_sim.search.registry import strategy_class
from nasbench_sim.search.runs_io import write_runs

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare search strategies over many seeds; writes a summary and plots",
        description=(
            "Replay every strategy with every seed against a table under a simulated-time "
            "budget and write runs.h5, summary.csv, anytime.png (regret against simulated "
            "time), anytime_queries.png (against results received) and final.png."
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
    add_oneshot_args(p)
    p.add_argument(
        "--jobs", type=int, default=-1, help="processes to spread the runs over (-1: all cores)"
    )
    p.add_argument("--baseline", default="random", help="strategy for the paired test")
    p.add_argument(
        "--objectives",
        default=None,
        help="multi-objective comparison: metrics or costs with directions, e.g. "
        "'valid_acc,latency_s' or 'valid_acc:max,params:min'; scored by hypervolume regret "
        "against the table's exact front (strategies: mo_random, mo_evolution, "
        "mo_local_search, mo_nsga2, mo_tpe, mo_parego)",
    )
    p.add_argument("--out", default="results/compare", help="output folder")
    p.set_defaults(func=_compare)

    p = sub.add_parser(
        "audit",
        help="how far surrogates fitted on part of a table move a comparison",
        description=(
            "Run the same comparison on the table and on surrogate benchmarks fitted on "
            "fractions of it; report how much each surrogate moves each strategy's mean final "
            "regret and the Kendall tau between the strategy rankings."
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
    p.add_argument("--seeds", default="30", help="N, A-B or a list (default 30)")
    add_budget_args(p)
    add_oneshot_args(p)
    p.add_argument("--fractions", default="0.01,0.05,0.2", help="table fractions to fit on")
    p.add_argument("--predictor", default="xgb", help="predictor of the surrogates")
    p.add_argument("--surrogate-seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=-1, help="processes (-1: all cores)")
    p.add_argument("--out", default="results/audit", help="output folder")
    p.set_defaults(func=_audit)


def _strategies(text: str, table: str | None) -> list[str]:
    """The names in ``text``; ``all``: every black-box strategy plus the weight-sharing
    replays whose super-networks the table file stores."""
    if text.strip() == "all":
        return available_strategies(weight_sharing=False) + stored_methods(table_file(table))
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ValueError("--strategies is empty; give names like 'random,evolution' or 'all'")
    for name in names:
        strategy_class(name)  # an unknown name fails here, listing the known ones
    return names


def _weight_sharing_kwargs(
    args: argparse.Namespace, strategies: list[str]
) -> dict[str, dict[str, Any]]:
    """The stored super-networks of the weight-sharing strategies, with a line on each."""
    kwargs = oneshot_kwargs(
        table_file(args.table), strategies, spos_candidates=args.spos_candidates
    )
    for line in describe_records(kwargs):
        print(line)
    return kwargs


def _compare(args: argparse.Namespace) -> int:
    if args.objectives:
        from nasbench_sim.cli.compare_mo import run_compare_mo

        return run_compare_mo(args)
    from tqdm import tqdm

    from analysis.plots import RunContext, anytime_plot, final_plot, label
    from analysis.stats import anytime_curves, query_curves, summarize, time_grid

    t0 = time.perf_counter()
    bench = load_bench(args.table)
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    strategies = _strategies(args.strategies, args.table)
    skw = _weight_sharing_kwargs(args, strategies)
    seeds = parse_seeds(args.seeds)
    budget = parse_budget(args.budget, bench)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = (os.cpu_count() or 1) if args.jobs == -1 else args.jobs
    print(
        f"comparing {len(strategies)} strategies x {len(seeds)} seeds on {bench.dataset} "
        f"({describe_source(bench)}); budget: {_budget_text(budget)}; "
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
            strategy_kwargs=skw,
            progress=bar.update,
        )
    empty = comp.final[comp.final["n_queries"] == 0]
    if len(empty):
        names = ", ".join(sorted(set(empty["strategy"])))
        print(
            f"warning: {len(empty)} run(s) of {names} started no training within the budget "
            "(a set-up cost such as a super-network at or above the budget); their final regret "
            "is undefined and left out of the summary"
        )
    write_runs(comp.runs, out / "runs.h5")
    comp.final.to_csv(out / "final.csv", index=False)
    baseline = args.baseline if args.baseline in strategies else None
    summary = summarize(comp.final, baseline=baseline)
    summary.to_csv(out / "summary.csv", index=False)

    times = time_grid(comp.runs, end=budget.time_s)
    curves = anytime_curves(comp.runs, times)
    order = list(summary["strategy"])
    ctx = RunContext(
        table=Path(table_file(args.table) or "").name if args.table is None else args.table,
        n_seeds=len(seeds),
        budget=args.budget,
        budget_s=budget.time_s,
        budget_queries=budget.queries,
        n_workers=args.workers,
        synthetic=is_synthetic(bench),
        dataset=bench.dataset,
    )
    anytime_plot(curves, times, out / "anytime.png", order=order, context=ctx)
    ks, by_query = query_curves(comp.runs, end=budget.time_s)
    anytime_plot(
        by_query, ks, out / "anytime_queries.png", order=order, x_axis="queries", context=ctx
    )
    final_plot(comp.final, out / "final.png", order=order, context=ctx)
    meta = {
        "table": args.table or "default",
        "dataset": bench.dataset,
        "synthetic": is_synthetic(bench),
        "source": describe_source(bench),
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
        f"\nwrote {out}/: runs.h5, final.csv, summary.csv, anytime.png, anytime_queries.png, "
        "final.png, meta.json"
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
    w = max([24, *(len(label(s)) + 2 for s in summary["strategy"])])  # the longest name fits
    head = f"{'strategy':<{w}}{'runs':>5}{'mean regret [95% CI]':>30}{'median':>9}{'rank':>6}"
    pw = {c: max(14, len(c) + 2) for c in cols}
    head += "".join(f"{c:>{pw[c]}}" for c in cols)
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        ci = f"{r.mean_regret:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
        line = (
            f"{label(r.strategy):<{w}}{r.runs:>5}{ci:>30}{r.median_regret:>9.4f}{r.mean_rank:>6.2f}"
        )
        for c in cols:
            v = r[c]
            line += f"{'—':>{pw[c]}}" if v != v else f"{v:>{pw[c]}.2g}"
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


def _fractions(text: str) -> list[float]:
    try:
        fr = [float(f) for f in text.split(",") if f.strip()]
    except ValueError:
        fr = []
    if not fr or any(not 0.0 < f <= 1.0 for f in fr):
        raise ValueError(f"--fractions must be numbers in (0, 1], e.g. 0.01,0.05,0.2; got {text!r}")
    return fr


def _audit(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analysis.plots import audit_plot, label
    from analysis.stats import ranking_agreement, summarize
    from predictors.surrogate import fit_surrogate

    t0 = time.perf_counter()
    bench = load_bench(args.table)
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    strategies = _strategies(args.strategies, args.table)
    skw = _weight_sharing_kwargs(args, strategies)
    seeds = parse_seeds(args.seeds)
    fractions = _fractions(args.fractions)
    budget = parse_budget(args.budget, bench)  # the same simulated budget everywhere
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = (os.cpu_count() or 1) if args.jobs == -1 else args.jobs
    sources: list[tuple[str, Benchmark]] = [("table", bench)]
    for f in fractions:
        sur = fit_surrogate(bench, fraction=f, predictor=args.predictor, seed=args.surrogate_seed)
        sources.append((f"surrogate {100 * f:g}%", sur))
    frames = []
    total = len(sources) * len(strategies) * len(seeds)
    with tqdm(total=total, unit="run", desc="replaying") as bar:
        for name, b in sources:
            comp = run_many(
                b,
                strategies,
                seeds,
                budget,
                n_workers=args.workers,
                n_jobs=jobs,
                strategy_kwargs=skw,
                progress=bar.update,
            )
            s = summarize(comp.final, baseline=None).assign(source=name)
            frames.append(s)
    summary = pd.concat(frames, ignore_index=True)
    ref = summary[summary["source"] == "table"].set_index("strategy")["mean_regret"]
    rows = []
    for name, _ in sources[1:]:
        other = summary[summary["source"] == name].set_index("strategy")["mean_regret"]
        shift = (other - ref).reindex(ref.index)
        rows.append(
            {
                "source": name,
                "kendall_tau_vs_table": ranking_agreement(ref, other),
                "mean_abs_shift": float(shift.abs().mean()),
                "max_abs_shift": float(shift.abs().max()),
                **{f"shift_{k}": float(v) for k, v in shift.items()},
            }
        )
    agreement = pd.DataFrame(rows)
    summary.to_csv(out / "audit_summary.csv", index=False)
    agreement.to_csv(out / "audit.csv", index=False)
    taus = ", ".join(
        f"{r.source.removeprefix('surrogate ')}: {r.kendall_tau_vs_table:.2f}"
        for r in agreement.itertuples()
    )
    title = f"{bench.dataset}, {len(seeds)} seeds; surrogates ({args.predictor}) fitted on a "
    title += f"fraction of the table\nKendall τ of the strategy ranking vs the table: {taus}"
    audit_plot(summary, out / "audit.png", title=title)
    print()
    head = f"{'source':<18}{'tau vs table':>14}{'mean |shift|':>14}{'max |shift|':>13}"
    print(head)
    print("-" * len(head))
    for r in agreement.itertuples():
        print(
            f"{r.source:<18}{r.kendall_tau_vs_table:>14.2f}{r.mean_abs_shift:>14.4f}"
            f"{r.max_abs_shift:>13.4f}"
        )
    print("\nmean final regret per strategy (rows) and source (columns):")
    wide = summary.pivot_table(index="strategy", columns="source", values="mean_regret")
    wide = wide[[n for n, _ in sources]].loc[list(ref.sort_values().index)]
    wide.index = [label(str(i)) for i in wide.index]
    print(wide.to_string(float_format=lambda v: f"{v:.4f}"))
    print(
        f"\nwrote {out}/: audit.csv, audit_summary.csv, audit.png "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    return 0
