"""Per-architecture CSV / Parquet: columns mapped, units detected, no times budgeted in queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.bench import Benchmark
from nasbench_sim.importers import ImportFormatError, import_benchmark, import_csv
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.search.run import run
from nasbench_sim.space import Cell, NB201Space
from nasbench_sim.table import read_table

ARCHS = [str(Cell.from_index(i)) for i in range(7, 15625, 311)]  # 51 cells


def _frame(percent: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    scale = 100.0 if percent else 1.0
    return pd.DataFrame(
        {
            "arch_str": ARCHS,
            "val_acc": rng.uniform(0.5, 0.9, len(ARCHS)) * scale,
            "test_accuracy": rng.uniform(0.5, 0.9, len(ARCHS)) * scale,
            "params": rng.uniform(1e5, 1e6, len(ARCHS)),
            "energy": rng.uniform(1, 5, len(ARCHS)),
        }
    )


def test_percent_is_detected_and_converted(tmp_path: Path) -> None:
    frame = _frame()
    frame.to_csv(tmp_path / "export.csv", index=False)
    r = import_csv(
        tmp_path / "export.csv",
        tmp_path / "t.h5",
        metrics={"valid_acc": "val_acc", "test_acc": "test_accuracy", "params": "params"},
        costs={"energy_mj": "energy"},
        epochs_trained=200,
    )
    table = read_table(r.out)
    assert table.n_epochs == 1 and table.seeds.tolist() == [0] and table.dataset == "export"
    for row, idx in enumerate(table.arch_index):
        k = ARCHS.index(str(Cell.from_index(int(idx))))
        assert table.metrics["valid_acc"][row, 0, 0] == pytest.approx(frame.val_acc[k] / 100)
        assert table.metrics["test_acc"][row, 0, 0] == pytest.approx(frame.test_accuracy[k] / 100)
        assert table.cost["energy_mj"][row] == pytest.approx(frame.energy[k])
    assert "detected: percent" in table.provenance["units"]["accuracy"]
    assert np.isnan(table.metrics["train_acc"]).all() and np.isnan(table.cost["flops"]).all()
    assert table.protocol["epochs_trained"] == 200 and r.times == "absent"
    assert any("budgeted in queries" in w for w in r.warnings)


def test_fractions_seeds_and_default_columns(tmp_path: Path) -> None:
    rows = []
    for k, arch in enumerate(ARCHS[:10]):
        for seed in (11, 22):
            if k == 3 and seed == 22:
                continue  # a missing run
            rows.append(
                {
                    "arch": arch,
                    "seed": seed,
                    "valid_acc": 0.5 + 0.01 * k + seed / 1000,
                    "test_acc": 0.6,
                    "train_time_s": 100.0 + k,
                }
            )
    path = tmp_path / "runs.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    r = import_benchmark("csv", path, tmp_path / "t.h5", seed_col="seed", dataset="cifar10")
    (report,) = r
    table = read_table(report.out)
    assert table.seeds.tolist() == [11, 22] and table.dataset == "cifar10"
    assert report.missing_runs == {"22": 1}
    assert "detected: fraction" in table.provenance["units"]["accuracy"]
    row = int(np.nonzero(table.arch_index == Cell.from_str(ARCHS[2]).index)[0][0])
    assert table.metrics["valid_acc"][row, 1, 0] == pytest.approx(0.5 + 0.02 + 0.022)
    assert table.cost["train_time_s"][row] == pytest.approx(102.0)
    bench = Benchmark.load(report.out)
    assert bench.time_unit == "s" and bench.info()["missing_runs"] == {"22": 1}


def test_a_table_without_times_is_budgeted_in_queries(tmp_path: Path) -> None:
    archs = [str(Cell.from_index(int(i))) for i in NB201Space().representatives()]
    frame = pd.DataFrame({"arch": archs}).assign(
        valid_acc=np.linspace(0.5, 0.9, len(archs)), test_acc=np.linspace(0.5, 0.9, len(archs))
    )  # every class has a row: a search may propose any cell
    frame.to_csv(tmp_path / "e.csv")
    (r,) = import_benchmark("csv", tmp_path / "e.csv", tmp_path / "t.h5", acc_unit="fraction")
    bench = Benchmark.load(r.out)
    assert not bench.table.has_times and bench.time_unit == "epoch"
    assert bench.info()["times"].startswith("none recorded")
    budget = parse_budget("30x", bench)
    assert budget.queries == 30 and budget.time_s is None
    with pytest.raises(ValueError, match="records no training times"):
        parse_budget("10h", bench)
    result = run("evolution", bench, budget, seed=0)
    assert len(result.log) == 30 and np.isfinite(result.log["finish"]).all()
    assert set(result.log["cost"]) <= {0.0, 1.0}  # one unit per training, re-reads free
    assert result.log["finish"].iloc[-1] == result.log["cost"].sum()


def test_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    _frame().to_parquet(tmp_path / "e.parquet")
    (r,) = import_benchmark(
        "parquet", tmp_path / "e.parquet", tmp_path / "t.h5", metrics={"valid_acc": "val_acc"}
    )
    assert r.format == "parquet" and read_table(r.out).n_cells == len(ARCHS)


def test_bad_files_and_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    _frame().to_csv(path, index=False)
    out = tmp_path / "t.h5"
    with pytest.raises(ImportFormatError, match=r"no accuracy column mapped.*'val_acc'"):
        import_csv(path, out)
    with pytest.raises(ImportFormatError, match=r"no valid_acc column 'acc'; columns are"):
        import_csv(path, out, metrics={"valid_acc": "acc"})
    with pytest.raises(ImportFormatError, match="unknown metric 'accuracy'"):
        import_csv(path, out, metrics={"accuracy": "val_acc"})
    with pytest.raises(ImportFormatError, match="declared fractions but one is"):
        import_csv(path, out, metrics={"valid_acc": "val_acc"}, acc_unit="fraction")
    frame = _frame()
    frame.loc[4, "arch_str"] = "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    frame.to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match=r"e\.csv: row 5: .*unknown op 'conv'"):
        import_csv(path, out, metrics={"valid_acc": "val_acc"})
    frame = pd.concat([_frame(), _frame().iloc[:1]])
    frame.to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match="appears on rows"):
        import_csv(path, out, metrics={"valid_acc": "val_acc"})
    frame = _frame()
    frame["val_acc"] = frame["val_acc"].astype(object)
    frame.loc[2, "val_acc"] = "n/a%"
    frame.to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match=r"row 3: column 'val_acc' holds 'n/a%'"):
        import_csv(path, out, metrics={"valid_acc": "val_acc"})
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ImportFormatError, match="empty file"):
        import_csv(tmp_path / "empty.csv", out)
    (tmp_path / "bin.csv").write_bytes(b"\x00\xff\xfe" * 100)
    with pytest.raises(ImportFormatError, match=r"bin\.csv"):
        import_csv(tmp_path / "bin.csv", out)
