"""NAS-Bench-201 ``.pth`` import: both torch containers, v1.0 and v1.1, without torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.importers import ImportFormatError, import_benchmark, import_nb201, selections
from nasbench_sim.importers.synthetic import write_nb201_pth
from nasbench_sim.importers.torch_file import read_torch_file
from nasbench_sim.space import Cell
from nasbench_sim.table import read_table
from tests.importers.conftest import INDICES

SOME = INDICES[:12]


@pytest.mark.parametrize("container", ["legacy", "zip"])
def test_less_and_full_map_to_12_and_200_epochs(tmp_path: Path, container: str) -> None:
    pth = write_nb201_pth(tmp_path / "NAS-Bench-201-v1_1-096897.pth", SOME, container=container)
    source = read_torch_file(pth)
    reports = import_benchmark(
        "nb201", pth, tmp_path / "nb201_{dataset}_{epochs}.h5", dataset="cifar100", epochs="12,200"
    )
    assert [r.epochs for r in reports] == [12, 200]
    for report, key in zip(reports, ("less", "full"), strict=True):
        table = read_table(report.out)
        prov = table.provenance
        assert (
            prov["source"]["version"] == "v1_1" and prov["source"]["checksum_in_name"] == "096897"
        )
        assert prov["source"]["sha256"] and prov["times"]["kind"] == "pseudo"
        for row in (0, len(SOME) - 1):
            arch = str(Cell.from_index(int(table.arch_index[row])))
            idx = source["meta_archs"].index(arch)
            state = source["arch2infos"][idx][key]
            for j, seed in enumerate(table.seeds.tolist()):
                run = state["all_results"].get(("cifar100", seed))
                if run is None:
                    assert np.isnan(table.metrics["valid_acc"][row, j]).all()
                    continue
                last = report.epochs - 1
                assert table.metrics["valid_acc"][row, j, last] == pytest.approx(
                    run["eval_acc1es"][f"x-valid@{last}"] / 100
                )
                assert table.metrics["test_acc"][row, j, 0] == pytest.approx(
                    run["eval_acc1es"]["x-test@0"] / 100
                )


def test_v1_0_has_cifar10_valid_only_at_12_epochs(tmp_path: Path) -> None:
    pth = write_nb201_pth(tmp_path / "NAS-Bench-201-v1_0-e61699.pth", SOME, version="v1_0")
    with pytest.raises(
        ImportFormatError, match=r"no architecture has cifar100 results at budget 12"
    ):
        import_nb201(pth, tmp_path / "x.h5", selections("cifar100", "12"))
    (r,) = import_nb201(pth, tmp_path / "c10v.h5", selections("cifar10-valid", "12"))
    assert r.rows == len(SOME) and read_table(r.out).provenance["source"]["version"] == "v1_0"


def test_same_records_as_the_nats_file(tmp_path: Path, nats_file: Path) -> None:
    """NB201's .pth and NATS' single file hold the same ArchResults records."""
    pth = write_nb201_pth(tmp_path / "NAS-Bench-201-v1_1-096897.pth", INDICES, container="zip")
    sels = selections("ImageNet16-120", "200")
    (a,) = import_nb201(pth, tmp_path / "a.h5", sels)
    (b,) = import_benchmark("nats", nats_file, tmp_path / "b.h5", dataset="ImageNet16-120")
    ta, tb = read_table(a.out), read_table(b.out)
    for name in ta.metrics:
        np.testing.assert_array_equal(ta.metrics[name], tb.metrics[name])


def test_not_a_benchmark_file(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pth"
    torch.save({"epoch": 3}, path)
    with pytest.raises(ImportFormatError, match=r"model\.pth: a torch file, but not NAS-Bench-201"):
        import_nb201(path, tmp_path / "x.h5", selections("cifar10-valid", "200"))
    with pytest.raises(ImportFormatError, match="a directory"):
        import_nb201(tmp_path, tmp_path / "x.h5", selections("cifar10-valid", "200"))
