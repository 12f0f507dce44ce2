"""``space``, ``info``, ``query`` and ``synthetic``: look at spaces and tables."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import nasbench_sim
from nasbench_sim.bench import default_table_path
from nasbench_sim.cli.args import TABLE_HELP, add_table_arg, positive_int
from nasbench_sim.cli.notes import synthetic_banner
from nasbench_sim.space import SPACES, NB101Cell, get_space
from nasbench_sim.table import make_synthetic_table, write_table
from nasbench_sim.units import duration

__all__ = ["register"]


def _table_args(p: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """``--table`` as every command takes it, and, as before, the table as a positional."""
    add_table_arg(p, help_text=help_text or TABLE_HELP)
    p.add_argument("table_pos", nargs="?", default=None, metavar="TABLE", help=argparse.SUPPRESS)


def _table_of(args: argparse.Namespace) -> str | None:
    if args.table is not None and args.table_pos is not None and args.table != args.table_pos:
        raise ValueError(f"two tables given: {args.table_pos!r} and --table {args.table!r}")
    table: str | None = args.table if args.table is not None else args.table_pos
    return table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("space", help="describe a search space")
    p.add_argument("name", choices=sorted(SPACES), help="space name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_space)

    p = sub.add_parser("info", help="describe a table (or a surrogate, a build in progress)")
    _table_args(p)
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
    _table_args(p, help_text="a finished table file (.h5) (default: the table shipped in data/)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="folder to write into (replaced as a whole)")
    where.add_argument(
        "--beside",
        action="store_true",
        help="write into the table's own folder, replacing only the datasheet's files "
        "(a shipped table's data/README.md)",
    )
    p.set_defaults(func=_datasheet)

    _register_query(sub)

    p = sub.add_parser(
        "synthetic", help="write a clearly labelled SYNTHETIC table (for tests and demos)"
    )
    p.add_argument("--out", required=True, help="output .h5 path")
    p.add_argument("--seed", type=int, default=0, help="seed of the landscape and the noise")
    p.add_argument("--seeds", type=positive_int, default=3, help="repeats per cell")
    p.add_argument("--epochs", type=positive_int, default=20, help="epochs per learning curve")
    p.add_argument(
        "--cells",
        default="classes",
        help="'classes' (one row per equivalence class), 'all' (15,625 rows) or a number N "
        "of class representatives (a partial table)",
    )
    p.set_defaults(func=_synthetic)


def _register_query(sub: argparse._SubParsersAction) -> None:
    """The `query` command (its own function: `register` stays short)."""
    p = sub.add_parser(
        "query",
        help="look up one architecture",
        description="What a search sees of one architecture at a budget: training and "
        "validation metrics and costs. Test metrics are withheld, as from a search; --test "
        "adds them (the analysis path: the held-out split, never for choosing a cell).",
    )
    p.add_argument(
        "arch",
        help="an index into the table's space (NAS-Bench-201: 0..15624), or a cell string "
        "(NAS-Bench-201: |op~0|+|op~0|op~1|+|...|; NAS-Bench-101: its graph string or hash)",
    )
    add_table_arg(p)
    p.add_argument(
        "--epochs", type=int, default=None,
        help="epochs trained: one of the table's budgets (`info` lists them; default: all)",
    )  # fmt: skip
    p.add_argument(
        "--repeat",
        default=None,
        help="which stored repeat: an index 0..n-1, or 'mean' (default: the run seed's draw)",
    )
    p.add_argument(  # the old name of --repeat, easily taken for a run seed: deprecated
        "--seed", dest="old_seed", default=None, help=argparse.SUPPRESS
    )
    p.add_argument(
        "--training-seed",
        type=int,
        default=None,
        help="the repeat trained with this seed (see `info`'s seeds)",
    )
    p.add_argument("--run-seed", type=int, default=0, help="run seed of the repeat draw")
    p.add_argument(
        "--test", action="store_true",
        help="also print the held-out test loss and accuracy (of the same repeat; the mean "
        "over repeats with --repeat mean), for analysis, never for a search",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_query)


def _space(args: argparse.Namespace) -> int:
    space = get_space(args.name)
    d = space.describe()
    d["ops"] = list(getattr(space, "ops", ()))
    d["encodings"] = list(space.encodings)
    if args.json:
        print(json.dumps(d))
    else:
        w = max(len(k) for k in d)
        for k, v in d.items():
            print(f"{k:>{w}}: {v}")
    return 0


def _build_status(table: str | None, as_json: bool) -> dict[str, Any] | None:
    """The status of a build in progress at ``table`` (printed unless ``as_json``)."""
    if table is None or Path(table).exists():
        return None
    from nasbench_sim.generate.chunks import build_status
    from nasbench_sim.generate.projection import project_build

    status = build_status(table)
    if status is None:
        return None
    projection = project_build(table)
    if projection is not None:
        status["cpu"] = projection.as_dict()
    if not as_json:
        print(
            f"BUILD IN PROGRESS ({status['parts']}): {status['chunks_done']} of "
            f"{status['chunks_total']} chunks, {status['cells_done']} of "
            f"{status['cells_total']} cells committed (shard {status['shard']})"
        )
        if projection is not None:
            p = projection
            print(
                f"CPU: {duration(3600 * p.cpu_h_done, 'core-')} so far; the whole shard projects "
                f"to {duration(3600 * p.cpu_h_total, 'core-')} at the rate measured so far (fit "
                f"error {100 * p.fit_mape:.1f} %), {duration(3600 * p.hours_left)} more on "
                f"{p.cores} busy cores"
                + (
                    f" (the rest at the speed of the latest chunk's kind of machine, whose "
                    f"chunks take {p.machine_factor:.2f} times the CPU time of most)"
                    if p.machine_factor != 1.0
                    else ""
                )
            )
    return status


def _info(args: argparse.Namespace) -> int:
    table = _table_of(args)
    status = _build_status(table, args.json)
    if status is not None and status["chunks_done"] == 0:
        if args.json:
            print(json.dumps({"build": status}))
        return 0
    bench = nasbench_sim.open(table)
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
    mixed = (d.pop("provenance", None) or {}).get("mixed_hardware")
    if mixed:  # a build continued on other kinds of machine (build --mixed-hardware)
        from nasbench_sim.generate.hardware import describe_groups

        d["trained_on"] = describe_groups(mixed)
    d.pop("build", None)  # said in the BUILD IN PROGRESS lines above; whole in --json
    w = max(len(k) for k in [*d, "protocol"])
    for k, v in d.items():
        print(f"{k:>{w}}: {v}")
    print(f"{'protocol':>{w}}: {json.dumps(proto, sort_keys=True)}")
    return 0


def _datasheet(args: argparse.Namespace) -> int:
    from analysis.datasheet import write_datasheet

    table = _table_of(args) or str(default_table_path())
    if not Path(table).is_file():
        from nasbench_sim.generate.chunks import parts_dir

        given = f"the default table {table}" if _table_of(args) is None else f"--table {table}"
        if parts_dir(table).is_dir() or (table.endswith(".parts") and Path(table).is_dir()):
            raise FileNotFoundError(
                f"{given} is a build in progress, not yet a table: a datasheet "
                "describes a finished table, so finish the build first "
                "(`nasbench-sim build ... --resume`)"
            )
        raise FileNotFoundError(
            f"--table {table}: no such table file (a datasheet describes a table file; a "
            "synthetic table must be written first: `nasbench-sim synthetic --out T.h5`)"
        )
    readme = write_datasheet(table, None if args.beside else args.out)
    data = json.loads((readme.parent / "datasheet.json").read_text())
    failed = [c["statistic"] for c in data["criteria"] if not c["ok"]]
    print(f"wrote {readme.parent}/: README.md, datasheet.json, {', '.join(data['plots'])}")
    print(
        "default-table criteria: " + ("all met" if not failed else f"not met: {', '.join(failed)}")
    )
    return 0


def _parse_repeat(text: str | None) -> Any:
    if text is None or text == "mean":
        return text
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"--repeat must be an integer repeat index or 'mean', got {text!r}"
        ) from None


def _arch(text: str, size: int) -> Any:
    """An index (checked against the space) or a cell string."""
    if re.fullmatch(r"\s*-?\d+\s*", text):
        index = int(text)
        if not 0 <= index < size:
            raise ValueError(
                f"cell index {index} is outside 0..{size - 1}; give an index in that range or "
                "a cell string (nb201: |nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|; nb101: "
                "'<adjacency bits>|<op>,<op>,...' or the graph's hash)"
            )
        return index
    return text


def _query(args: argparse.Namespace) -> int:
    if args.old_seed is not None:
        if args.repeat is not None:
            raise ValueError("give --repeat only (--seed is its deprecated old name)")
        print(
            "nasbench-sim query: --seed is deprecated: it picks the k-th stored repeat, not a "
            "training or run seed; write --repeat (or --training-seed, --run-seed)",
            file=sys.stderr,
        )
        args.repeat = args.old_seed
    bench = nasbench_sim.open(args.table, run_seed=args.run_seed)
    arch = _arch(args.arch, bench.space.size)
    result = bench.query(
        arch,
        epochs=args.epochs,
        repeat=_parse_repeat(args.repeat),
        training_seed=args.training_seed,
    )
    out = {
        "source": bench.source.describe(),
        "synthetic": bench.source.synthetic,
        "arch": str(result.arch),
        **({"hash": result.arch.hash} if isinstance(result.arch, NB101Cell) else {}),
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
    if args.test:
        if result.repeat < 0:  # -1: the mean over repeats
            test = bench.test_result(result.arch, result.epoch, "mean")
        else:
            test = bench.test_result(result.arch, result.epoch, result.repeat)
        out.update(test_loss=test.test_loss, test_acc=test.test_acc)
        if math.isnan(test.test_acc):
            out["test_note"] = _no_test_note(bench, result.arch, result.epoch, test.repeat)
    if args.json:
        print(
            json.dumps(
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}
            )
        )
    else:
        banner = synthetic_banner(bench)
        if banner:
            print(banner)
        for k, v in out.items():
            print(f"{k:>12}: {v}")
    return 0


def _no_test_note(bench: Any, arch: Any, epoch: int, repeat: int) -> str:
    """Why ``query --test`` shows no test metrics: the epochs that have them, if any."""
    rep: Any = "mean" if repeat < 0 else repeat
    tested = [e for e in bench.budgets if not math.isnan(bench.test_result(arch, e, rep).test_acc)]
    if not tested:
        return "this table holds no test metrics for this cell"
    return (
        f"the test set was not evaluated after epoch {epoch}; this table has test metrics "
        f"after epochs {_ranges(tested)}"
    )


def _ranges(numbers: list[int]) -> str:
    """Sorted integers as runs: ``[1, 2, 3, 4, 6, 8]`` → ``"1-4, 6, 8"``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


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
