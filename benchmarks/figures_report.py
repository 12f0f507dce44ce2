"""One Markdown report of every figure that ``benchmarks/default_table_figures.sh`` measured.

The README and the docs quote the default table's figures from this report, so that no number
is copied by hand out of a CSV file or a log. It reads the script's output folder (each
stage's log with its command and times, the comparisons' ``summary.csv``, the predictors'
``predictors.csv``, the audit's ``audit.csv``, the gap study's ``gap.json``) and writes
``OUT/report.md``; stages that have not run yet are listed as missing.

    python benchmarks/figures_report.py results/default_table_figures
    python benchmarks/figures_report.py results/default_table_figures_quick --stdout
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import pandas as pd

from analysis.summary_text import format_diff, format_p, p_column

COMPARISONS = (  # folder, stage log, what it compares
    ("compare", "01_compare", "the default strategies"),
    ("compare_mean", "01_compare_mean", "the default strategies, queries reading the seed mean"),
    ("multifidelity_w1", "02_multifidelity_w1", "multi-fidelity strategies, 1 worker"),
    ("multifidelity_w8", "02_multifidelity_w8", "multi-fidelity strategies, 8 workers"),
    ("tpe", "03_tpe", "Optuna's TPE with and without Hyperband pruning"),
    ("multiobjective", "04_multiobjective", "multi-objective strategies (hypervolume regret)"),
    ("oneshot_vs_blackbox", "10_oneshot_vs_blackbox", "one-shot against black-box search"),
    ("spos_candidates", "11_spos_candidates", "SPOS scoring 1,000 evolved candidates"),
)


def _num(v: object, digits: int = 4) -> str:
    """A cell of the report: ``digits`` significant digits, whole numbers from 1,000 up."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _ran(info: dict[str, object]) -> str:
    """A stage's command and its times, as the report quotes them."""
    return f"`{info['command']}`: {_num(info['wall_s'], 3)} s wall, {_num(info['cpu_s'], 3)} s CPU"


