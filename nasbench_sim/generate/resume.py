"""Opening a build's parts directory: creating it with its manifest, or checking that a
resume continues the same build (``build --resume``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench_sim.generate.assemble import changed_fields
from nasbench_sim.generate.chunks import read_manifest, remove_stale_temps, write_manifest
from nasbench_sim.generate.errors import BuildError
from nasbench_sim.generate.grad_sum import recorded_grad_sum
from nasbench_sim.generate.hardware import hardware_only

__all__ = ["open_parts"]


def open_parts(
    parts: Path, out: Path, manifest: dict[str, Any], resume: bool, mixed_hardware: bool = False
) -> bool:
    """Create ``parts`` with its manifest, or check an existing one for a resume (marking it
    ``mixed_hardware`` when it continues on another kind of machine); True when this call
    created it."""
    if parts.exists():
        n = len(list(parts.glob("chunk-*.npz")))
        discard = (
            f"discard it (and its {n} committed chunk(s)) with --restart (restart=True) or "
            f"`rm -r {parts}`"
        )
        if not resume:
            raise BuildError(
                f"{parts} exists (an unfinished build): pass --resume (resume=True) to continue "
                f"it, or {discard}"
            )
        _check_manifest(parts, manifest, discard, mixed_hardware)
        remove_stale_temps(parts)
        return False
    if out.exists():
        raise BuildError(f"{out} exists already; remove it or choose another --out")
    parts.mkdir(parents=True)
    write_manifest(parts, manifest)
    return True


def _differences(have: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """``key`` for each key whose values differ; ``key (field: started → asked, ...)`` where
    both are mappings (the protocol, the numerics); the cells' list only by its length."""
    out = []
    for key in want:
        old, new = have.get(key), want[key]
        if old == new or (key == "cells_seed" and key not in have):  # older manifests: the
            continue  # cell list, compared too, is what the draw gave
        if isinstance(old, dict) and isinstance(new, dict):
            out.append(f"{key} ({', '.join(changed_fields(old, new, ' → '))})")
        elif key == "cells" and isinstance(old, list) and isinstance(new, list):
            n_old, n_new = len(old), len(new)
            same_count = "cells (others, as many)"
            out.append(f"cells ({n_old} → {n_new})" if n_old != n_new else same_count)
        else:
            out.append(f"{key} ({old} → {new})")
    return out


def _check_manifest(
    parts: Path, want: dict[str, Any], discard: str, mixed_hardware: bool = False
) -> None:
    have = read_manifest(parts)
    other_machine = have.get("numerics") != want["numerics"] and hardware_only(
        have.get("numerics"), want["numerics"]
    )
    if other_machine and mixed_hardware:  # compare the rest; record that machines mixed
        diff = _differences(have, {**want, "numerics": have.get("numerics")})
        if not diff and not have.get("mixed_hardware"):
            kept = {k: v for k, v in have.items() if k not in ("format", "version")}
            write_manifest(parts, {**kept, "mixed_hardware": True})
    else:
        diff = _differences(have, want)
    if diff:
        started, asked = (
            recorded_grad_sum(have.get("numerics")),
            recorded_grad_sum(want.get("numerics")),
        )
        hint = ""
        if have.get("trainer") != want.get("trainer"):
            hint = f" (it was started with trainer {have.get('trainer')!r}: pass that trainer)"
        elif started != asked and started is not None and asked is not None:
            hint = f" (it was started with --grad-sum {started}, this call asks for {asked})"
        elif other_machine and not mixed_hardware and len(diff) == 1:
            hint = (
                " (it was started on another kind of machine: --mixed-hardware continues it "
                "here, recording which cells each machine trained; see "
                "benchmarks/hardware_effect.py for what that changes)"
            )
        raise BuildError(
            f"{parts} belongs to a different build (started → asked: {'; '.join(diff)}){hint}; "
            "resume with the same protocol, cells, chunk size, shard, trainer and numerics, "
            f"or {discard}"
        )
