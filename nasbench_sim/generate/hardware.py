"""The kind of machine a training run's numbers depend on, and builds that mixed kinds.

Torch and its math libraries pick kernels by the CPU's instruction set (and vendor) or the GPU
model, so the same run on another kind of machine rounds differently. A build continued on
another kind (``build --mixed-hardware``) records which cells each kind trained, in the
table's provenance ``mixed_hardware``: one entry per kind, ``{"hardware": {...}, "n_cells":
n, "cells": [...]}``, the largest kind's cells written as ``"rest"`` to keep it small.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nasbench_sim.generate.errors import BuildError

__all__ = [
    "HARDWARE_FIELDS",
    "cells_by_hardware",
    "chunk_hardware",
    "cpu_name",
    "cpuinfo",
    "describe_groups",
    "describe_hardware",
    "hardware_groups",
    "hardware_key",
    "hardware_only",
    "same_machine",
]

#: The fields of :func:`~nasbench_sim.generate.worker.numerics` that name the machine rather
#: than a choice of the build: the CPU's instruction set (torch picks its kernels by it), its
#: vendor (so do math libraries; recorded from 2026-12-01 on) and the GPU model. A build
#: continued on another machine (``build_table(mixed_hardware=True)``) may differ in these only.
HARDWARE_FIELDS = ("cpu_capability", "cpu_vendor", "gpu")


def hardware_only(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two ``numerics`` differ at most in :data:`HARDWARE_FIELDS`.

    Example:
        >>> hardware_only({"threads": 1, "cpu_capability": "AVX512"},
        ...               {"threads": 1, "cpu_capability": "AVX2"})
        True
        >>> hardware_only({"threads": 1}, {"threads": 2})
        False
    """
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    return _choices(a) == _choices(b)


def _choices(n: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in n.items() if k not in HARDWARE_FIELDS}


def hardware_key(numerics: Mapping[str, Any] | None) -> str:
    """The hardware fields of ``numerics`` as a canonical JSON string (a dict key)."""
    n = numerics if isinstance(numerics, Mapping) else {}
    return json.dumps({f: n.get(f) for f in HARDWARE_FIELDS}, sort_keys=True)


def hardware_groups(groups: Mapping[str, Iterable[int]]) -> list[dict[str, Any]]:
    """Provenance ``mixed_hardware`` of ``{hardware_key: cells}``: ``[]`` for one kind.

    Example:
        >>> k1 = hardware_key({"cpu_capability": "AVX512"})
        >>> k2 = hardware_key({"cpu_capability": "AVX2"})
        >>> [g["cells"] for g in hardware_groups({k1: [1, 2, 3], k2: [9, 4]})]
        ['rest', [4, 9]]
    """
    sized = sorted(((k, sorted(int(c) for c in v)) for k, v in groups.items()),
                   key=lambda kv: (-len(kv[1]), kv[0]))  # fmt: skip
    if len(sized) < 2:
        return []
    return [
        {"hardware": json.loads(key), "n_cells": len(cells), "cells": "rest" if r == 0 else cells}
        for r, (key, cells) in enumerate(sized)
    ]


def cells_by_hardware(cells: Iterable[int], provenance: Mapping[str, Any]) -> dict[str, list[int]]:
    """``{hardware_key: cells}`` of a table's ``cells`` (its ``arch_index``): from its
    provenance ``mixed_hardware`` where it has one, else all on its numerics' machine."""
    cells = [int(c) for c in cells]
    groups = provenance.get("mixed_hardware")
    if not groups:
        return {hardware_key(provenance.get("numerics")): cells}
    out: dict[str, list[int]] = {}
    listed: set[int] = set()
    rest_key = None
    for g in groups:
        key = hardware_key(g.get("hardware"))
        if g.get("cells") == "rest":
            rest_key = key
        else:
            out[key] = [int(c) for c in g["cells"]]
            listed.update(out[key])
    if rest_key is not None:
        out.setdefault(rest_key, []).extend(c for c in cells if c not in listed)
    return out


def chunk_hardware(
    where: str, mixed: bool, chunks: Sequence[tuple[Mapping[str, Any] | None, Iterable[int]]]
) -> list[dict[str, Any]]:
    """Check that a build's chunks, ``(numerics, cells)`` each, share one numerics; in a
    build continued on other machines (``mixed``: its manifest's ``mixed_hardware``) they may
    differ in :data:`HARDWARE_FIELDS` only, and then the result says which cells each kind
    trained (:func:`hardware_groups`); else ``[]``.

    Raises:
        BuildError: other numerics, and not a mixed build or not in the machine only.
    """
    found = {json.dumps(n, sort_keys=True) for n, _ in chunks}
    if len(found) <= 1:
        return []
    if not mixed:
        raise BuildError(
            f"{where}: chunks were trained with different numerics ({sorted(found)}); their "
            "numbers are not comparable: retrain them with one setting"
        )
    every = [json.loads(n) for n in found]
    if not all(hardware_only(every[0], n) for n in every[1:]):
        raise BuildError(
            f"{where}: chunks differ in their numerics beyond the machine ({sorted(found)}); "
            f"only {', '.join(HARDWARE_FIELDS)} may differ in a --mixed-hardware build"
        )
    groups: dict[str, list[int]] = {}
    for n, cells in chunks:
        groups.setdefault(hardware_key(n), []).extend(int(c) for c in cells)
    return hardware_groups(groups)


def describe_groups(groups: Iterable[Mapping[str, Any]]) -> str:
    """Provenance ``mixed_hardware`` in words: ``"5,152 cells on cpu_capability AVX512; ..."``.

    Example:
        >>> describe_groups([{"hardware": {"cpu_capability": "AVX2", "gpu": None}, "n_cells": 1}])
        '1 cell on cpu_capability AVX2'
    """
    said = []
    for g in groups:
        n = g.get("n_cells")
        count = f"{n:,} cell{'' if n == 1 else 's'}" if isinstance(n, int) else "? cells"
        said.append(f"{count} on {describe_hardware(g.get('hardware'))}")
    return "; ".join(said)


def describe_hardware(numerics: Mapping[str, Any] | None) -> str:
    """The hardware fields of ``numerics`` (or of a group's ``hardware``) in words.

    Example:
        >>> describe_hardware({"threads": 1, "cpu_capability": "AVX2", "gpu": None})
        'cpu_capability AVX2'
    """
    n = numerics if isinstance(numerics, Mapping) else {}
    said = ", ".join(f"{k} {n[k]}" for k in HARDWARE_FIELDS if n.get(k))
    return said or "an unrecorded machine"


def same_machine(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two ``numerics`` name the same kind of machine, in every hardware field both
    record (chunks from before the CPU vendor was recorded have none).

    Example:
        >>> same_machine({"cpu_capability": "AVX2"},
        ...              {"cpu_capability": "AVX2", "cpu_vendor": "AuthenticAMD"})
        True
    """
    return all(a[k] == b[k] for k in HARDWARE_FIELDS if k in a and k in b)


def cpu_name() -> str:
    """The CPU model (/proc/cpuinfo's model name), else what :mod:`platform` says."""
    return cpuinfo("model name") or platform.processor() or platform.machine() or "cpu"


def cpuinfo(field: str) -> str | None:
    """The first value of ``field`` in /proc/cpuinfo (``"vendor_id"``, ``"model name"``), or
    None where there is none (not Linux). Math libraries pick kernels by the CPU's vendor as
    well as its instruction set."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == field:
                    return value.strip()
    except OSError:
        pass
    return None
