"""``space``, ``info``, ``query`` and ``synthetic``: look at spaces and tables."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from nasbench_sim.bench import Benchmark, TabularBenchmark, default_table_path
from nasbench_sim.space import SPACES, get_space
from nasbench_sim.table import make_synthetic_table, write_table

__all__ = ["describe_source", "is_synthetic", "load_bench", "register", "synthetic_banner"]

SYNTHETIC = "synthetic"


def load_bench(table: str | None, run_seed: int = 0) -> Benchmark:
    """Open ``table``: a table path, a saved surrogate (``.npz`` from ``surrogate fit``),
    ``None`` for the shipped default, ``synthetic[:SEED]`` for a clearly labelled synthetic
    table made in memory, or the path of a build in progress (its committed chunks)."""
    if table is not None and (table == SYNTHETIC or table.startswith(SYNTHETIC + ":")):
        seed = int(table.split(":", 1)[1]) if ":" in table else 0
        return TabularBenchmark(make_synthetic_table(seed), run_seed=run_seed)
    if table is not None and table.endswith(".npz") and Path(table).is_file():
        from predictors.surrogate import SurrogateBenchmark

        return SurrogateBenchmark.load(table, run_seed=run_seed)
    if table is not None and not Path(table).exists():
        from nasbench_sim.generate.assemble import assemble_parts
        from nasbench_sim.generate.chunks import build_status, parts_dir

        status = build_status(table)
        if status is not None and status["chunks_done"] > 0:
            # a build in progress: its committed chunks, clearly marked partial
            return TabularBenchmark(
                assemble_parts(parts_dir(table), allow_partial=True), run_seed=run_seed
            )
    return Benchmark.load(table, run_seed=run_seed)


def table_file(table: str | None) -> str | None:
    """The file behind a ``--table`` value: the shipped default's path for ``None``, else the
    value itself (which need not be a file: ``synthetic``, a build in progress...)."""
    if table is None:
        return str(default_table_path())
    return table


def stored_methods(table: str | None) -> list[str]:
    """Weight-sharing methods with a super-network stored in the table file ``table``
    (none for anything that is not an HDF5 file)."""
    if table is None or not table.endswith((".h5", ".hdf5")) or not Path(table).is_file():
        return []
    from nasbench_sim.oneshot import list_oneshot

    return sorted({m for m, _ in list_oneshot(table)})


def is_synthetic(bench: Benchmark) -> bool:
    """Whether the benchmark's numbers come from a synthetic table."""
    table = getattr(bench, "table", None)
    if table is not None:
        return bool(table.is_synthetic)
    model = getattr(bench, "model", None)
    return bool(getattr(model, "synthetic", False))


def describe_source(bench: Benchmark) -> str:
    """``"6466 rows"`` for a table, ``"surrogate fitted on 20% of 6466 rows"`` for a surrogate."""
    table = getattr(bench, "table", None)
    if table is not None:
        return f"{table.n_cells} rows"
    report = getattr(getattr(bench, "model", None), "report", None)
    if report is not None:
        return (
            f"SURROGATE ({report.predictor}) fitted on {100 * report.fraction:g}% of "
            f"{report.n_rows} rows"
        )
    return type(bench).__name__


def synthetic_banner(bench: Benchmark) -> str | None:
    if is_synthetic(bench):
        return (
            "NOTE: this is a SYNTHETIC table (a parametric stand-in for tests and demos), "
            "not a training result."
        )
    return None


def _table_arg(p: argparse.ArgumentParser, positional: bool = False) -> None:
    help_ = "table file (default: the table shipped in data/), or 'synthetic[:SEED]'"
    if positional:
        p.add_argument("table", nargs="?", default=None, help=help_)
    else:
        p.add_argument("--table", default=None, help=help_)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("space", help="describe a search space")
    p.add_argument("name", choices=sorted(SPACES), help="space name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_space)

    p = sub.add_parser("info", help="describe a table")
    _table_arg(p, positional=True)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_info)

    p = sub.add_parser(
        "datasheet",
        help="write a table's datasheet: README.md, datasheet.json, accuracy and cost plots",
        description="Describe a table file for publication: protocol, hardware and build "
        "time, accuracy histogram, seed noise, Kendall tau between seeds, validation/test "
        "correlation (against the criteria of a default table), cost metrics with a Pareto "
        "front, and the `nasbench-sim build` command that rebuilds it.",
    )
    p.add_argument("table", help="table file (.h5)")
    p.add_argument("--out", required=True, help="folder to write into")
    p.set_defaults(func=_datasheet)

    p = sub.add_parser("query", help="look up one architecture")
    p.add_argument("arch", help="NAS-Bench-201 string or integer cell index")
    _table_arg(p)
    p.add_argument("--epochs", type=int, default=None, help="epochs trained (default: all)")
    p.add_argument(
        "--seed", default=None, help="repeat index, 'mean', or omit for the run-seed draw"
    )
    p.add_argument("--run-seed", type=int, default=0, help="run seed of the repeat draw")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_query)

    p = sub.add_parser(
        "synthetic", help="write a clearly labelled SYNTHETIC table (for tests and demos)"
    )
    p.add_argument("--out", required=True, help="output .h5 path")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=3, help="repeats per cell")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--cells", default="classes", help="'classes', 'all' or a number of cells")
    p.set_defaults(func=_synthetic)


