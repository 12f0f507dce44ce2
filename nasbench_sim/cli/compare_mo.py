"""``compare --objectives``: parse the arguments, call :func:`analysis.compare_mo.compare_mo`,
write and print."""

from __future__ import annotations

import argparse
import time
from typing import Any

from nasbench_sim.atomic import check_output_dir
from nasbench_sim.bench import Benchmark
from nasbench_sim.cli.notes import open_for_search, search_notes
from nasbench_sim.cli.progress import progress_bar
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.strategies import (
    DEFAULT_MO_STRATEGIES,
    DEFAULT_STRATEGIES,
    MO_STRATEGIES,
    lacking_features,
)

__all__ = ["run_compare_mo"]


def _strategies(text: str, bench: Benchmark) -> list[str]:
    """Multi-objective strategy names; the single-objective default list means the MO default.
    Those that need what ``bench`` lacks (or a module that is not installed) are left out of a
    default or ``all`` (said so), and refused when named."""
    if text == ",".join(DEFAULT_STRATEGIES) or text.strip() == "all":
        pool = DEFAULT_MO_STRATEGIES if text.strip() != "all" else tuple(MO_STRATEGIES)
        missing = MO_STRATEGIES.unavailable()
        names = []
        for name in pool:
            why = missing.get(name) or lacking_features(MO_STRATEGIES[name], bench)
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
        MO_STRATEGIES.load(name)  # a missing optional dependency: say so before any work
        why = lacking_features(MO_STRATEGIES[name], bench)
        if why is not None:
            raise StrategyConfigError(f"strategy {name!r} {why}")
    return names


def _baseline(given: str | None, names: list[str]) -> str | None:
    """The paired test's baseline: ``mo_random`` by default (or for ``random``)."""
    if given == "none":
        return None
    if given in (None, "random"):
        return "mo_random" if "mo_random" in names else None
    if given not in names:
        raise ValueError(
            f"--baseline {given!r} is not among the strategies ({', '.join(names)}); give one "
            "of them, or 'none'"
        )
    return given


def _setup(args: argparse.Namespace, outputs: tuple[str, ...]) -> dict[str, Any]:
    """Everything checked and opened before any work starts."""
    objectives = ObjectiveSet.parse(args.objectives)  # a typo fails before any work
    check_output_dir(args.out, outputs)
    bench = open_for_search(args)
    for note in search_notes(bench):
        print(note)
    objectives = objectives.bind(bench)
    strategies = _strategies(args.strategies, bench)
    parse_budget(args.budget, bench)  # "1h" on a table without times: refused now
    return {"bench": bench, "objectives": objectives, "strategies": strategies,
            "baseline": _baseline(args.baseline, strategies)}  # fmt: skip


def run_compare_mo(args: argparse.Namespace, jobs: int) -> int:
    """The ``compare`` command with ``--objectives`` (``jobs``: processes)."""
    from analysis.compare_mo import (
        MO_OUTPUT_FILES,
        compare_mo,
        format_mo_summary,
        write_mo_comparison,
    )

    s = _setup(args, MO_OUTPUT_FILES)
    bench, names, objectives = s["bench"], s["strategies"], s["objectives"]
    print(
        f"comparing {len(names)} multi-objective strategies x {len(args.seeds)} seeds on "
        f"{', '.join(f'{o.name} ({o.direction})' for o in objectives.objectives)}; "
        f"budget {args.budget}; {args.workers} simulated worker(s); {jobs} process(es)"
    )
    with progress_bar(total=len(names) * len(args.seeds), unit="run", desc="replaying") as bar:
        comp = compare_mo(
            bench, names, args.seeds, args.budget, objectives, baseline=s["baseline"],
            n_workers=args.workers, n_jobs=jobs, progress=bar.update,
        )  # fmt: skip
    t0 = time.perf_counter()
    files = write_mo_comparison(comp, args.out)
    missing = int(comp.replays.final["no_result"].sum())
    if missing:
        print(
            f"note: {missing} run(s) got no result within the budget; each is scored with an "
            "empty front (hypervolume regret = the exact front's hypervolume) and counted in "
            "summary.csv's no_result column"
        )
    print()
    print(format_mo_summary(comp))
    took = comp.wall_time_s + time.perf_counter() - t0
    print(f"\nwrote {args.out}/: {', '.join(f.name for f in files)}  ({took:.1f} s)")
    return 0
