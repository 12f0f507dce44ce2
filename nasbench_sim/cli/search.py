"""``search``: run one strategy once and print its trajectory."""

from __future__ import annotations

import argparse
import json

import numpy as np

import nasbench_sim
from nasbench_sim.cli.args import (
    add_budget_args,
    add_oneshot_args,
    add_search_repeat_arg,
    add_table_arg,
    non_negative_int,
)
from nasbench_sim.cli.notes import open_for_search, search_notes
from nasbench_sim.errors import TableError
from nasbench_sim.registry import Entry
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.search.registry import FEATURE_NEEDS
from nasbench_sim.strategies import STRATEGIES, run, select_strategies, strategy_kwargs

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run one search and print its trajectory")
    p.add_argument(
        "--strategy",
        required=True,
        metavar="NAME",
        help=f"one of: {', '.join(sorted(STRATEGIES))}",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="run seed (the strategy's and the repeat draws), >= 0",
    )
    add_table_arg(p)
    add_budget_args(p)
    add_search_repeat_arg(p)
    add_oneshot_args(p)
    p.add_argument("--json", action="store_true", help="print the whole query log as JSON")
    p.add_argument(
        "--log-out", default=None, help="also write the query log (.csv, or .h5 for HDF5)"
    )
    p.set_defaults(func=_search)

    p = sub.add_parser(
        "strategies",
        help="list every search strategy: its name, what it is, and whether it can run here",
    )
    add_table_arg(p)
    p.set_defaults(func=_strategies)


def _requirements(entry: Entry) -> str:
    """What a strategy needs, in words (modules, stored records, benchmark features)."""
    parts = [f"module {m}" for m in entry.requires]
    parts += [f"a stored {n.partition('/')[2]} super-network" for n in entry.needs]
    parts += [FEATURE_NEEDS.get(f, f) for f in entry.features]
    return "; ".join(parts) or "any benchmark"


def _strategies(args: argparse.Namespace) -> int:
    try:
        bench = nasbench_sim.open(args.table)
    except TableError as exc:
        if args.table is not None:
            raise
        print(f"no table to check against ({exc})\n")
        w = max(len(n) for n in STRATEGIES)
        for name, entry in STRATEGIES.items():
            print(f"{name:<{w}}  {entry.title}\n{'':<{w}}  needs: {_requirements(entry)}")
        return 0
    selection = select_strategies("all", args.table, bench=bench)
    w = max(len(n) for n in STRATEGIES)
    for name, entry in STRATEGIES.items():
        why = selection.left_out.get(name)
        print(f"{name:<{w}}  {entry.title}" + (f"\n{'':<{w}}  not here: {why}" if why else ""))
    print(
        f"\n{len(selection.names)} of {len(STRATEGIES)} can run on "
        f"{args.table or 'the default table'}; `compare --strategies all` runs those"
    )
    return 0


def _search(args: argparse.Namespace) -> int:
    bench = open_for_search(args)
    budget = parse_budget(args.budget, bench)
    select_strategies([args.strategy], args.table, bench=bench)  # unknown, not here: say so
    skw = strategy_kwargs([args.strategy], args.table, spos_candidates=args.spos_candidates)
    result = run(
        args.strategy,
        bench,
        budget,
        args.seed,
        n_workers=args.workers,
        charge_strategy_time=args.charge_strategy_time,
        strategy_kwargs=skw.get(args.strategy),
    )
    log = result.log
    if args.log_out:
        path = str(args.log_out)
        if path.endswith((".h5", ".hdf5")):
            from nasbench_sim.search.runs_io import write_runs

            write_runs(log, path, attrs={"source": bench.source.describe()})
        else:
            log.to_csv(path, index=False)
    if args.json:
        payload = {
            "meta": {**result.meta, "source": bench.source.describe()},
            "final_regret": result.final_regret,
            "log": json.loads(log.to_json(orient="records")),
        }
        print(json.dumps(payload, indent=1))
        return 0
    for note in search_notes(bench):
        print(note)
    print(
        f"{args.strategy}, seed {args.seed}: {len(log)} queries, "
        f"{log['finish'].max() if len(log) else 0:,.0f} simulated s"
    )
    setup = result.meta["setup_cost_s"]
    if setup:
        print(f"super-network cost charged first: {setup:,.0f} simulated s")
    if not len(log):
        print("no query started within the budget")
        return 0
    improved = log.loc[np.r_[True, np.diff(log["incumbent_index"].to_numpy()) != 0]]
    limit = budget.time_s if budget.time_s is not None else np.inf
    print(f"{'time (s)':>12} {'query':>6} {'epochs':>6} {'valid':>7} {'regret':>7}  incumbent")
    for _, r in improved.iterrows():
        late = " (after the budget: not counted)" if r.finish > limit else ""
        print(
            f"{r.finish:>12,.0f} {r.query:>6} {r.epoch:>6} {r.incumbent_valid:>7.4f} "
            f"{r.regret:>7.4f}  {log.loc[r.query, 'arch']}{late}"
        )
    at = f" at the budget ({limit:,.0f} simulated s)" if np.isfinite(limit) else ""
    print(
        f"final regret{at}: {result.final_regret:.4f} (best test accuracy "
        f"{bench.best_test_acc:.4f})"
    )
    return 0
