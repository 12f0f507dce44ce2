"""``compare`` and ``audit``: parse the arguments, call :func:`analysis.compare.compare` /
:func:`analysis.audit.audit`, print."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

from nasbench_sim.atomic import check_output_dir
from nasbench_sim.cli.args import (
    add_budget_args,
    add_oneshot_args,
    add_search_repeat_arg,
    add_table_arg,
    fractions,
    jobs,
    seeds,
)
from nasbench_sim.cli.notes import open_for_search, search_notes
from nasbench_sim.cli.progress import progress_bar
from nasbench_sim.oneshot.strategy import describe_records
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.strategies import DEFAULT_STRATEGIES, select_strategies, strategy_kwargs

__all__ = ["register"]


def _common(p: argparse.ArgumentParser, n_seeds: str) -> None:
    add_table_arg(p)
    p.add_argument(
        "--strategies",
        default=",".join(DEFAULT_STRATEGIES),
        metavar="NAMES",
        help="comma-separated strategy names (see `nasbench-sim strategies`), or 'all': every "
        "strategy that can run on this table, the others listed with the reason (default: "
        f"{', '.join(DEFAULT_STRATEGIES)})",
    )
    p.add_argument(
        "--seeds",
        type=seeds,
        default=n_seeds,
        help=f"N (seeds 0..N-1), A-B, or a comma-separated list (default: {n_seeds})",
    )
    add_budget_args(p)
    add_oneshot_args(p)
    p.add_argument(
        "--jobs",
        type=jobs,
        default=-1,
        help="processes to spread the runs over, >= 1, or -1 for all cores (default: -1)",
    )


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
    _common(p, "100")
    add_search_repeat_arg(p)
    p.add_argument(
        "--baseline",
        default=None,
        metavar="NAME",
        help="strategy of the paired Wilcoxon test, one of --strategies, or 'none' (default: "
        "random, when it is among the strategies)",
    )
    p.add_argument(
        "--objectives",
        default=None,
        metavar="NAMES",
        help="multi-objective comparison: metrics or costs with directions, e.g. "
        "'valid_acc,latency_s' or 'valid_acc:max,params:min'; scored by hypervolume regret "
        "against the table's exact front (strategies: mo_random, mo_evolution, "
        "mo_local_search, mo_nsga2, mo_tpe, mo_parego)",
    )
    p.add_argument(
        "--out",
        default="results/compare",
        help="output folder, written as a whole (default: results/compare)",
    )
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
    _common(p, "30")
    p.add_argument(
        "--fractions",
        type=fractions,
        default="0.01,0.05,0.2",
        help="fractions of the table's rows to fit a surrogate on, each in (0, 1]",
    )
    p.add_argument(
        "--predictor",
        default="xgb",
        metavar="NAME",
        help="registered predictor of the surrogates (one that needs no learning curve: xgb, "
        "rf, gcn, bananas, ridge, knn)",
    )
    p.add_argument("--surrogate-seed", type=int, default=0, help="seed of the surrogates' fits")
    p.add_argument(
        "--out",
        default="results/audit",
        help="output folder, written as a whole (default: results/audit)",
    )
    p.set_defaults(func=_audit)


def _jobs(value: int) -> int:
    return (os.cpu_count() or 1) if value == -1 else value


def _baseline(given: str | None, names: tuple[str, ...]) -> str | None:
    """The paired test's baseline (``None``: no test), checked against the strategies."""
    if given is None:
        if "random" in names:
            return "random"
        print("no paired test: random search is not among the strategies (--baseline NAME)")
        return None
    if given == "none":
        return None
    if given not in names:
        raise ValueError(
            f"--baseline {given!r} is not among the strategies ({', '.join(names)}); give one "
            "of them, or 'none'"
        )
    return given


def _setup(args: argparse.Namespace, outputs: tuple[str, ...]) -> dict[str, Any]:
    """Everything both commands check and open before any work starts."""
    check_output_dir(args.out, outputs)
    bench = open_for_search(args)
    for note in search_notes(bench):
        print(note)
    selection = select_strategies(args.strategies, args.table, bench=bench)
    for name, why in selection.left_out.items():
        print(f"left out {name}: {why}")
    baseline = _baseline(getattr(args, "baseline", "none"), selection.names)
    skw = strategy_kwargs(selection.names, args.table, spos_candidates=args.spos_candidates)
    for line in describe_records(skw):
        print(line)
    return {
        "bench": bench,
        "selection": selection,
        "strategy_kwargs": skw,
        "seeds": args.seeds,
        "budget": parse_budget(args.budget, bench),
        "jobs": _jobs(args.jobs),
        "baseline": baseline,
    }


def _progress(total: int) -> Any:
    return progress_bar(total=total, unit="run", desc="replaying")


def _note_runs(final: Any, flag: str, text: str) -> None:
    """Print ``note: N run(s) <text>`` for the runs whose boolean column ``flag`` is set,
    ``{who}`` in ``text`` naming how many of each strategy."""
    marked = final[final[flag]]
    if len(marked):
        counts = marked.groupby("strategy", observed=True).size()
        who = ", ".join(f"{n} of {name}" for name, n in counts.items())
        print(f"note: {len(marked)} run(s) " + text.format(who=who))


