"""HW-NAS-Bench: per-device latency and energy of the NAS-Bench-201 cells, added to a table.

``HW-NAS-Bench-v1_0.pickle`` is a plain pickle of ``{'nasbench201': {dataset: {metric: 15,625
values in NAS-Bench-201's index order, 'config': [{'arch_str': ...}, ...]}}, 'fbnet': ...}``
with latencies in milliseconds and energies in millijoules on an edge GPU, a Raspberry Pi 4,
an edge TPU, a Pixel 3, the Eyeriss accelerator and an FPGA. :func:`add_hw_costs` matches
each row of a NB201 table (imported, or built by this project) to the file's entries **by
architecture string** (the file's index order is NAS-Bench-201's, not ours) and adds one cost
vector per metric, named with its unit: ``cost/hw_edgegpu_latency_ms``,
``cost/hw_edgegpu_energy_mj``, ``cost/hw_eyeriss_arithmetic_intensity``...
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.report import SYNTHETIC_KEY, describe_source, synthetic_mark
from nasbench_sim.importers.safe_pickle import load_bz2_pickle, safe_load
from nasbench_sim.space import get_space
from nasbench_sim.table import read_table, write_table

__all__ = ["HW_DATASET_OF", "CostImportReport", "add_hw_costs", "hw_cost_name"]

BENCHMARK = "HW-NAS-Bench"

HW_DATASET_OF = {
    "cifar10-valid": "cifar10",
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}
"""A table's dataset -> the HW-NAS-Bench dataset whose networks have its input and classes."""


def hw_cost_name(metric: str) -> str:
    """The table's cost name of an HW-NAS-Bench metric: its unit spelled out."""
    if metric.endswith("_latency"):
        return f"hw_{metric}_ms"
    if metric.endswith("_energy"):
        return f"hw_{metric}_mj"
    return f"hw_{metric}"


@dataclass(frozen=True)
class CostImportReport:
    """The outcome of adding hardware costs to a table.

    Attributes:
        out: the table written.
        source: the HW-NAS-Bench file.
        hw_dataset: whose measurements were taken.
        added: the cost names added.
        rows: rows of the table.
        unmatched: rows whose architecture the file lacks (their costs are NaN).
        seconds: wall time.
    """

    out: Path
    source: str
    hw_dataset: str
    added: tuple[str, ...]
    rows: int
    unmatched: int
    seconds: float

    def lines(self) -> list[str]:
        out = [
            f"wrote {self.out}: {len(self.added)} hardware cost metrics of HW-NAS-Bench "
            f"({self.hw_dataset}) for {self.rows - self.unmatched} of {self.rows} rows "
            f"({self.seconds:.1f} s)",
            f"  added: {', '.join(f'cost/{n}' for n in self.added)}",
        ]
        if self.unmatched:
            out.append(f"  warning: {self.unmatched} rows not in the file: NaN")
        return out


def _load(path: Path) -> Any:
    if not path.is_file():
        raise ImportFormatError(path, "no such file")
    with path.open("rb") as f:
        head = f.read(3)
    if head == b"BZh":
        return load_bz2_pickle(path)
    with path.open("rb") as f:
        return safe_load(f, str(path))


def _entries(data: Any, dataset: str, source: str) -> Mapping[str, Any]:
    space = data.get("nasbench201") if isinstance(data, Mapping) else None
    if not isinstance(space, Mapping):
        raise ImportFormatError(source, "not HW-NAS-Bench's pickle (no 'nasbench201' entry)")
    if dataset not in space:
        raise ImportFormatError(
            source, f"no {dataset!r} measurements; the file has {sorted(map(str, space))}"
        )
    entry = space[dataset]
    configs = entry.get("config") if isinstance(entry, Mapping) else None
    if not isinstance(configs, (list, tuple)):
        raise ImportFormatError(
            source, f"{dataset}: no 'config' list, so its rows cannot be matched by string"
        )
    return entry


def _strings(configs: Sequence[Any], source: str) -> dict[str, int]:
    out = {}
    for i, c in enumerate(configs):
        s = c.get("arch_str") if isinstance(c, Mapping) else None
        if not isinstance(s, str):
            raise ImportFormatError(source, f"config entry {i} has no 'arch_str'")
        out[s] = i
    return out


def _provenance(
    source: dict[str, Any], ds: str, table_ds: str, added: Sequence[str], rows: np.ndarray
) -> dict[str, Any]:
    other = HW_DATASET_OF.get(table_ds) != ds
    return {
        "source": source,
        "dataset": ds,
        "added": list(added),
        "units": "latencies in ms, energies in mJ, as HW-NAS-Bench reports them",
        "matched_by": "architecture string",
        "unmatched_rows": int((rows < 0).sum()),
        "note": f"measured on NAS-Bench-201's {ds} network, not on this table's {table_ds} network"
        if other
        else None,
    }


def add_hw_costs(
    src: str | os.PathLike[str],
    table: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    hw_dataset: str | None = None,
    metrics: Sequence[str] | None = None,
    sha256: bool = True,
) -> CostImportReport:
    """Add HW-NAS-Bench's hardware costs to a NB201 table, matched by architecture string.

    Args:
        src: the HW-NAS-Bench pickle.
        table: the table to extend (its rows are kept as they are).
        out: where to write the extended table (may be ``table`` itself; written atomically).
        hw_dataset: whose measurements to take (default: the one matching the table's
            dataset, see :data:`HW_DATASET_OF`; required for other datasets).
        metrics: the metrics to add (default: every one the file has).
        sha256: record the file's SHA-256 in the provenance.
    """
    started = time.perf_counter()
    src = Path(src)
    base = read_table(table)
    if base.space != "nb201":
        raise ImportFormatError(table, f"a {base.space} table; HW-NAS-Bench covers nb201")
    ds = hw_dataset or HW_DATASET_OF.get(base.dataset)
    if ds is None:
        raise ImportFormatError(
            table,
            f"dataset {base.dataset!r} has no HW-NAS-Bench counterpart; choose the "
            "measurements with hw_dataset (CLI --hw-dataset): "
            f"{', '.join(sorted(set(HW_DATASET_OF.values())))}",
        )
    data = _load(src)
    entry = _entries(data, ds, str(src))
    index_of = _strings(entry["config"], str(src))
    names = [m for m in entry if m != "config"] if metrics is None else list(metrics)
    space = get_space("nb201")
    rows = np.array([index_of.get(str(space.from_index(int(i))), -1) for i in base.arch_index])
    cost = dict(base.cost)
    for m in names:
        if m not in entry:
            raise ImportFormatError(
                src, f"no metric {m!r}; the file has {sorted(k for k in entry if k != 'config')}"
            )
        values = np.asarray(entry[m], dtype=np.float64).ravel()
        if values.shape[0] != len(entry["config"]):
            raise ImportFormatError(
                src,
                f"{ds}/{m} has {values.shape[0]} values for {len(entry['config'])} architectures",
            )
        cost[hw_cost_name(m)] = np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)
    added = tuple(hw_cost_name(m) for m in names)
    provenance = {**base.provenance, **synthetic_mark({"synthetic": data.get(SYNTHETIC_KEY)})}
    provenance["hardware_costs"] = _provenance(
        describe_source(src, BENCHMARK, sha256=sha256), ds, base.dataset, added, rows
    )
    path = write_table(out, dataclasses.replace(base, cost=cost, provenance=provenance))
    return CostImportReport(
        out=path,
        source=str(src),
        hw_dataset=ds,
        added=added,
        rows=base.n_cells,
        unmatched=int((rows < 0).sum()),
        seconds=time.perf_counter() - started,
    )
