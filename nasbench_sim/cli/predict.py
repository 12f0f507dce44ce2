"""``predictors`` (evaluate performance predictors on a table) and ``surrogate fit``."""

from __future__ import annotations

import argparse
from typing import Any

import nasbench_sim
from nasbench_sim.atomic import check_output_dir
from nasbench_sim.cli.args import (
    add_table_arg,
    fraction,
    fractions,
    non_negative_int,
    positive_int,
)
from nasbench_sim.cli.progress import progress_bar
from nasbench_sim.errors import NasBenchSimError

__all__ = ["DEFAULT_PREDICTOR_NAMES", "register"]

DEFAULT_PREDICTOR_NAMES = "lcsvr,xgb,gcn,bananas,rf,ridge,knn"
"""predictors.registry.DEFAULT_PREDICTORS, spelled out so that building the parser imports no
predictor (a test keeps the two equal)."""
_DEFAULT_LC_FRACTIONS = "0.1,0.2,0.25,0.3,0.4,0.5,0.6,0.7,0.8,0.9"


class _ArgError(NasBenchSimError, ValueError):
    """A malformed command-line value."""


def _int_list(text: str, flag: str, low: int = 1) -> list[int]:
    try:
        out = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise _ArgError(f"{flag} takes comma-separated integers >= {low}, got {text!r}") from None
    if not out:
        raise _ArgError(f"{flag} is empty")
    if min(out) < low:
        raise _ArgError(f"{flag} takes integers >= {low}, got {text!r}")
    return out


def _train_sizes(text: str) -> list[int]:
    """An argparse type: comma-separated integers >= 2."""
    try:
        return _int_list(text, "--train-sizes", low=2)
    except _ArgError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--train-sizes ")) from None


def _lc_fractions(text: str) -> list[float]:
    """An argparse type: comma-separated numbers in (0, 1], or empty (no LC study)."""
    return fractions(text) if text.strip() else []


