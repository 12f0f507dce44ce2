"""SYNTHETIC files in the published layouts, for tests, benchmarks and trying the importers.

The real NATS-Bench, NAS-Bench-201 and HW-NAS-Bench files are gigabytes behind manual
downloads. These writers produce files with the same containers and key layout (bz2 pickles of
ArchResults state dicts, ``torch.save`` containers, HW-NAS-Bench's nested dict) filled with a
cheap parametric landscape: every number is made up and labelled as such by the file names the
callers choose; an imported table of them is a demonstration, not a benchmark result: each
top-level dict carries ``SYNTHETIC_KEY``, and the importers mark tables read from such files
``synthetic`` in their provenance, as the synthetic tables of :mod:`nasbench_sim.table` are.

The landscape: each op on an edge that lies on a live input-to-output path adds a fixed weight
(3x3 conv most, then 1x1 conv, skip, pooling); the final accuracy of a dataset is a squashed sum
of these plus a per-run offset; curves rise exponentially towards it; costs follow the op
counts; per-epoch training times are constants per run, as NAS-Bench-201 v1.1 and NATS-Bench
record them.
"""

from __future__ import annotations

import bz2
import concurrent.futures as cf
import io
import os
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.importers.report import SYNTHETIC_KEY
from nasbench_sim.importers.torch_file import LEGACY_MAGIC, LEGACY_PROTOCOL
from nasbench_sim.space import Cell

__all__ = [
    "DATASETS",
    "HW_METRICS",
    "SYNTHETIC_KEY",
    "SyntheticSpec",
    "arch_entry",
    "nats_order",
    "write_hwnas_pickle",
    "write_nats_dir",
    "write_nats_file",
    "write_nb201_pth",
]

DATASETS: dict[str, tuple[int, tuple[str, ...], float]] = {
    "cifar10-valid": (10, ("x-valid", "ori-test"), 91.0),
    "cifar10": (10, ("ori-test",), 94.0),
    "cifar100": (100, ("ori-test", "x-valid", "x-test"), 73.0),
    "ImageNet16-120": (120, ("ori-test", "x-valid", "x-test"), 46.0),
}
"""Dataset -> (classes, evaluation splits, best accuracy in percent) of the NB201 family."""

HW_METRICS: tuple[str, ...] = (
    "edgegpu_latency",
    "edgegpu_energy",
    "raspi4_latency",
    "edgetpu_latency",
    "pixel3_latency",
    "eyeriss_latency",
    "eyeriss_energy",
    "eyeriss_arithmetic_intensity",
    "fpga_latency",
    "fpga_energy",
)
"""The NAS-Bench-201 metrics of HW-NAS-Bench (latencies in ms, energies in mJ)."""

_OP_WEIGHT = np.array([0.0, 0.25, 0.55, 1.0, 0.15])
_ROUTES = ((3,), (0, 4), (1, 5), (0, 2, 5))


@dataclass(frozen=True)
class SyntheticSpec:
    """What the synthetic files hold.

    Attributes:
        budgets: training budgets (``"12"``, ``"200"``).
        datasets: datasets of :data:`DATASETS`.
        seeds: seed labels of the runs.
        drop_last_seed_every: every k-th architecture lacks the last seed (0: none do), as
            NATS-Bench lacks seed 999 for many.
        last_epoch_only: (dataset, split) pairs evaluated only after the last epoch.
        pseudo_times: constant per-epoch times (else times vary by epoch).
        weights: store a fake weight entry (a ``torch`` rebuild call) in each run, as the
            ``-full`` archives do.
    """

    budgets: tuple[str, ...] = ("12", "200")
    datasets: tuple[str, ...] = tuple(DATASETS)
    seeds: tuple[int, ...] = (777, 888, 999)
    drop_last_seed_every: int = 3
    last_epoch_only: tuple[tuple[str, str], ...] = (("cifar10-valid", "ori-test"),)
    pseudo_times: bool = True
    weights: bool = False


