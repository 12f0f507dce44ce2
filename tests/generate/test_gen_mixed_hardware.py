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

    from nasbench_sim.generate.hardware import cpuinfo

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
        "hardware": {"cpu_capability": "FAKE512", "cpu_vendor": cpuinfo("vendor_id"), "gpu": None},
        "n_cells": 1,
        "cells": [CELLS[0]],
    }
    assert table.provenance["numerics"]["cpu_capability"] == "FAKE512"  # the build's first
    from analysis.datasheet import write_datasheet

    readme = write_datasheet(out, out.parent / "sheet").read_text()
    assert "trained on 2 kinds of machine" in readme
    assert "- elapsed with at least one chunk training: " in readme  # the build's clock time
    v = cpuinfo("vendor_id")
    assert (
        f"2 cells on cpu_capability {here}, cpu_vendor {v}; 1 cell on cpu_capability FAKE512"
        in readme
    )
    assert "each cell on the kind of machine that trained it" in readme
    same = readme[readme.index("The same numbers") :].split("\n")[0]
    assert "FAKE512" not in same and "cpu_capability" not in same  # not one machine's fields
    assert "`nasbench-sim recost` measures them again on one machine" in readme


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


def test_merge_of_pieces_from_two_kinds_of_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards trained on two kinds of machine merge only with ``mixed_hardware``, and the
    merged table says which cells each kind trained."""
    import torch

    from nasbench_sim.generate import merge_tables
    from nasbench_sim.generate.hardware import cells_by_hardware, cpuinfo, hardware_key
    from tests.tiny_protocol import TINY

    protocol = dataclasses.replace(
        TINY, dataset="mnist1d", epochs=1, train_subset=32, timing_cells_per_chunk=0, seeds=(0,)
    )
    cells = [11, 222, 3333, 4444]
    kw = {"cells": cells, "chunk_size": 1, "trainer": "matmul"}
    with monkeypatch.context() as m:
        m.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "FAKE512")
        a = build_table(protocol, tmp_path / "a.h5", shard="0/2", **kw)
    b = build_table(protocol, tmp_path / "b.h5", shard="1/2", **kw)
    with pytest.raises(BuildError, match="machine only: --mixed-hardware"):
        merge_tables([a, b], tmp_path / "m.h5")
    merged = read_table(merge_tables([a, b], tmp_path / "m.h5", mixed_hardware=True))
    here = str(torch.backends.cpu.get_cpu_capability())
    vendor = cpuinfo("vendor_id")
    fake, real = (
        hardware_key({"cpu_capability": c, "cpu_vendor": vendor}) for c in ("FAKE512", here)
    )
    assert cells_by_hardware(merged.arch_index, merged.provenance) == {
        fake: [11, 3333],
        real: [222, 4444],
    }
    # merged again with a piece of the merged table's own numerics (its first piece's), no
    # flag needed: the record of the cells it holds is kept
    with monkeypatch.context() as m:
        m.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "FAKE512")
        c = build_table(protocol, tmp_path / "c.h5", cells=[5555], chunk_size=1, trainer="matmul")
    again = read_table(merge_tables([tmp_path / "m.h5", c], tmp_path / "m2.h5"))
    mine = cells_by_hardware(again.arch_index, again.provenance)
    assert mine[real] == [222, 4444]
    assert sorted(mine[fake]) == [11, 3333, 5555]


def test_resume_on_the_first_machine_after_a_mixed_resume(
    started_elsewhere: tuple[Protocol, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mixed build resumed again on the machine it started on needs no flag, and a resume
    that differs beyond the machine while given the flag is not told to pass it."""
    import torch

    protocol, out = started_elsewhere
    kw = {"cells": CELLS, "chunk_size": 1, "trainer": "matmul", "resume": True}
    with pytest.raises(_Stop):  # here: one more chunk, then stop
        build_table(protocol, out, mixed_hardware=True, progress=_stop_after_first_chunk, **kw)
    assert read_manifest(parts_dir(out))["mixed_hardware"] is True
    with pytest.raises(BuildError) as err:
        build_table(protocol, out, **{**kw, "chunk_size": 2}, mixed_hardware=True)
    assert "chunk_size" in str(err.value) and "--mixed-hardware continues" not in str(err.value)
    here = str(torch.backends.cpu.get_cpu_capability())
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "FAKE512")
    table = read_table(build_table(protocol, out, **kw))  # the first machine again: no flag
    groups = table.provenance["mixed_hardware"]
    assert {g["hardware"]["cpu_capability"]: g["n_cells"] for g in groups} == {
        "FAKE512": 2,
        here: 1,
    }


def test_assembly_refuses_chunks_of_other_numerics() -> None:
    """Chunks of two machines assemble only in a build marked mixed, and never when they
    differ beyond the machine."""
    from nasbench_sim.generate.hardware import chunk_hardware

    a = {"threads": 1, "cpu_capability": "AVX512"}
    b = {"threads": 1, "cpu_capability": "AVX2", "cpu_vendor": "AuthenticAMD"}
    assert chunk_hardware("p", False, [(a, [1, 2]), (a, [3])]) == []
    with pytest.raises(BuildError, match="different numerics"):
        chunk_hardware("p", False, [(a, [1, 2]), (b, [3])])
    with pytest.raises(BuildError, match="beyond the machine"):
        chunk_hardware("p", True, [(a, [1, 2]), ({**b, "threads": 2}, [3])])
    groups = chunk_hardware("p", True, [(a, [1, 2]), (b, [3])])
    assert [(g["hardware"]["cpu_capability"], g["cells"]) for g in groups] == [
        ("AVX512", "rest"),
        ("AVX2", [3]),
    ]
