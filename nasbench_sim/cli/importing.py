"""``import``: published benchmarks into the table format (see ``docs/import.md``)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from nasbench_sim.cli.progress import progress_bar
from nasbench_sim.importers import FORMATS, import_benchmark

__all__ = ["register"]

_FAMILY = ("nats", "nb201")
_FLAG = {
    "n_jobs": "--jobs",
    "metrics": "--metric",
    "costs": "--cost",
    "check_crc": "--crc",
    "check_hashes": "--hashes",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import a published benchmark (NATS-Bench, NAS-Bench-201, NAS-Bench-101, "
        "HW-NAS-Bench, CSV or Parquet)",
        description=(
            "Read a published benchmark without running code from it (an allow-list "
            "unpickler; torch files read without torch) and write one table per (dataset, "
            "epochs). nats: the NATS-tss-...-simple directory or the single .pickle.pbz2; "
            "nb201: NAS-Bench-201-v1_[01]-*.pth; hwnas: HW-NAS-Bench's pickle, added as cost "
            "metrics to --table; csv/parquet: one row per architecture; nb101: "
            "nasbench_only108.tfrecord or nasbench_full.tfrecord (read without TensorFlow), or "
            "NASLib's nasbench_only108.pkl. The mapping of splits, epochs, seeds and times is in "
            "docs/import.md."
        ),
    )
    p.add_argument("format", choices=list(FORMATS), help="source format")
    p.add_argument("src", help="source file or directory")
    p.add_argument(
        "--out",
        required=True,
        help="output .h5 (with {dataset} and {epochs} "
        "for several tables, else STEM_<dataset>_<epochs>.h5 beside it)",
    )
    _source_args(p)
    p.add_argument(
        "--no-sha256",
        action="store_true",
        help="do not hash a single-file source for the provenance",
    )
    p.set_defaults(func=_import)


def _source_args(p: argparse.ArgumentParser) -> None:
    """The options of each format, in one group per format."""
    g = p.add_argument_group("nats and nb201")
    g.add_argument(
        "--dataset",
        default=None,
        help="cifar10-valid (default), cifar10, cifar100, ImageNet16-120, a comma "
        "list, or all; for csv/parquet: the table's dataset name",
    )
    g.add_argument("--epochs", default=None, help="training budget: 200 (default), 12, or 12,200")
    g.add_argument(
        "--valid-split",
        default=None,
        help="split read as the validation curve (default per dataset; 'none')",
    )
    g.add_argument("--test-split", default=None, help="split read as the test curve")
    g.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for a nats directory (default: all cores)",
    )
    g.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="skip (and report) unreadable per-architecture files",
    )
    g = p.add_argument_group("hwnas")
    g.add_argument("--table", default=None, help="the NB201 table to add hardware costs to")
    g.add_argument(
        "--hw-metrics",
        default=None,
        help="comma-separated HW-NAS-Bench metrics to add (default: all, e.g. edgegpu_latency)",
    )
    g.add_argument(
        "--hw-dataset",
        default=None,
        help="HW-NAS-Bench measurements to take (default: the table's dataset)",
    )
    g = p.add_argument_group("nb101")
    g.add_argument(
        "--crc",
        choices=("auto", "on", "off"),
        default=None,
        help="check every TFRecord record's CRCs (auto: on for files up to 64 MiB)",
    )
    g.add_argument(
        "--hashes",
        choices=("auto", "all", "sample", "none"),
        default=None,
        help="recompute graph hashes from their specs: all, a sample of 1,000 spread over the "
        "file, or none (auto: all for files up to 64 MiB, else the sample)",
    )
    g = p.add_argument_group("csv and parquet")
    g.add_argument("--arch-col", default=None, help="architecture-string column")
    g.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME=COL",
        help="map a column to a metric (valid_acc, test_acc, train_time_s, params, "
        "...); repeat; default: columns named like the metrics",
    )
    g.add_argument(
        "--cost",
        action="append",
        default=[],
        metavar="NAME=COL",
        help="an extra per-cell cost metric; repeat",
    )
    g.add_argument("--seed-col", default=None, help="seed-label column when rows are repeats")
    g.add_argument("--acc-unit", default="auto", choices=("auto", "percent", "fraction"))
    g.add_argument(
        "--epochs-trained",
        type=int,
        default=None,
        help="training length behind the final values (recorded in the protocol)",
    )


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, col = item.partition("=")
        if not sep or not name.strip() or not col.strip():
            raise ValueError(f"{flag} takes NAME=COLUMN, got {item!r}")
        out[name.strip()] = col.strip()
    return out


def _tri(value: str | None, yes: str) -> bool | None:
    """``None`` for a flag not given (or ``auto``: the importer's default), else on/off."""
    return None if value in (None, "auto") else value == yes


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``args.format``; a flag of another format is an error."""
    fmt = args.format
    given = {
        "dataset": args.dataset, "epochs": args.epochs, "valid_split": args.valid_split,
        "test_split": args.test_split, "n_jobs": args.jobs,
        "skip_corrupt": args.skip_corrupt or None, "table": args.table,
        "hw_dataset": args.hw_dataset, "arch_col": args.arch_col,
        "metrics": _pairs(args.metric, "--metric") or None,
        "hw_metrics": [m.strip() for m in args.hw_metrics.split(",") if m.strip()]
        if args.hw_metrics else None,
        "costs": _pairs(args.cost, "--cost") or None, "seed_col": args.seed_col,
        "acc_unit": None if args.acc_unit == "auto" else args.acc_unit,
        "epochs_trained": args.epochs_trained,
        "check_crc": _tri(args.crc, "on"),
        "check_hashes": None if args.hashes in (None, "auto") else args.hashes,
    }  # fmt: skip
    allowed = set(FORMATS[fmt][1])
    if fmt == "hwnas":  # its `metrics` is a list of names, given as --hw-metrics
        allowed = (allowed - {"metrics"}) | {"hw_metrics"}
    auto = {"check_crc": args.crc == "auto", "check_hashes": args.hashes == "auto"}
    wrong = [k for k, v in given.items() if (v is not None or auto.get(k)) and k not in allowed]
    if wrong:
        flags = ", ".join(_FLAG.get(k, "--" + k.replace("_", "-")) for k in wrong)
        raise ValueError(f"{flags}: not an option of format {fmt}")
    opts = {k: v for k, v in given.items() if v is not None}
    if "hw_metrics" in opts:
        opts["metrics"] = opts.pop("hw_metrics")
    if fmt == "nats" and "n_jobs" not in opts:
        opts["n_jobs"] = os.cpu_count() or 1
    opts["sha256"] = not args.no_sha256
    return opts


def _import(args: argparse.Namespace) -> int:
    opts = _options(args)
    bars: list[Any] = []  # made at the first report of work, not before the source is checked
    if args.format in (*_FAMILY, "nb101"):
        unit = "B" if args.format == "nb101" else "arch"

        def bar() -> Any:
            if not bars:
                bars.append(
                    progress_bar(unit=unit, unit_scale=unit == "B", desc=f"importing {args.format}")
                )
            return bars[0]

        def total(n: int) -> None:
            bar().total = n
            bar().refresh()

        opts.update(progress=lambda n=1: bar().update(n), total=total)
    try:
        reports = import_benchmark(args.format, args.src, args.out, **opts)
    finally:
        for b in bars:
            b.close()
    for report in reports:
        print("\n".join(report.lines()))
    return 0
