"""compare, audit and the gap study as library functions with typed results (what the CLI
prints is theirs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nasbench_sim
from analysis.audit import AuditResult, audit
from analysis.compare import OUTPUT_FILES, Comparison, compare, write_comparison
from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.oneshot import GapReport, GapStudy, gap_study, write_gap_study, write_oneshot
from nasbench_sim.strategies import select_strategies
from nasbench_sim.table import make_synthetic_table, write_table
from tests.conftest import synthetic_oneshot_records


def test_compare_returns_a_typed_comparison(
    synthetic_bench: TabularBenchmark, tmp_path: Path
) -> None:
    budget = Budget(time_s=30 * synthetic_bench.full_training_time)
    comp = compare(synthetic_bench, ["random", "evolution", "bo_xgb"], range(3), budget)
    assert isinstance(comp, Comparison)
    assert set(comp.strategies) == {"random", "evolution", "bo_xgb"}
    assert comp.summary["runs"].tolist() == [3, 3, 3] and comp.baseline == "random"
    assert comp.source.synthetic and comp.best_test_acc == synthetic_bench.best_test_acc
    diag = comp.replays.diagnostics
    fits = diag[(diag["strategy"] == "bo_xgb") & (diag["name"] == "n_fits")]["value"]
    assert len(fits) == 3 and (fits.astype(int) > 0).all()
    files = write_comparison(comp, tmp_path / "out")
    assert [f.name for f in files] == list(OUTPUT_FILES) and all(f.is_file() for f in files)
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["synthetic"] is True and meta["baseline"] == "random"
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["mean_regret"].tolist() == pytest.approx(comp.summary["mean_regret"].tolist())


def test_audit_returns_how_far_surrogates_move_the_ranking(
    synthetic_bench: TabularBenchmark,
) -> None:
    budget = Budget(time_s=20 * synthetic_bench.full_training_time)
    result = audit(synthetic_bench, ["random", "evolution"], range(3), budget, (0.1,))
    assert isinstance(result, AuditResult)
    assert result.sources == ("table", "surrogate 10%")
    row = result.agreement.iloc[0]
    assert -1 <= row["kendall_tau_vs_table"] <= 1
    table = result.regret_table()
    shift = table["surrogate 10%"] - table["table"]
    assert row["max_abs_shift"] == pytest.approx(float(shift.abs().max()))
    with pytest.raises(ValueError, match="fractions"):
        audit(synthetic_bench, ["random"], [0], budget, (1.5,))


def test_the_audit_plot_names_the_table_budget_and_workers(
    synthetic_bench: TabularBenchmark,
) -> None:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from analysis.audit import audit_figure
    from analysis.plot_style import RC

    result = audit(synthetic_bench, ["random", "evolution"], range(2), "20x", (0.1,), n_workers=2)
    with matplotlib.rc_context(RC):  # as write_audit draws it
        fig = audit_figure(result)
    title = fig.axes[0].get_title()
    assert title.lower().count("synthetic") == 1 and "budget 20x = " in title, title
    assert "2 workers" in title and "2 seeds" in title and "xgb" in title
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig.axes[0].title.get_window_extent(canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1, "the title runs off the figure"


@pytest.fixture(scope="module")
def table_with_supernets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_table(
        tmp_path_factory.mktemp("gap") / "t.h5", make_synthetic_table(0, n_epochs=12)
    )
    bench = nasbench_sim.open(str(path))
    for kw in synthetic_oneshot_records(bench).values():
        for rec in kw["records"]:
            write_oneshot(path, rec)
    return path


def test_the_gap_study_reports_spos_darts_and_gdas_alike(
    table_with_supernets: Path, tmp_path: Path
) -> None:
    study = gap_study(table_with_supernets, ks=(10, 0.05))
    assert isinstance(study, GapStudy) and study.synthetic
    assert [(r.method, r.seed) for r in study.reports] == [
        (m, s) for m in ("darts", "gdas", "spos") for s in (0, 1)
    ]
    for rep in study.reports:
        assert isinstance(rep, GapReport) and rep.n_cells == 6466
        # the made-up super-networks follow the table's accuracy: they rank cells well
        assert 0.2 < rep.kendall_tau <= 1 and set(rep.precision) == {10, 323}
        assert bool(rep.derived) == (rep.method != "spos")
    summary = study.summary()
    assert set(summary) == {"darts", "gdas", "spos"}
    assert summary["spos"]["seed_spread"]["kendall_tau"]["n_seeds"] == 2
    written = write_gap_study(study, tmp_path / "gap")
    assert written["spos_seed0"].name == "gap_spos_seed0.png"
    assert written["darts_seed1"].name == "trajectory_darts_seed1.png"
    assert json.loads(written["json"].read_text())["gdas"]["runs"][0]["derived"]
    one = gap_study(table_with_supernets, method="spos", seed=1)
    assert len(one.reports) == 1 and np.isfinite(one.reports[0].top_kendall_tau)
    # the folder is replaced as a whole: no plot of the earlier study is left beside the new
    write_gap_study(one, tmp_path / "gap")
    assert sorted(p.name for p in (tmp_path / "gap").iterdir()) == [
        "gap.json",
        "gap_spos_seed1.png",
    ]
    (tmp_path / "gap" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"notes\.txt"):
        write_gap_study(one, tmp_path / "gap")


def test_strategies_all_says_which_were_left_out_and_why(table_with_supernets: Path) -> None:
    sel = select_strategies("all", str(table_with_supernets))
    assert {"spos", "darts", "gdas"} <= set(sel.names) and not sel.left_out
    sel = select_strategies("all", "synthetic")
    assert set(sel.left_out) == {"spos", "darts", "gdas"}
    assert "super-network" in sel.left_out["gdas"]


def test_identical_strategies_coincide_on_the_time_axis_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """On a one-budget table Hyperband has no early stopping to do: it queries as random
    search does, and compare's note groups them. Charged their own (measured) compute time,
    the same queries finish at other times: their lines coincide against results received,
    not against time, and the note says so."""
    from analysis.compare import identical_strategies
    from nasbench_sim.cli import main

    bench = TabularBenchmark(make_synthetic_table(0, n_epochs=1, cells=200))
    budget = Budget(time_s=20 * bench.full_training_time)
    names = ["random", "hyperband", "evolution"]
    runs = compare(bench, names, range(2), budget).replays.runs
    assert identical_strategies(runs) == identical_strategies(runs, times=True)
    assert identical_strategies(runs) == [["random", "hyperband"]]
    charged = compare(bench, names, range(2), budget, charge_strategy_time=True).replays.runs
    assert identical_strategies(charged, times=True) == []
    path = tmp_path / "t.h5"
    write_table(path, make_synthetic_table(0, n_epochs=1, cells=200))
    base = [
        "compare", "--table", str(path), "--strategies", ",".join(names), "--seeds", "2",
        "--budget", "20x", "--out", str(tmp_path / "c"), "--jobs", "1",
    ]  # fmt: skip
    charge = ["--charge-strategy-time"]
    for flag, said in (([], "coincide in the plots"), (charge, "finish at other times")):
        args = [*base, *flag]
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "note: Random search and Hyperband made the same queries" in out and said in out