def _quality(cell: Cell) -> tuple[float, float]:
    """(score in (0, 1), size units) of a cell."""
    ops = np.array(cell.ops)
    live = np.zeros(6, dtype=bool)
    for route in _ROUTES:
        if all(ops[e] != 0 for e in route):
            live[list(route)] = True
    if not live.any():
        return 0.0, 0.0
    score = float((_OP_WEIGHT[ops] * np.where(live, 1.0, 0.2)).sum())
    units = float(((ops == 3) * 9 + (ops == 2)).sum())
    return 1.0 / (1.0 + np.exp(-(score - 2.0))), units


def _weights_placeholder() -> None:
    """Stands for torch's tensor rebuild while a pickle is written (see :func:`_pickle_bytes`)."""


class _Weights:
    """A stored tensor: pickled as a call that :func:`_pickle_bytes` renames to
    ``torch._utils._rebuild_tensor_v2``, what a real ``-full`` file holds (never called)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_weights_placeholder, ())


_PLACEHOLDER = f"{__name__}\n_weights_placeholder\n".encode()
_TORCH_REBUILD = b"torch._utils\n_rebuild_tensor_v2\n"


def _pickle_bytes(obj: Any, weights: bool) -> bytes:
    """Protocol 4; with ``weights``, protocol 2 (globals as text, no frame lengths) with the
    placeholder renamed to torch's tensor rebuild."""
    if not weights:
        return pickle.dumps(obj, protocol=4)
    return pickle.dumps(obj, protocol=2).replace(_PLACEHOLDER, _TORCH_REBUILD)


