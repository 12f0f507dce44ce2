"""``space``, ``info``, ``query`` and ``synthetic``: look at spaces and tables."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import nasbench_sim
from nasbench_sim.bench import Benchmark
from nasbench_sim.space import SPACES, get_space
from nasbench_sim.table import make_synthetic_table, write_table

__all__ = ["coverage_note", "register", "synthetic_banner"]


def coverage_note(bench: Benchmark) -> str | None:
    """What a search on a table that covers only part of its space does (``None``: it covers
    every cell)."""
    if bench.covers_space:
        return None
    n, size = int(bench.candidate_cells.size), bench.space.size
    return (
        f"note: the table covers {n:,} of the {size:,} cells of {bench.space.name} "
        f"({bench.distinct_cells.size:,} rows): strategies draw, mutate and step only among "
        "them, and regret is measured against the best covered cell"
    )


def synthetic_banner(bench: Benchmark) -> str | None:
    """The warning printed before any output computed from synthetic numbers."""
    if not bench.source.synthetic:
        return None
    what = "this is" if bench.source.kind == "table" else "this surrogate was fitted on"
    return (
        f"NOTE: {what} a SYNTHETIC table (a parametric stand-in for tests and demos), "
        "not a training result."
    )


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


def _build_status(table: str | None, as_json: bool) -> dict[str, Any] | None:
    """The status of a build in progress at ``table`` (printed unless ``as_json``)."""
    if table is None or Path(table).exists():
        return None
    from nasbench_sim.generate.chunks import build_status

    status = build_status(table)
    if status is not None and not as_json:
        print(
            f"BUILD IN PROGRESS ({status['parts']}): {status['chunks_done']} of "
            f"{status['chunks_total']} chunks, {status['cells_done']} of "
            f"{status['cells_total']} cells committed (shard {status['shard']})"
        )
    return status


def _info(args: argparse.Namespace) -> int:
    status = _build_status(args.table, args.json)
    if status is not None and status["chunks_done"] == 0:
        if args.json:
            print(json.dumps({"build": status}))
        return 0
    bench = nasbench_sim.open(args.table)
    d = bench.info()
    if status is not None:
        d["build"] = status
    if args.json:
        print(json.dumps(d, default=str))
        return 0
    banner = synthetic_banner(bench)
    if banner:
        print(banner)
    proto = d.pop("protocol", {})
    d.pop("provenance", None)
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
    bench = nasbench_sim.open(args.table, run_seed=args.run_seed)
    arch: Any = int(args.arch) if args.arch.strip().isdigit() else args.arch
    result = bench.query(arch, epochs=args.epochs, repeat=_parse_seed(args.seed))
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
        "train_time_s": result.train_time,
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