def _where_they_coincide(
    same: list[str], timed: list[list[str]], label: Callable[[str], str]
) -> str:
    """Which plots show the lines of strategies that made the same queries as one: all of
    them, or (charged their own compute time) only those against results received, save the
    subgroups that also finish at the same times."""
    if same in timed:
        return "their lines coincide in the plots"
    text = (
        "their lines coincide against results received (anytime_queries.png, final.png); "
        "charged their own compute time, they finish at other times"
    )
    for sub in (g for g in timed if set(g) <= set(same)):
        text += f", except {' and '.join(label(n) for n in sub)}, whose times agree too"
    return text


def _compare(args: argparse.Namespace) -> int:
    if args.objectives:
        from nasbench_sim.cli.compare_mo import run_compare_mo

        return run_compare_mo(args, _jobs(args.jobs))
    from analysis.compare import (
        OUTPUT_FILES,
        compare,
        format_summary,
        identical_strategies,
        regret_landscape,
        sanity_check,
        write_comparison,
    )
    from analysis.plots import label

    s = _setup(args, OUTPUT_FILES)
    bench, names = s["bench"], s["selection"].names
    source = bench.source.describe()
    if bench.dataset.lower() not in source.lower():
        source += f", dataset {bench.dataset}"
    print(
        f"comparing {len(names)} strategies x {len(s['seeds'])} seeds on {source}; budget "
        f"{args.budget} = {s['budget'].describe()}; {args.workers} simulated worker(s); "
        f"{s['jobs']} process(es)"
    )
    with _progress(len(names) * len(s["seeds"])) as bar:
        comp = compare(
            bench,
            names,
            s["seeds"],
            args.budget,  # checked in _setup; the text form titles the plots
            baseline=s["baseline"],
            n_workers=args.workers,
            n_jobs=s["jobs"],
            charge_strategy_time=args.charge_strategy_time,
            strategy_kwargs=s["strategy_kwargs"],
            left_out=s["selection"].left_out,
            progress=bar.update,
        )
    _note_runs(
        comp.replays.final, "no_result",
        "got no result within the budget ({who}); each is scored with the regret of an "
        f"untrained guess, {comp.no_result_regret:.4f} (the best test accuracy minus the mean "
        "over the benchmark's cells), and counted in summary.csv's no_result column",
    )  # fmt: skip
    _note_runs(
        comp.replays.final, "unscored",
        "ended on an incumbent that the benchmark has no test accuracy for ({who}); they are "
        "left out of the statistics and plots and counted in summary.csv's unscored column",
    )  # fmt: skip
    t0 = time.perf_counter()
    files = write_comparison(comp, args.out)
    print()
    print(format_summary(comp.summary))
    timed = identical_strategies(comp.replays.runs, times=True)
    for same in identical_strategies(comp.replays.runs):
        print(
            f"\nnote: {' and '.join(label(n) for n in same)} made the same queries in every "
            f"seed: {_where_they_coincide(same, timed, label)}"
        )
    check = sanity_check(comp.replays.final)
    if check is not None:
        print(f"\nsanity check ({'PASS' if check[0] else 'not met'}): {check[1]}")
        if not check[0]:
            print(f"regret scale of this table: {regret_landscape(s['bench'], s['seeds'])}")
    took = comp.wall_time_s + time.perf_counter() - t0
    print(f"\nwrote {args.out}/: {', '.join(f.name for f in files)}  ({took:.1f} s)")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from analysis.audit import OUTPUT_FILES, audit, write_audit
    from analysis.plots import label
    from predictors.surrogate import surrogate_predictor

    t0 = time.perf_counter()
    fractions = args.fractions
    surrogate_predictor(args.predictor)  # unknown, not installed or curve-based: say so now
    s = _setup(args, OUTPUT_FILES)
    names = s["selection"].names
    with _progress((len(fractions) + 1) * len(names) * len(s["seeds"])) as bar:
        result = audit(
            s["bench"],
            names,
            s["seeds"],
            args.budget,  # checked in _setup; the text form titles the plot
            fractions,
            predictor=args.predictor,
            surrogate_seed=args.surrogate_seed,
            n_workers=args.workers,
            n_jobs=s["jobs"],
            strategy_kwargs=s["strategy_kwargs"],
            progress=bar.update,
        )
    files = write_audit(result, args.out)
    print()
    head = f"{'source':<18}{'tau vs table':>14}{'mean |shift|':>14}{'max |shift|':>13}"
    print(head)
    print("-" * len(head))
    for r in result.agreement.itertuples():
        print(
            f"{r.source:<18}{r.kendall_tau_vs_table:>14.2f}{r.mean_abs_shift:>14.4f}"
            f"{r.max_abs_shift:>13.4f}"
        )
    print("\nmean final regret per strategy (rows) and source (columns):")
    wide = result.regret_table()
    wide.index = [label(str(i)) for i in wide.index]
    print(wide.to_string(float_format=lambda v: f"{v:.4f}"))
    names_written = ", ".join(f.name for f in files)
    print(f"\nwrote {args.out}/: {names_written} ({time.perf_counter() - t0:.1f} s)")
    return 0
