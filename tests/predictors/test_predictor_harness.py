"""The evaluation harness: columns, determinism, metrics, the LC-fraction study."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from predictors import PredictorError
from predictors.evaluate import (
    LC_COLUMNS,
    RESULT_COLUMNS,
    evaluate_predictors,
    lc_fraction_curve,
    noise_ceiling,
    score_predictions,
    summarize,
)


def test_harness_columns_and_determinism(synthetic_bench) -> None:
    kw: dict[str, Any] = dict(train_sizes=[20, 60], trials=2, seed=5, test_size=300)
    df = evaluate_predictors(synthetic_bench, ["ridge", "knn"], **kw)
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert len(df) == 2 * 2 * 2
    assert set(df["train_size"]) == {20, 60} and (df["n_test"] == 300).all()
    assert df["kendall_tau"].between(-1, 1).all()
    assert df["precision_top5"].between(0, 1).all()
    assert (df["fit_time_s"] >= 0).all() and (df["predict_time_s"] >= 0).all()
    again = evaluate_predictors(synthetic_bench, ["knn"], **kw)
    metrics = ["kendall_tau", "spearman_rho", "r2", "precision_top5"]
    # A predictor's figures do not depend on which other predictors ran beside it.
    np.testing.assert_array_equal(
        df[df.predictor == "knn"][metrics].to_numpy(), again[metrics].to_numpy()
    )
    # More data helps the ridge model on average.
    s = summarize(df)
    ridge = s[s.predictor == "ridge"].set_index("train_size")
    assert ridge.loc[60, "kendall_tau"] > ridge.loc[20, "kendall_tau"]
    assert {"kendall_tau_ci", "n"} <= set(s.columns)


def test_harness_progress_and_errors(synthetic_bench, tiny_table_path) -> None:
    calls: list[tuple[int, int]] = []
    evaluate_predictors(
        synthetic_bench,
        ["ridge"],
        [10],
        trials=2,
        test_size=50,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 2), (2, 2)]
    from nasbench_sim.bench import Benchmark

    tiny = Benchmark.load(tiny_table_path)
    with pytest.raises(PredictorError, match="40 cells"):
        evaluate_predictors(tiny, ["ridge"], [30], trials=1, test_size=20)
    with pytest.raises(PredictorError, match="train sizes"):
        evaluate_predictors(synthetic_bench, ["ridge"], [1], trials=1)


def test_score_predictions() -> None:
    y = np.linspace(0, 1, 100)
    perfect = score_predictions(y, 2 * y + 1)
    assert perfect["kendall_tau"] == pytest.approx(1.0)
    assert perfect["precision_top5"] == 1.0
    assert perfect["r2"] < 1.0  # right ranking, wrong values
    reverse = score_predictions(y, -y)
    assert reverse["kendall_tau"] == pytest.approx(-1.0) and reverse["precision_top5"] == 0.0
    assert score_predictions(y, y)["r2"] == pytest.approx(1.0)


def test_lc_svr_improves_with_more_curve(synthetic_bench) -> None:
    df = lc_fraction_curve(
        synthetic_bench,
        (0.1, 0.5, 0.9),
        n_train=100,
        trials=2,
        seed=0,
        test_size=400,
        svr_kwargs={"n_iter": 8},
    )
    assert list(df.columns) == list(LC_COLUMNS)
    r2 = df.groupby("fraction")["r2"].mean()
    assert r2[0.1] < r2[0.5] < r2[0.9]
    assert r2[0.9] > 0.9
    assert list(df.groupby("fraction")["epochs"].first()) == [1, 6, 11]


def test_noise_ceiling(synthetic_bench) -> None:
    tau = noise_ceiling(synthetic_bench)
    assert 0.5 < tau < 1.0
    assert noise_ceiling(synthetic_bench, (1, 2)) == pytest.approx(tau, abs=0.05)
    with pytest.raises(PredictorError, match="two different"):
        noise_ceiling(synthetic_bench, (1, 1))