def _npz_path(text: str) -> str:
    """An argparse type: a path ending in ``.npz`` (how ``--table`` recognises a surrogate)."""
    if not text.endswith(".npz"):
        raise argparse.ArgumentTypeError(
            f"a surrogate is saved as .npz (--table recognises it by that suffix); got {text!r}"
        )
    return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predictors",
        help="evaluate performance predictors on a table (Kendall tau, Spearman rho, R2, top-5%%)",
    )
    add_table_arg(p)
    p.add_argument(
        "--predictors",
        default=None,
        help="comma-separated registered names (default: "
        f"{DEFAULT_PREDICTOR_NAMES.replace(',', ', ')}; those whose dependencies are installed)",
    )
    p.add_argument(
        "--train-sizes",
        type=_train_sizes,
        default="10,20,50,100,200,500,1000",
        help="comma-separated training-set sizes, each >= 2",
    )
    p.add_argument(
        "--trials", type=positive_int, default=10, help="random splits per training size"
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the splits and fits")
    p.add_argument("--test-size", type=positive_int, default=1000, help="held-out cells per trial")
    p.add_argument(
        "--lc-fractions",
        type=_lc_fractions,
        default=_DEFAULT_LC_FRACTIONS,
        help="curve fractions in (0, 1] for the LC-SVR study (empty string: skip it)",
    )
    p.add_argument(
        "--lc-train", type=positive_int, default=200, help="training curves of the LC study"
    )
    p.add_argument("--no-plots", action="store_true", help="write CSV files only")
    p.add_argument("--out", required=True, help="output folder, written as a whole")
    p.set_defaults(func=_predictors)

    s = sub.add_parser("surrogate", help="surrogate benchmarks fitted on part of a table")
    ssub = s.add_subparsers(dest="surrogate_command", metavar="SUBCOMMAND")
    f = ssub.add_parser("fit", help="fit a surrogate benchmark and save it")
    add_table_arg(f)
    f.add_argument(
        "--fraction", type=fraction, default=0.2, help="fraction of table rows to fit on, (0, 1]"
    )
    f.add_argument(
        "--predictor",
        default="xgb",
        help="registered predictor of the curve model, one that needs no learning curve: xgb, "
        "rf, gcn, bananas, ridge, knn",
    )
    f.add_argument("--seed", type=non_negative_int, default=0, help="seed of the fit")
    f.add_argument("--out", type=_npz_path, required=True, help="output surrogate file (.npz)")
    f.set_defaults(func=_surrogate_fit)
    s.set_defaults(func=lambda args: _usage(s))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _progress_bar(desc: str) -> tuple[Any, Any]:
    bar = progress_bar(total=0, desc=desc, unit="fit", leave=False)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    return bar, update


def _lacks(name: str, bench: Any) -> str | None:
    """Why predictor ``name`` cannot run on ``bench`` (what it needs of it), or ``None``."""
    from predictors.registry import PREDICTORS

    missing = [f for f in PREDICTORS[name].features if f not in bench.features]
    if not missing:
        return None
    return (
        f"needs per-epoch learning curves; the {bench.space.name!r} benchmark answers budgets "
        f"{', '.join(map(str, bench.budgets))} epochs, each a separate training run"
        if missing == ["curves"]
        else f"needs {', '.join(missing)}, which this benchmark does not offer"
    )


def _predictor_names(text: str | None, bench: Any) -> list[str]:
    """The predictors to evaluate: the named ones (each checked now), or the installed
    defaults that can run on ``bench``, saying which were left out and why."""
    from predictors.registry import DEFAULT_PREDICTORS, PREDICTORS

    if text is None:
        missing = PREDICTORS.unavailable()
        names = []
        for name in DEFAULT_PREDICTORS:
            why = missing.get(name) or _lacks(name, bench)
            if why:
                print(f"left out {name}: {why}")
            else:
                names.append(name)
        return names
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise _ArgError("--predictors is empty; give names like xgb,rf or leave it out")
    for name in names:
        PREDICTORS.load(name)  # unknown, or a missing dependency: say so before any work
        why = _lacks(name, bench)
        if why:
            raise _ArgError(f"--predictors: {name} {why}")
    return names


def _predictors(args: argparse.Namespace) -> int:
    from analysis.predictor_plots import PREDICTOR_FILES, write_predictor_study
    from nasbench_sim.cli.notes import synthetic_banner
    from predictors.evaluate import predictor_study

    check_output_dir(args.out, PREDICTOR_FILES)
    bench = nasbench_sim.open(args.table)
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    names = _predictor_names(args.predictors, bench)
    fractions = args.lc_fractions
    if fractions and _lacks("lcsvr", bench):
        print(f"skipped the LC-SVR curve study: LC-SVR {_lacks('lcsvr', bench)}")
        fractions = []
    bar, update = _progress_bar("predictors")
    try:
        study = predictor_study(
            bench,
            names,
            args.train_sizes,
            trials=args.trials,
            seed=args.seed,
            test_size=args.test_size,
            lc_fractions=fractions,
            lc_train=args.lc_train,
            progress=update,
        )
    finally:
        bar.close()
    _print_study(study, args)
    from analysis.plot_style import source_heading

    written = write_predictor_study(
        study, args.out, plots=not args.no_plots, synthetic=banner is not None,
        heading=source_heading(bench.source, bench.dataset),
    )  # fmt: skip
    print(f"wrote {args.out}/: " + ", ".join(p.name for p in written))
    return 0


_COLUMNS = [
    "predictor",
    "train_size",
    "kendall_tau",
    "kendall_tau_ci",
    "spearman_rho",
    "r2",
    "precision_top5",
    "fit_time_s",
    "predict_time_s",
]


def _print_study(study: Any, args: argparse.Namespace) -> None:
    from predictors.evaluate import summarize

    summary = summarize(study.frame)
    print(
        f"predictor scores (mean over {args.trials} trials, ±: 95% CI half-width; "
        f"{args.test_size} test cells):"
    )
    print(summary[_COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if study.lc is not None:
        lcs = summarize(study.lc, by=("fraction", "epochs"), metrics=("r2", "kendall_tau"))
        print(f"LC-SVR with {args.lc_train} training curves, by fraction of curve observed:")
        print(
            lcs[["fraction", "epochs", "r2", "r2_ci", "kendall_tau"]].to_string(
                index=False, float_format=lambda v: f"{v:.3f}"
            )
        )
    ceiling = study.noise_ceiling
    print(f"noise ceiling (Kendall τ between repeats 0 and 1, final valid acc): {ceiling:.3f}")
    _headline(summary, study.lc, ceiling, args)


def _headline(summary: Any, lc: Any, ceiling: float, args: argparse.Namespace) -> None:
    """The figures worth quoting: τ at the largest training size, LC-SVR R² at 25%."""
    n = int(summary["train_size"].max())
    top = summary[summary["train_size"] == n].sort_values("kendall_tau", ascending=False)
    print(f"--- headline ({args.trials} trials, {args.test_size} test cells) ---")
    for _, r in top.iterrows():
        print(
            f"{r['predictor']:>9}: Kendall τ at {n} training cells {r['kendall_tau']:.3f} "
            f"± {r['kendall_tau_ci']:.3f}; fit {r['fit_time_s']:.3f} s, "
            f"predict {1e3 * r['predict_time_s']:.2f} ms"
        )
    if lc is not None and (lc["fraction"] == 0.25).any():
        r2 = lc.loc[lc["fraction"] == 0.25, "r2"]
        print(
            f"LC-SVR R² from 25% of the curve, {args.lc_train} training curves: "
            f"{r2.mean():.3f} (sd {r2.std(ddof=1) if len(r2) > 1 else 0.0:.3f})"
        )
    print(f"noise ceiling τ: {ceiling:.3f}")


def _surrogate_fit(args: argparse.Namespace) -> int:
    from nasbench_sim.cli.notes import synthetic_banner
    from predictors.surrogate import fit_surrogate

    bench = nasbench_sim.open(args.table)
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    surrogate = fit_surrogate(bench, args.fraction, args.predictor, args.seed)
    path = surrogate.save(args.out)
    r = surrogate.fit_report
    print(
        f"fitted a surrogate on {r.n_fit} of {r.n_rows} rows ({r.predictor}, "
        f"{r.n_components} curve components, {100 * r.explained_variance:.2f}% of curve "
        f"variance); Kendall τ of final valid acc on the {r.n_rows - r.n_fit} held-out rows: "
        f"{r.heldout_tau:.3f}"
    )
    print(f"wrote {path}")
    return 0
