"""Baker-style learning-curve early stopping around other strategies."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.strategies import create, run
from predictors.early_stopping import curve_summary


def test_curve_summary_columns() -> None:
    c = np.array([[0.1, 0.3, 0.4, 0.45]])
    f = curve_summary(c)
    assert f.shape == (1, 3 * 4 - 1)
    np.testing.assert_allclose(f[0, :4], c[0])
    np.testing.assert_allclose(f[0, 4:7], [0.2, 0.1, 0.05])
    np.testing.assert_allclose(f[0, 7:9], [-0.1, -0.05])
    assert f[0, 9] == pytest.approx(0.45)
    assert f[0, 10] == pytest.approx(np.polyfit(np.arange(4), c[0], 1)[0])
    assert curve_summary(np.array([0.5])).shape == (1, 3)


def test_probes_stop_or_continue_and_continuations_cost_the_rest(
    synthetic_bench: TabularBenchmark,
) -> None:
    s = create("random_es", synthetic_bench.space, synthetic_bench.n_epochs, seed=0)
    budget = Budget(time_s=80 * 12 * float(np.median(synthetic_bench.table.cost["train_time_s"])))
    log = run(s, synthetic_bench, budget, seed=0).log
    k, full = s.probe_epochs, synthetic_bench.n_epochs
    assert set(log["epoch"]) <= {k, full}
    assert s.n_stopped > 0 and s.n_continued > 0
    # every continued cell shows a probe row and a continuation row; together they cost one
    # full training of that cell
    per_epoch = synthetic_bench.query_many(log["index"].to_numpy(), epochs=1).train_time
    log = log.assign(per_epoch=per_epoch)
    both = log.groupby("index").filter(lambda g: set(g["epoch"]) == {k, full})
    assert len(both) > 0
    totals = both.groupby("index").agg(cost=("cost", "sum"), per_epoch=("per_epoch", "first"))
    np.testing.assert_allclose(totals["cost"], totals["per_epoch"] * full)
    # nothing is stopped before the predictor has its minimum number of complete curves
    first_probe = int(np.argmax(log["epoch"].to_numpy() == k))
    assert (log["epoch"].iloc[:first_probe] == full).sum() >= s.min_curves


def test_error_scale_is_learned_from_continued_runs(synthetic_bench: TabularBenchmark) -> None:
    s = create(
        "random_es", synthetic_bench.space, synthetic_bench.n_epochs, seed=1, min_residuals=2
    )
    run(s, synthetic_bench, Budget(queries=400), seed=1)
    r = np.asarray(s._residuals)
    assert r.size >= 2
    assert s.sigma == pytest.approx(np.sqrt(np.mean(r**2)))


def test_bad_arguments(synthetic_bench: TabularBenchmark) -> None:
    with pytest.raises(Exception, match="probe_epochs"):
        create("random_es", synthetic_bench.space, 12, 0, probe_epochs=12)
    with pytest.raises(Exception, match="delta"):
        create("evolution_es", synthetic_bench.space, 12, 0, delta=0.7)
