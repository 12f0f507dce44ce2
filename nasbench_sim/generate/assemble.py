"""Turning committed chunks into a table, and merging shard tables (no torch needed)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.generate.chunks import chunk_path, read_chunk, read_manifest
from nasbench_sim.generate.errors import BuildError
from nasbench_sim.generate.grad_sum import recorded_grad_sum
from nasbench_sim.generate.hardware import (
    cells_by_hardware,
    chunk_hardware,
    cpu_name,
    hardware_groups,
    hardware_only,
)
from nasbench_sim.generate.projection import elapsed_s
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.stacking import stack_size
from nasbench_sim.generate.timing_model import fit_timing_model
from nasbench_sim.table import METRICS, TableData, read_table, write_table
from nasbench_sim.table.io import software_versions

__all__ = ["assemble_parts", "changed_fields", "depends_on_chunk", "merge_tables"]

MEASURED = "train_time_measured_s"


def _table_from_rows(
    space: str,
    protocol: Mapping[str, Any],
    arch_index: np.ndarray,
    seeds: np.ndarray,
    metrics: Mapping[str, np.ndarray],
    cost: Mapping[str, np.ndarray],
    provenance: Mapping[str, Any],
) -> TableData:
    """A table sorted by cell index, with ``train_time_s`` from the timing model."""
    order = np.argsort(arch_index, kind="stable")
    arch_index = arch_index[order]
    metrics = {k: np.asarray(v)[order].astype(np.float32) for k, v in metrics.items()}
    cost = {k: np.asarray(v)[order].astype(np.float64) for k, v in cost.items()}
    timing = fit_timing_model(arch_index, cost["flops"], cost["params"], cost[MEASURED])
    cost["train_time_s"] = timing.predicted
    prov = {**provenance, **timing.provenance()}
    return TableData(
        space=space,
        dataset=str(protocol["dataset"]),
        arch_index=arch_index,
        seeds=np.asarray(seeds, dtype=np.int64),
        metrics=metrics,
        cost=cost,
        protocol=dict(protocol),
        provenance=prov,
    )


def _hardware() -> dict[str, Any]:
    return {
        "machine": platform.machine(),
        "processor": cpu_name(),
        "cpu_count": os.cpu_count(),
        "node": platform.node(),
    }


def assemble_parts(
    parts: Path, provenance: Mapping[str, Any] | None = None, allow_partial: bool = False
) -> TableData:
    """The table of a parts directory's committed chunks (those of its shard).

    Raises:
        BuildError: a chunk of the shard is missing (unless ``allow_partial``) or unreadable.
    """
    manifest = read_manifest(parts)
    shard_i, shard_n = manifest["shard"]
    ids = [c for c in range(manifest["n_chunks"]) if c % shard_n == shard_i]
    missing = [c for c in ids if not chunk_path(parts, c).exists()]
    if missing and not allow_partial:
        raise BuildError(
            f"{parts}: {len(missing)} of {len(ids)} chunks not yet trained (first: "
            f"{missing[:5]}); finish the build with --resume first"
        )
    chunks = [read_chunk(chunk_path(parts, c)) for c in ids if c not in set(missing)]
    if not chunks:
        raise BuildError(f"{parts}: no committed chunk to assemble")
    infos = [dict(ch.info) for ch in chunks]
    first = infos[0]
    protocol = {
        **manifest["protocol"],
        "splits": first.get("splits"),
        "input_shape": first.get("input_shape"),
        "n_classes": first.get("n_classes"),
    }
    names = list(chunks[0].metrics)
    metrics = {n: np.concatenate([ch.metrics[n] for ch in chunks]) for n in names}
    cost_names = list(chunks[0].cost)
    cost = {n: np.concatenate([ch.cost[n] for ch in chunks]) for n in cost_names}
    trained = [(i.get("numerics", manifest.get("numerics")), ch.arch_index)
               for ch, i in zip(chunks, infos, strict=True)]  # fmt: skip
    mixed = chunk_hardware(str(parts), bool(manifest.get("mixed_hardware")), trained)
    prov: dict[str, Any] = {
        "generator": "nasbench_sim.generate",
        "trainer": manifest["trainer"],
        # one kind of machine: the chunks' own; several: the one the build started on
        "numerics": manifest.get("numerics") if mixed else trained[0][0],
        "cpu_s": float(sum(float(i.get("cpu_s", 0.0)) for i in infos)),
        "shard": manifest["shard"],
        "chunk_size": manifest["chunk_size"],  # with the cells, fixes each cell's chunk-mates
        "plan": plan_digest(manifest["cells"], manifest["chunk_size"]),
        **({"cells_seed": manifest["cells_seed"]} if "cells_seed" in manifest else {}),
        **_stacks(manifest, infos),
        "n_chunks": len(chunks),
        "devices": sorted({str(i.get("device_name")) for i in infos}),
        "hosts": sorted({str(i.get("host")) for i in infos}),
        "train_wall_s": float(sum(float(i.get("wall_s", 0.0)) for i in infos)),
        **({"build_elapsed_s": busy} if (busy := elapsed_s(infos)) is not None else {}),
        "model_steps": int(sum(int(i.get("model_steps", 0)) for i in infos)),
        "hardware": _hardware(),
        "software": {**software_versions(), **first.get("software", {})},
        **({"mixed_hardware": mixed} if mixed else {}),
    }
    if missing:  # a build still running: what its shard and the whole build will hold
        size, every = manifest["chunk_size"], manifest["cells"]
        prov["partial"] = True
        prov["planned"] = {
            "chunks": len(ids),  # this shard's
            "cells": sum(len(every[c * size : (c + 1) * size]) for c in ids),  # this shard's
            "build_cells": len(every),  # every shard's: the build's --cells
        }
    prov.update(dict(provenance or {}))
    return _table_from_rows(
        manifest["space"],
        protocol,
        np.concatenate([ch.arch_index for ch in chunks]),
        chunks[0].seeds,
        metrics,
        cost,
        prov,
    )


def _load(path: Path) -> TableData:
    if path.is_dir():
        return assemble_parts(path)
    return read_table(path)


def merge_tables(
    paths: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    mixed_hardware: bool = False,
) -> Path:
    """Merge shard tables (or complete parts directories) into one table at ``out``.

    The inputs must share space, dataset, protocol, seeds and numerics and hold disjoint
    cells; rows come out sorted by cell index, and the training-time model is refitted on all
    cells timed alone in any shard. ``mixed_hardware``: accept inputs whose numerics differ in
    the machine only (:data:`~nasbench_sim.generate.hardware.HARDWARE_FIELDS`). The merged
    provenance ``mixed_hardware`` says which cells each kind of machine trained, whenever
    the inputs (or the builds behind them) used more than one.

    Raises:
        BuildError: fewer than one input, a protocol/seed/numerics mismatch, pieces of a
            grouped trainer from other (or unrecorded) build plans, or a cell in two inputs.

    Example:
        >>> merge_tables(["T.shard0.h5", "T.shard1.h5"], "T.h5")  # doctest: +SKIP
    """
    if not paths:
        raise BuildError("merge needs at least one shard table")
    tables = [(Path(p), _load(Path(p))) for p in paths]
    ref_path, ref = tables[0]
    ref_proto = _comparable(ref.protocol)
    seen: dict[int, Path] = {}
    for path, t in tables:
        if t.space != ref.space or t.dataset != ref.dataset:
            raise BuildError(
                f"{path}: space/dataset {t.space}/{t.dataset} differ from {ref_path}'s "
                f"{ref.space}/{ref.dataset}"
            )
        proto = _comparable(t.protocol)
        if proto != ref_proto:
            diff = sorted(
                k for k in set(proto) | set(ref_proto) if proto.get(k) != ref_proto.get(k)
            )
            raise BuildError(f"{path}: protocol differs from {ref_path}'s in {diff}")
        if not np.array_equal(t.seeds, ref.seeds):
            raise BuildError(f"{path}: seeds {t.seeds.tolist()} differ from {ref.seeds.tolist()}")
        _check_numerics(path, t.provenance, ref_path, ref.provenance, mixed_hardware)
        _check_groups(path, t.provenance, ref_path, ref.provenance)
        for i in t.arch_index.tolist():
            if i in seen:
                raise BuildError(
                    f"cell {i} is in both {seen[i]} and {path}; shards must be disjoint"
                )
            seen[i] = path
        if MEASURED not in t.cost:
            raise BuildError(f"{path}: no cost/{MEASURED}; not a table made by the generator")
    names = [n for n in ref.metrics if all(n in t.metrics for _, t in tables)]
    assert set(METRICS) <= set(names)
    metrics = {n: np.concatenate([np.asarray(t.metrics[n]) for _, t in tables]) for n in names}
    cost_names = [
        n for n in ref.cost if n != "train_time_s" and all(n in t.cost for _, t in tables)
    ]
    cost = {n: np.concatenate([np.asarray(t.cost[n]) for _, t in tables]) for n in cost_names}
    shared = [  # one build's shards share these; pieces of other plans (under shards) do not
        k
        for k in ("plan", "chunk_size", "stack_size", "cells_seed")
        if k in ref.provenance and all(t.provenance.get(k) == ref.provenance[k] for _, t in tables)
    ]
    provs = [t.provenance for _, t in tables]
    prov = {
        "generator": "nasbench_sim.generate (merge)",
        "merged_from": [str(p) for p, _ in tables],
        "shards": [dict(p) for p in provs],
        "numerics": ref.provenance.get("numerics"),
        **_union(provs),
        **{k: ref.provenance[k] for k in shared},
        "cpu_s": float(sum(float(t.provenance.get("cpu_s", 0.0)) for _, t in tables)),
        "train_wall_s": float(sum(float(t.provenance.get("train_wall_s", 0.0)) for _, t in tables)),
        "model_steps": int(sum(int(t.provenance.get("model_steps", 0)) for _, t in tables)),
    }
    kinds: dict[str, list[int]] = {}
    for _, t in tables:
        for key, cells in cells_by_hardware(t.arch_index, t.provenance).items():
            kinds.setdefault(key, []).extend(cells)
    if len(kinds) > 1:
        prov["mixed_hardware"] = hardware_groups(kinds)
    table = _table_from_rows(
        ref.space,
        ref.protocol,
        np.concatenate([t.arch_index for _, t in tables]),
        ref.seeds,
        metrics,
        cost,
        prov,
    )
    return write_table(out, table)


def _check_numerics(
    path: Path, prov: Mapping[str, Any], ref_path: Path, ref: Mapping[str, Any], mixed: bool
) -> None:
    """Refuse to merge pieces of other numerics (``mixed``: but for the machine)."""
    mine, theirs = prov.get("numerics") or {}, ref.get("numerics") or {}
    if mine == theirs or (mixed and hardware_only(mine, theirs)):
        return
    if mine.get("grad_sum") != theirs.get("grad_sum"):  # absent: autograd's order
        mine = {**mine, "grad_sum": recorded_grad_sum(mine)}
        theirs = {**theirs, "grad_sum": recorded_grad_sum(theirs)}
    shown = ", ".join(changed_fields(mine, theirs, " vs "))
    hint = (
        "; these differ in the machine only: --mixed-hardware merges them, recording which "
        "cells each kind trained"
        if hardware_only(mine, theirs)
        else ""
    )
    raise BuildError(
        f"{path} and {ref_path} were trained with other numerics ({shown}); tables trained "
        "with another trainer, gradient sum (--grad-sum), thread count, precision, device or "
        f"torch build differ beyond rounding and cannot be merged{hint}"
    )


GROUPED_TRAINERS: tuple[str, ...] = ("batched", "matmul_stacked")
"""Trainers that train several cells together (a chunk as one grouped network, or stacks of
a chunk's cells); the others train cell by cell."""


def depends_on_chunk(numerics: Mapping[str, Any] | None) -> bool:
    """Whether, under ``numerics``, a cell's curves depend in their last bits on the cells
    trained with it: the grouped trainers', except ``matmul_stacked`` with the ``"ordered"``
    gradient sum (:mod:`~nasbench_sim.generate.grad_sum`).

    Example:
        >>> depends_on_chunk({"trainer": "matmul_stacked"})  # a table built before grad_sum
        True
        >>> depends_on_chunk({"trainer": "matmul_stacked", "grad_sum": "ordered"})
        False
    """
    trainer = numerics.get("trainer") if isinstance(numerics, Mapping) else None
    return trainer in GROUPED_TRAINERS and recorded_grad_sum(numerics) != "ordered"


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], sep: str) -> list[str]:
    """``"key: old{sep}new"`` for each key whose values differ (``unset`` where absent).

    Example:
        >>> changed_fields({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}, " → ")
        ['b: 2 → 3', 'c: unset → 4']
    """
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return [f"{k}: {old.get(k, 'unset')}{sep}{new.get(k, 'unset')}" for k in keys]


