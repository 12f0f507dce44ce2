"""HW-NAS-Bench costs added to imported and to our own tables, matched by string."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import Benchmark
from nasbench_sim.importers import ImportFormatError, add_hw_costs, import_benchmark
from nasbench_sim.importers.hwnas import hw_cost_name
from nasbench_sim.importers.synthetic import HW_METRICS
from nasbench_sim.space import Cell
from nasbench_sim.table import make_synthetic_table, read_table, write_table


def test_costs_land_on_the_right_rows(nats_dir: Path, hw_pickle: Path, tmp_path: Path) -> None:
    (base,) = import_benchmark("nats", nats_dir, tmp_path / "c100.h5", dataset="cifar100")
    (r,) = import_benchmark("hwnas", hw_pickle, tmp_path / "c100_hw.h5", table=base.out)
    assert r.hw_dataset == "cifar100" and r.unmatched == 0
    assert r.added == tuple(hw_cost_name(m) for m in HW_METRICS)
    assert "hw_edgegpu_latency_ms" in r.added and "hw_fpga_energy_mj" in r.added
    source = pickle.loads(hw_pickle.read_bytes())["nasbench201"]["cifar100"]
    strings = [c["arch_str"] for c in source["config"]]
    table = read_table(r.out)
    for row, idx in enumerate(table.arch_index):
        k = strings.index(str(Cell.from_index(int(idx))))  # HW-NAS-Bench's own order
        for m in HW_METRICS:
            assert table.cost[hw_cost_name(m)][row] == pytest.approx(source[m][k])
    before = read_table(base.out)
    for name in before.metrics:  # the rows themselves are unchanged
        np.testing.assert_array_equal(table.metrics[name], before.metrics[name])
    prov = table.provenance["hardware_costs"]
    assert prov["matched_by"] == "architecture string" and prov["dataset"] == "cifar100"
    assert "hw_pixel3_latency_ms" in Benchmark.load(r.out).info()["cost_metrics"]


def test_our_own_table_needs_an_explicit_dataset(hw_pickle: Path, tmp_path: Path) -> None:
    own = write_table(tmp_path / "own.h5", make_synthetic_table(0, cells=30, n_epochs=3))
    with pytest.raises(ImportFormatError, match="no HW-NAS-Bench counterpart"):
        add_hw_costs(hw_pickle, own, tmp_path / "x.h5")
    r = add_hw_costs(hw_pickle, own, own, hw_dataset="cifar10", metrics=["edgegpu_latency"])
    table = read_table(own)
    assert r.added == ("hw_edgegpu_latency_ms",) and np.isfinite(table.cost[r.added[0]]).all()
    assert "not on this table's synthetic network" in table.provenance["hardware_costs"]["note"]


def test_bad_hw_files_are_named(hw_pickle: Path, tmp_path: Path) -> None:
    own = write_table(tmp_path / "own.h5", make_synthetic_table(0, cells=10, n_epochs=2))
    with pytest.raises(ImportFormatError, match=r"no 'mnist' measurements; the file has"):
        add_hw_costs(hw_pickle, own, tmp_path / "x.h5", hw_dataset="mnist")
    with pytest.raises(ImportFormatError, match="no metric 'gpu_watts'"):
        add_hw_costs(hw_pickle, own, tmp_path / "x.h5", hw_dataset="cifar10", metrics=["gpu_watts"])
    other = tmp_path / "other.pickle"
    other.write_bytes(pickle.dumps({"fbnet": {}}))
    with pytest.raises(ImportFormatError, match=r"other\.pickle: not HW-NAS-Bench's pickle"):
        add_hw_costs(other, own, tmp_path / "x.h5", hw_dataset="cifar10")
    no_config = tmp_path / "noconfig.pickle"
    no_config.write_bytes(pickle.dumps({"nasbench201": {"cifar10": {"edgegpu_latency": [1.0]}}}))
    with pytest.raises(ImportFormatError, match="cannot be matched by string"):
        add_hw_costs(no_config, own, tmp_path / "x.h5", hw_dataset="cifar10")
    cut = tmp_path / "cut.pickle"
    cut.write_bytes(hw_pickle.read_bytes()[:5000])
    with pytest.raises(ImportFormatError, match=r"cut\.pickle: .*truncated"):
        add_hw_costs(cut, own, tmp_path / "x.h5", hw_dataset="cifar10")
    with pytest.raises(ImportFormatError, match="give table="):
        import_benchmark("hwnas", hw_pickle, tmp_path / "x.h5")