def _evals(
    splits: Sequence[str],
    curve: np.ndarray,
    eval_time: float,
    only_last: set[str],
    rng: np.random.Generator,
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """``eval_acc1es``, ``eval_losses``, ``eval_times`` keyed ``'<split>@<epoch>'`` (one key
    object shared by the three dicts, as the benchmark's writer did)."""
    n = curve.shape[0]
    accs: dict[str, float] = {}
    losses: dict[str, float] = {}
    times: dict[str, float] = {}
    for split in splits:
        epochs = [n - 1] if split in only_last else range(n)
        acc = np.clip(curve[list(epochs)] + rng.normal(0, 0.2, len(epochs)), 0.0, 100.0)
        for e, a, loss in zip(
            epochs, acc.tolist(), (4.0 * (1 - acc / 100) + 0.05).tolist(), strict=True
        ):
            key = f"{split}@{e}"
            accs[key], losses[key], times[key] = a, loss, eval_time
    return accs, losses, times


def _run(
    cell: Cell, dataset: str, seed: int, epochs: int, spec: SyntheticSpec, rng: np.random.Generator
) -> dict[str, Any]:
    """One ResultsCount state dict."""
    n_cls, splits, best = DATASETS[dataset]
    chance = 100.0 / n_cls
    q, units = _quality(cell)
    final = chance + (best - chance) * q + (rng.normal(0, 0.4) if q > 0 else 0.0)
    t = np.arange(1, epochs + 1) / epochs
    curve = final - (final - chance) * np.exp(-4.0 * t) + rng.normal(0, 0.3, epochs) * (1 - t)
    train = np.minimum(curve + 2.0 + 0.1 * units * t, 100.0)
    per_epoch = 3.0 + 0.4 * units + rng.uniform(0, 0.5)
    times = (
        np.full(epochs, per_epoch)
        if spec.pseudo_times
        else per_epoch * rng.uniform(0.9, 1.1, epochs)
    )
    only_last = {sp for ds, sp in spec.last_epoch_only if ds == dataset}
    accs, losses, etimes = _evals(splits, curve, 0.4 * per_epoch, only_last, rng)
    return {
        "name": f"{dataset}-{seed}",
        "net_state_dict": _Weights() if spec.weights else None,
        "train_acc1es": dict(enumerate(train.tolist())),
        "train_acc5es": None,
        "train_losses": dict(enumerate((4.0 * (1 - train / 100) + 0.02).tolist())),
        "train_times": OrderedDict(enumerate(times.tolist())),
        "arch_config": {
            "name": "infer.tiny",
            "C": 16,
            "N": 5,
            "arch_str": str(cell),
            "class_num": n_cls,
        },
        "params": 0.07 + 0.012 * units * (1 + n_cls / 500),
        "flop": 10.0 + 8.5 * units,
        "seed": seed,
        "epochs": epochs,
        "latency": [0.006 + 0.0004 * units],
        "eval_names": list(splits),
        "eval_acc1es": accs,
        "eval_times": etimes,
        "eval_losses": losses,
    }


def arch_entry(arch_str: str, nats_index: int, spec: SyntheticSpec, seed: int) -> dict[str, Any]:
    """One architecture's file content: budget -> ArchResults state dict."""
    cell = Cell.from_str(arch_str)
    rng = np.random.default_rng([seed, nats_index])
    out: dict[str, Any] = {}
    for budget in spec.budgets:
        epochs = int(budget)
        seeds = list(spec.seeds)
        if (
            spec.drop_last_seed_every
            and nats_index % spec.drop_last_seed_every == 0
            and len(seeds) > 1
        ):
            seeds = seeds[:-1]
        all_results = {}
        dataset_seed = {}
        for ds in spec.datasets:
            dataset_seed[ds] = list(seeds)
            for s in seeds:
                all_results[(ds, s)] = _run(cell, ds, s, epochs, spec, rng)
        out[budget] = {
            "arch_index": nats_index,
            "arch_str": arch_str,
            "all_results": all_results,
            "dataset_seed": dataset_seed,
            "clear_net_done": not spec.weights,
        }
    return out


def nats_order(seed: int = 0) -> list[str]:
    """The 15,625 strings in a seeded order: the benchmark's index order is not ours."""
    perm = np.random.default_rng([seed, 201]).permutation(15625)
    return [str(Cell.from_index(int(i))) for i in perm]


def _dump_bz2(obj: Any, path: Path, weights: bool = False) -> None:
    path.write_bytes(bz2.compress(_pickle_bytes(obj, weights)))


def _write_files(
    folder: str, items: Sequence[tuple[int, str]], spec: SyntheticSpec, seed: int
) -> int:
    for i, arch in items:
        entry = arch_entry(arch, i, spec, seed)
        _dump_bz2(entry, Path(folder) / f"{i:06d}.pickle.pbz2", spec.weights)
    return len(items)


def write_nats_dir(
    path: str | os.PathLike[str],
    indices: Sequence[int] | None = None,
    *,
    spec: SyntheticSpec = SyntheticSpec(),
    seed: int = 0,
    n_jobs: int = 1,
) -> Path:
    """A NATS-Bench-style ``-simple`` directory: ``meta.pickle.pbz2`` plus one file per
    architecture of ``indices`` (benchmark indices; default all 15,625)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    archs = nats_order(seed)
    _dump_bz2(
        {"meta_archs": archs, "arch2infos": {}, "evaluated_indexes": set(), SYNTHETIC_KEY: True},
        folder / "meta.pickle.pbz2",
    )
    todo = [(int(i), archs[int(i)]) for i in (range(len(archs)) if indices is None else indices)]
    if n_jobs <= 1:
        _write_files(str(folder), todo, spec, seed)
        return folder
    step = max(1, len(todo) // (8 * n_jobs))
    with cf.ProcessPoolExecutor(n_jobs) as pool:
        futures = [
            pool.submit(_write_files, str(folder), todo[k : k + step], spec, seed)
            for k in range(0, len(todo), step)
        ]
        for fut in futures:
            fut.result()
    return folder


def _single(indices: Sequence[int], spec: SyntheticSpec, seed: int) -> dict[str, Any]:
    archs = nats_order(seed)
    return {
        "meta_archs": archs,
        SYNTHETIC_KEY: True,
        "arch2infos": {int(i): arch_entry(archs[int(i)], int(i), spec, seed) for i in indices},
        "evaluated_indexes": set(int(i) for i in indices),
    }


def write_nats_file(
    path: str | os.PathLike[str],
    indices: Sequence[int],
    *,
    spec: SyntheticSpec = SyntheticSpec(),
    seed: int = 0,
) -> Path:
    """A NATS-Bench-style single ``.pickle.pbz2`` holding ``indices``."""
    path = Path(path)
    _dump_bz2(_single(indices, spec, seed), path, spec.weights)
    return path


def write_nb201_pth(
    path: str | os.PathLike[str],
    indices: Sequence[int],
    *,
    container: str = "legacy",
    version: str = "v1_1",
    spec: SyntheticSpec = SyntheticSpec(),
    seed: int = 0,
) -> Path:
    """A NAS-Bench-201-style ``.pth`` (``less``/``full`` budgets) in torch's ``legacy`` or
    ``zip`` container, written with plain :mod:`pickle` and :mod:`zipfile` (no torch).
    ``version="v1_0"`` keeps only ``cifar10-valid`` in ``less``, as that release does."""
    data = _single(indices, replace(spec, budgets=("12", "200")), seed)
    for entry in data["arch2infos"].values():
        less, full = entry.pop("12"), entry.pop("200")
        if version == "v1_0":
            keep = {k: v for k, v in less["all_results"].items() if k[0] == "cifar10-valid"}
            less = {
                **less,
                "all_results": keep,
                "dataset_seed": {"cifar10-valid": less["dataset_seed"]["cifar10-valid"]},
            }
        entry["less"], entry["full"] = less, full
    path = Path(path)
    if container == "legacy":
        info = {"protocol_version": LEGACY_PROTOCOL, "little_endian": True}
        parts: tuple[Any, ...] = (LEGACY_MAGIC, LEGACY_PROTOCOL, info, data, [])
        with path.open("wb") as f:
            for obj in parts:
                pickle.dump(obj, f, protocol=2)
    elif container == "zip":
        buf = io.BytesIO()
        pickle.dump(data, buf, protocol=2)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(f"{path.stem}/data.pkl", buf.getvalue())
            zf.writestr(f"{path.stem}/byteorder", "little")
            zf.writestr(f"{path.stem}/version", "3\n")
    else:
        raise ValueError(f"container must be 'legacy' or 'zip', got {container!r}")
    return path


def write_hwnas_pickle(
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    datasets: Sequence[str] = ("cifar10", "cifar100", "ImageNet16-120"),
) -> Path:
    """An HW-NAS-Bench-style pickle: ``{'nasbench201': {dataset: {metric: array of 15,625,
    'config': [{'arch_str': ...}, ...]}}}`` in the benchmark's index order of :func:`nats_order`
    (latencies in ms, energies in mJ)."""
    archs = nats_order(seed)
    units = np.array([_quality(Cell.from_str(a))[1] for a in archs])
    rng = np.random.default_rng([seed, 0x4A5])
    space: dict[str, Any] = {}
    for ds in datasets:
        n_cls = {"cifar10": 10, "cifar100": 100}.get(ds, 120)
        entry: dict[str, Any] = {
            m: (1.0 + k + units * (0.1 + 0.02 * k)) * rng.uniform(0.95, 1.05, units.shape)
            for k, m in enumerate(HW_METRICS)
        }
        entry["config"] = [
            {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": a, "num_classes": n_cls}
            for a in archs
        ]
        space[ds] = entry
    path = Path(path)
    with path.open("wb") as f:
        pickle.dump({"nasbench201": space, "fbnet": {}, SYNTHETIC_KEY: True}, f, protocol=4)
    return path