def plan_digest(cells: Sequence[int], chunk_size: int) -> str:
    """SHA-256 of a build's plan (its cells in order and its chunk size), which fixes the cells
    each cell was trained with; shards of one build share it."""
    text = json.dumps({"cells": [int(c) for c in cells], "chunk_size": int(chunk_size)})
    return hashlib.sha256(text.encode()).hexdigest()


def _stacks(manifest: Mapping[str, Any], infos: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The stack size a ``matmul_stacked`` build trained with, for its provenance: as its
    chunks record it, or (chunks committed before they recorded it) by today's rule. Mixed
    sizes are refused where a cell's curves depend on its stack; otherwise none is recorded."""
    if manifest["trainer"] != "matmul_stacked":
        return {}
    sizes = {int(i["stack_size"]) for i in infos if "stack_size" in i}
    if any("stack_size" not in i for i in infos):
        sizes.add(stack_size(Protocol.from_dict(dict(manifest["protocol"]))))
    numerics = manifest.get("numerics") or {"trainer": manifest["trainer"]}
    if len(sizes) > 1 and not depends_on_chunk(numerics):
        return {}
    if len(sizes) > 1:
        raise BuildError(
            f"the chunks were trained with stack sizes {sorted(sizes)} (those that do not record "
            "it: today's rule); a cell's curves depend on its stack, so they cannot form one "
            "table: retrain the chunks of the other stack size"
        )
    return {"stack_size": sizes.pop()}


def _check_groups(
    path: Path, prov: Mapping[str, Any], ref_path: Path, ref: Mapping[str, Any]
) -> None:
    """Refuse to merge pieces whose cells were trained in other groups (another plan: cell
    list and chunk size; another stack size), for the trainers whose numbers depend on them."""
    numerics = ref.get("numerics") or {"trainer": ref.get("trainer")}
    if not depends_on_chunk(numerics):
        return
    trainer = numerics.get("trainer")
    keys = (
        ("plan", "chunk_size", "stack_size")
        if trainer == "matmul_stacked"
        else ("plan", "chunk_size")
    )
    mine, theirs = [prov.get(k) for k in keys], [ref.get(k) for k in keys]
    if mine != theirs or None in mine:
        raise BuildError(
            f"{path} was trained with {_said(keys, mine)}, {ref_path} with "
            f"{_said(keys, theirs)}: with the "
            f"{trainer} trainer a cell's curves depend on the cells trained with it "
            '(docs/generator.md, "A cell\'s stack-mates"), so only pieces of one build '
            "plan merge: build the pieces as shards of one build (--shard i/n)"
            + (
                ", or train them with --grad-sum ordered, whose pieces merge whatever their plan"
                if trainer == "matmul_stacked"
                else ""
            )
            + ". A piece must record its plan; one assembled by an older version does not: "
            "merge its parts directory instead, if it was kept."
        )


def _union(provs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the pieces' builds ran on, for the merged table's datasheet: the trainer, devices
    and hosts of all, and their hardware and training software (one value when all agree, else
    the list of distinct ones)."""
    out: dict[str, Any] = {}
    if provs and all("trainer" in p for p in provs):
        out["trainer"] = provs[0]["trainer"]  # one numerics: one trainer
    for key in ("devices", "hosts"):
        if any(key in p for p in provs):
            out[key] = sorted({str(v) for p in provs for v in p.get(key, [])})
    for key in ("hardware", "software"):
        seen = [p[key] for p in provs if key in p]
        distinct = [v for i, v in enumerate(seen) if v not in seen[:i]]
        if distinct:
            out[key] = distinct[0] if len(distinct) == 1 else distinct
    return out


def _said(keys: Sequence[str], values: Sequence[Any]) -> str:
    def shown(key: str, value: Any) -> str:
        if value is None:
            return "unrecorded"
        return f"{value[:12]}..." if key == "plan" else str(value)

    return ", ".join(f"{k} {shown(k, v)}" for k, v in zip(keys, values, strict=True))


def _comparable(protocol: Mapping[str, Any]) -> dict[str, Any]:
    """The protocol as plain JSON values (tuples and lists compare equal)."""
    return dict(json.loads(json.dumps(dict(protocol), sort_keys=True, default=str)))