def _markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(_num(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([head, rule, *rows])


def stage_log(out: Path, name: str) -> dict[str, object] | None:
    """A stage's command, whether it finished, and its wall and CPU seconds (``None`` when
    the stage has not run)."""
    path = out / f"{name}.log"
    if not path.is_file():
        return None
    text = path.read_text()
    lines = text.splitlines()
    times = re.search(r"^# wall ([\d.]+) s, user ([\d.]+) s, sys ([\d.]+) s$", text, re.M)
    return {
        "command": lines[0].removeprefix("# ") if lines else "",
        "done": bool(lines) and lines[-1].startswith("# done"),
        "wall_s": float(times[1]) if times else math.nan,
        "cpu_s": float(times[2]) + float(times[3]) if times else math.nan,
        "text": text,
    }


def _comparison(out: Path, folder: str, log: str, what: str) -> list[str]:
    info, summary = stage_log(out, log), out / folder / "summary.csv"
    if info is None or not info["done"] or not summary.is_file():
        return [f"### {what}", "", f"not measured yet (`{out / folder}` missing or unfinished)"]
    s = pd.read_csv(summary)
    cols: dict[str, object] = {
        "strategy": s["strategy"],
        "runs": s["runs"],
        "mean regret [95% CI]": [
            f"{m:.4f} [{lo:.4f}, {hi:.4f}]"
            for m, lo, hi in zip(s["mean_regret"], s["ci_low"], s["ci_high"], strict=True)
        ],
        "median": [f"{m:.4f}" for m in s["median_regret"]],
        "mean rank": s["mean_rank"],
    }
    p_col = next((c for c in s.columns if c.startswith("p_vs_")), None)  # none: no baseline
    if p_col is not None:  # paired by seed: the mean difference, its CI, Holm's p
        b = p_col.removeprefix("p_vs_")
        if f"diff_vs_{b}" in s:
            cols[f"minus {b} [95% CI]"] = [
                format_diff(d, lo, hi)
                for d, lo, hi in zip(
                    s[f"diff_vs_{b}"], s[f"diff_ci_low_vs_{b}"], s[f"diff_ci_high_vs_{b}"],
                    strict=True,
                )
            ]  # fmt: skip
        shown, title = p_column(s, b)
        cols[title] = [format_p(v) for v in s[shown]]
    for extra in ("mean_igd", "mean_acc_regret", "no_result", "unscored"):
        if extra in s and (extra.startswith("mean") or (s[extra] > 0).any()):
            cols[extra.replace("_", " ")] = s[extra]
    said = [  # what compare concluded: its notes, sanity check and the table's regret scale
        f"- {ln}"
        for ln in str(info["text"]).splitlines()
        if ln.startswith(("note:", "sanity check", "regret scale"))
    ]
    return [f"### {what}", "", _ran(info), "", _markdown(pd.DataFrame(cols)), "", *said]


def _predictors(out: Path) -> list[str]:
    from predictors.evaluate import summarize

    info, path = stage_log(out, "05_predictors"), out / "predictors" / "predictors.csv"
    if info is None or not info["done"] or not path.is_file():
        return ["### predictors", "", "not measured yet"]
    metrics = ["kendall_tau", "spearman_rho", "r2", "precision_top5", "fit_time_s"]
    summary = summarize(pd.read_csv(path), metrics=metrics)
    table = summary[["predictor", "train_size", "n"]].rename(columns={"n": "trials"})
    for m in metrics:  # one trial has no interval
        table[m] = [
            f"{_num(v)} ± {_num(ci, 2)}" if n > 1 and ci > 0 else _num(v)
            for v, ci, n in zip(summary[m], summary[m + "_ci"], summary["n"], strict=True)
        ]
    return [
        "### predictors (mean ± 95% CI half-width over trials)", "", _ran(info), "",
        _markdown(table),
    ]  # fmt: skip


def _audit(out: Path) -> list[str]:
    info, path = stage_log(out, "06_audit"), out / "audit" / "audit.csv"
    if info is None or not info["done"] or not path.is_file():
        return ["### audit", "", "not measured yet"]
    a = pd.read_csv(path)[["source", "kendall_tau_vs_table", "mean_abs_shift", "max_abs_shift"]]
    return [
        "### audit (how far surrogates move the strategies' ranking)", "", _ran(info), "",
        _markdown(a),
    ]  # fmt: skip


def _oneshot(out: Path) -> list[str]:
    lines = ["### one-shot methods", ""]
    logs = sorted(out.glob("0[78]_*.log"))
    for log in logs:
        info = stage_log(out, log.stem)
        assert info is not None
        if not info["done"]:
            lines.append(f"- `{log.stem}`: unfinished (see {log.name})")
            continue
        said = [ln for ln in str(info["text"]).splitlines() if ln and not ln.startswith("#")]
        wrote = [ln for ln in said if ln.startswith("wrote ")][:1]  # its costs; then the result
        lines.append(f"- `{log.stem}`: {_ran(info)}; " + "; ".join([*wrote, *said[-1:]]))
    if not logs:
        lines.append("not measured yet")
    gap, gap_log = out / "gap" / "gap.json", stage_log(out, "09_gap")
    if gap.is_file() and gap_log is not None and gap_log["done"]:
        rows = []
        for method, d in json.loads(gap.read_text()).items():
            spread, runs = d.get("seed_spread", {}), d.get("runs", [])
            top = runs[0].get("top_fraction") if runs else None
            rows.append(
                {
                    "method": method,
                    "seeds": len(runs),
                    "Kendall tau (mean)": spread.get("kendall_tau", {}).get("mean"),
                    "tau s.d.": spread.get("kendall_tau", {}).get("std"),
                    "Spearman rho": spread.get("spearman_rho", {}).get("mean"),
                    f"tau in the top {_num(100 * top, 3)}%"
                    if top
                    else "tau in the top": spread.get("top_kendall_tau", {}).get("mean"),
                    "derived cell's valid acc": d.get("final_standalone_valid_acc", {}).get("mean"),
                    # SPOS: its best-scored cell; DARTS / GDAS: the final derived cell
                    "pick's percentile": d.get(
                        "final_standalone_percentile", spread.get("pick_percentile", {})
                    ).get("mean"),
                }
            )
        lines += ["", f"Gap study: {_ran(gap_log)}", "", _markdown(pd.DataFrame(rows))]
    return lines


def report(out: Path) -> str:
    """The Markdown report of the figures under ``out``."""
    parts = [f"# Figures measured in `{out}`", ""]
    table = out / "table.source"
    if table.is_file():
        parts += [f"Table checksum (SHA-256): `{table.read_text().strip()}`", ""]
    info = stage_log(out, "00_info")
    if info is not None:
        body = [ln for ln in str(info["text"]).splitlines() if not ln.startswith("#")]
        parts += ["## The table (`info`)", "", "```", *body, "```", ""]
    parts += ["## Comparisons", ""]
    for folder, log, what in COMPARISONS:
        parts += [*_comparison(out, folder, log, what), ""]
    parts += ["## Predictors, audit, one-shot", ""]
    for section in (_predictors(out), _audit(out), _oneshot(out)):
        parts += [*section, ""]
    stages = sorted(p.stem for p in out.glob("[0-9][0-9]_*.log"))
    rows = []
    for name in stages:
        s = stage_log(out, name)
        assert s is not None
        rows.append({"stage": name, "done": "yes" if s["done"] else "no",
                     "wall s": s["wall_s"], "CPU s": s["cpu_s"]})  # fmt: skip
    if rows:
        frame = pd.DataFrame(rows)
        total = frame[["wall s", "CPU s"]].sum()
        in_all = f"In all: {total['wall s']:,.0f} s wall, {total['CPU s']:,.0f} s CPU."
        parts += ["## Stage times", "", _markdown(frame), "", in_all]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the output folder of default_table_figures.sh")
    ap.add_argument("--stdout", action="store_true", help="print the report, write no file")
    args = ap.parse_args(argv)
    if not args.out.is_dir():
        ap.error(f"{args.out} is not a folder (run benchmarks/default_table_figures.sh first)")
    text = report(args.out)
    if args.stdout:
        print(text, end="")
    else:
        (args.out / "report.md").write_text(text)
        print(f"wrote {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