def _space(args: argparse.Namespace) -> int:
    space = get_space(args.name)
    d = space.describe()
    d["ops"] = list(getattr(space, "ops", ()))
    d["encodings"] = list(space.encodings)
    if args.json:
        print(json.dumps(d))
    else:
        for k, v in d.items():
            print(f"{k:>10}: {v}")
    return 0


def _info(args: argparse.Namespace) -> int:
    status = None
    if args.table is not None and not Path(args.table).exists():
        from nasbench_sim.generate.chunks import build_status

        status = build_status(args.table)
        if status is not None and not args.json:
            print(
                f"BUILD IN PROGRESS ({status['parts']}): {status['chunks_done']} of "
                f"{status['chunks_total']} chunks, {status['cells_done']} of "
                f"{status['cells_total']} cells committed (shard {status['shard']})"
            )
        if status is not None and status["chunks_done"] == 0:
            if args.json:
                print(json.dumps({"build": status}))
            return 0
    bench = load_bench(args.table)
    if isinstance(bench, TabularBenchmark):
        d = bench.info()
    else:
        report = getattr(getattr(bench, "model", None), "report", None)
        d = {
            "source": describe_source(bench),
            "space": bench.space.name,
            "dataset": bench.dataset,
            "epochs": bench.n_epochs,
            "seeds": bench.n_seeds,
            "best_test_acc": bench.best_test_acc,
            "synthetic": is_synthetic(bench),
            "protocol": {},
            "provenance": {} if report is None else vars(report),
        }
    if status is not None:
        d["build"] = status
    if args.json:
        print(json.dumps(d, default=str))
        return 0
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    proto = d.pop("protocol")
    d.pop("provenance")
    w = max(len(k) for k in [*d, "protocol"])
    for k, v in d.items():
        print(f"{k:>{w}}: {v}")
    print(f"{'protocol':>{w}}: {json.dumps(proto, sort_keys=True)}")
    return 0


def _datasheet(args: argparse.Namespace) -> int:
    from analysis.datasheet import write_datasheet

    if not Path(args.table).is_file():
        raise FileNotFoundError(
            f"{args.table}: no such table file (a synthetic table must be written first: "
            "`nasbench-sim synthetic --out T.h5`)"
        )
    readme = write_datasheet(args.table, args.out)
    data = json.loads((readme.parent / "datasheet.json").read_text())
    failed = [c["statistic"] for c in data["criteria"] if not c["ok"]]
    print(f"wrote {readme.parent}/: README.md, datasheet.json, {', '.join(data['plots'])}")
    print(
        "default-table criteria: " + ("all met" if not failed else f"not met: {', '.join(failed)}")
    )
    return 0


def _parse_seed(text: str | None) -> Any:
    if text is None or text == "mean":
        return text
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--seed must be an integer repeat or 'mean', got {text!r}") from None


def _query(args: argparse.Namespace) -> int:
    bench = load_bench(args.table, run_seed=args.run_seed)
    arch: Any = int(args.arch) if args.arch.strip().isdigit() else args.arch
    result = bench.query(arch, epochs=args.epochs, seed=_parse_seed(args.seed))
    out = {
        "arch": str(result.arch),
        "index": result.index,
        "class_id": bench.space.class_of(result.arch),
        "epoch": result.epoch,
        "repeat": result.repeat,
        "train_loss": result.train_loss,
        "train_acc": result.train_acc,
        "valid_loss": result.valid_loss,
        "valid_acc": result.valid_acc,
        "train_time_s": result.train_time if bench.time_unit == "s" else math.nan,
        "params": result.params,
        "flops": result.flops,
        "latency_s": result.latency,
    }
    if args.json:
        print(
            json.dumps(
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}
            )
        )
    else:
        for k, v in out.items():
            print(f"{k:>12}: {v}")
    return 0


def _synthetic(args: argparse.Namespace) -> int:
    cells: Any = args.cells
    if cells not in ("classes", "all"):
        try:
            cells = int(cells)
        except ValueError:
            raise ValueError(
                f"--cells must be 'classes', 'all' or an integer, got {cells!r}"
            ) from None
    table = make_synthetic_table(args.seed, n_seeds=args.seeds, n_epochs=args.epochs, cells=cells)
    path = write_table(args.out, table)
    print(
        f"wrote SYNTHETIC table {path} ({table.n_cells} rows, {table.n_seeds} seeds, "
        f"{table.n_epochs} epochs)"
    )
    return 0
