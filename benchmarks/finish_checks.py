"""Step 3 of ``benchmarks/finish_default_table.sh``: what a shipped default table must be.

Checks the table file's size (at most 50 MB), that ``nasbench_sim.open()`` and
``Benchmark.load()`` with no argument open it, that every one of the 6,466 classes has all 3
seeds, and that a wheel ships it with its datasheet; exits non-zero, saying why, when one
fails. Then prints the datasheet's criteria (Kendall tau between seeds, best mean test
accuracy, validation/test correlation) and the reliability of the seed mean: reported, not
failed (the wrapper script flags unmet ones).

    python benchmarks/finish_checks.py data/nb201_mnist1d.h5
    NASBENCH_SIM_TABLE=T.h5 python benchmarks/finish_checks.py T.h5 --quick  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import nasbench_sim
from nasbench_sim.bench import Benchmark
from nasbench_sim.table import read_table

MAX_MB = 50
CLASSES, SEEDS = 6466, 3


def checks(path: Path, quick: bool) -> list[str]:
    """The failed checks' reasons (empty when all pass); prints what each measured."""
    failed = []
    mb = path.stat().st_size / 1e6  # decimal megabytes, the stricter reading of 50 MB
    print(f"size: {mb:.1f} MB (at most {MAX_MB})")
    if mb > MAX_MB:
        failed.append(f"the table takes {mb:.1f} MB, more than {MAX_MB}")
    for name, opener in (("open()", nasbench_sim.open), ("Benchmark.load()", Benchmark.load)):
        bench = opener()  # no argument: the shipped table
        print(f"{name} with no argument reads {bench.source.describe()}")
        if Path(bench.source.origin).resolve() != path.resolve():
            failed.append(f"{name} with no argument found {bench.source.origin}, not {path}")
    table = read_table(path)
    valid = np.asarray(table.metrics["valid_acc"])[:, :, -1]
    missing = int(np.isnan(valid).sum())
    seeds = [int(s) for s in table.seeds]
    print(f"rows: {table.n_cells}, seeds {seeds}, final valid_acc missing in {missing}")
    if missing:
        failed.append(f"{missing} (row, seed) pairs have no final validation accuracy")
    if not quick and (table.n_cells, len(table.seeds)) != (CLASSES, SEEDS):
        failed.append(f"{table.n_cells} rows x {len(table.seeds)} seeds, not {CLASSES} x {SEEDS}")
    if not quick:
        failed += _wheel_holds(path)
    sheet = json.loads((path.parent / "datasheet.json").read_text())
    for c in sheet["criteria"]:  # reported, not failed: the issue asks to report them
        value = "n/a" if c["value"] is None else f"{c['value']:.4g}"
        print(f"criterion {c['statistic']}: {value} (needs {c['needs']}): "
              f"{'met' if c['ok'] else 'NOT MET'}")  # fmt: skip
    reliability = sheet["stats"].get("seed_mean_reliability")
    shown = "n/a" if reliability is None else f"{reliability:.4f}"
    print(f"reliability of the {len(table.seeds)}-seed mean: {shown}")
    return failed


def _wheel_holds(path: Path) -> list[str]:
    """Build a wheel from a copy of the source tree (no ``build/`` or ``egg-info`` left in
    this one) and check that it ships the table and its datasheet where
    ``default_table_path`` looks: ``<prefix>/share/nasbench-sim/``."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "src"
        skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
        for name in ("nasbench_sim", "predictors", "analysis", "data"):
            shutil.copytree(root / name, src / name, ignore=skip)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(root / name, src / name)
        pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        subprocess.run([*pip, "-w", str(Path(d) / "dist"), str(src)], check=True)
        wheel = next((Path(d) / "dist").glob("*.whl"))
        names = zipfile.ZipFile(wheel).namelist()
    want = [f"share/nasbench-sim/{n}" for n in (path.name, "README.md", "datasheet.json")]
    missing = [w for w in want if not any(n.endswith(".data/data/" + w) for n in names)]
    print(f"{wheel.name}: ships {', '.join(w for w in want if w not in missing) or 'nothing'}")
    return [f"the wheel does not ship {', '.join(missing)}"] if missing else []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("table", type=Path, help="the finished table (data/nb201_mnist1d.h5)")
    ap.add_argument(
        "--quick", action="store_true",
        help="a smoke run on a partial table: no row count, no wheel",
    )  # fmt: skip
    args = ap.parse_args(argv)
    failed = checks(args.table, args.quick)
    for reason in failed:
        print(f"FAILED: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
