"""A build continued on another kind of machine (``--mixed-hardware``): refused by default,
accepted when asked for, and the table says which machine trained which cells."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nasbench_sim.generate import BuildError, Protocol, build_table
from nasbench_sim.generate.chunks import parts_dir, read_manifest
from nasbench_sim.table import read_table

CELLS = [11, 222, 3333]


class _Stop(Exception):
    pass


def _stop_after_first_chunk(progress: object) -> None:
    if not getattr(progress, "skipped", False):
        raise _Stop


@pytest.fixture()
def started_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Protocol, Path]:
    """A build of 3 one-cell chunks whose first chunk a 'FAKE512' CPU trained, then stopped."""
    import torch

    from tests.tiny_protocol import TINY

    protocol = dataclasses.replace(
        TINY, dataset="mnist1d", epochs=1, train_subset=32, timing_cells_per_chunk=0, seeds=(0,)
    )
    out = tmp_path / "t.h5"
    with monkeypatch.context() as m:
        m.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "FAKE512")
        with pytest.raises(_Stop):
            build_table(
                protocol, out, cells=CELLS, chunk_size=1, trainer="matmul",
                progress=_stop_after_first_chunk,
            )  # fmt: skip
    assert read_manifest(parts_dir(out))["numerics"]["cpu_capability"] == "FAKE512"
    return protocol, out


def test_resume_on_another_cpu_is_refused_with_a_pointer_to_the_flag(
    started_elsewhere: tuple[Protocol, Path],
) -> None:
    protocol, out = started_elsewhere
    with pytest.raises(BuildError, match=r"cpu_capability: FAKE512 → .*--mixed-hardware"):
        build_table(protocol, out, cells=CELLS, chunk_size=1, trainer="matmul", resume=True)


def test_mixed_hardware_resume_records_each_machines_cells(
    started_elsewhere: tuple[Protocol, Path],
) -> None:
    import torch

    protocol, out = started_elsewhere
    build_table(
        protocol, out, cells=CELLS, chunk_size=1, trainer="matmul", resume=True,
        mixed_hardware=True,
    )  # fmt: skip
    table = read_table(out)
    here = str(torch.backends.cpu.get_cpu_capability())
    groups = {g["hardware"]["cpu_capability"]: g for g in table.provenance["mixed_hardware"]}
    assert set(groups) == {"FAKE512", here}
    assert groups[here]["n_cells"] == 2 and groups[here]["cells"] == "rest"
    assert groups["FAKE512"] == {
        "hardware": {"cpu_capability": "FAKE512", "gpu": None},
        "n_cells": 1,
        "cells": [CELLS[0]],
    }
    assert table.provenance["numerics"]["cpu_capability"] == "FAKE512"  # the build's first
    from analysis.datasheet import write_datasheet

    readme = write_datasheet(out, out.parent / "sheet").read_text()
    assert "trained on 2 kinds of machine" in readme
    assert f"2 cells on cpu_capability {here}; 1 cell on cpu_capability FAKE512" in readme
    assert "each cell on the kind of machine that trained it" in readme


def test_mixed_hardware_does_not_excuse_other_numerics(
    started_elsewhere: tuple[Protocol, Path],
) -> None:
    protocol, out = started_elsewhere
    with pytest.raises(BuildError, match="threads"):
        build_table(
            protocol, out, cells=CELLS, chunk_size=1, trainer="matmul", resume=True,
            mixed_hardware=True, threads=2,
        )  # fmt: skip
    assert not read_manifest(parts_dir(out)).get("mixed_hardware")
