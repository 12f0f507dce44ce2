"""Comparisons with the baseline are paired by seed: mean difference with its interval, a
Wilcoxon p-value Holm-adjusted over the strategies, and a sanity check that uses them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.compare import format_p, format_summary, sanity_check
from analysis.stats import holm, paired_difference, summarize


def _final(regrets: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"strategy": k, "seed": i, "final_regret": float(v)}
            for k, arr in regrets.items()
            for i, v in enumerate(arr)
        ]
    )


def _shared_noise(n: int = 30) -> pd.DataFrame:
    """Every seed's noise is shared by both strategies (common random numbers): evolution is
    0.002 below random in every seed, while the spread between seeds is ten times larger."""
    noise = np.random.default_rng(0).exponential(0.02, size=n)
    return _final({"random": noise + 0.004, "evolution": noise + 0.002})


def test_the_sanity_check_pairs_seeds_where_unpaired_intervals_overlap() -> None:
    final = _shared_noise()
    s = summarize(final, baseline="random").set_index("strategy")
    assert s.loc["evolution", "ci_high"] > s.loc["random", "ci_low"]  # unpaired: overlap
    ok, text = sanity_check(final)
    assert ok and "evolution is better" in text
    assert "-0.0020 [-0.0020, -0.0020]" in text and "30 seeds" in text
    swapped = final.assign(
        strategy=final["strategy"].map({"random": "evolution", "evolution": "random"})
    )
    ok, text = sanity_check(swapped)
    assert not ok and "not shown" in text and "+0.0020" in text
    assert sanity_check(final[final["strategy"] == "random"]) is None
    few = final[final["seed"] < 9]  # 9 seeds: a bootstrap of 9 equal differences has no width
    ok, text = sanity_check(few)
    assert not ok and "too few seeds to tell (at least 10" in text and "over 9 seeds" in text
    one = sanity_check(final[final["seed"] == 0])
    assert one is not None and "over 1 seed where" in one[1]


def test_the_sanity_checks_means_are_over_the_paired_seeds() -> None:
    final = _shared_noise(12)
    final.loc[(final["strategy"] == "random") & (final["seed"] == 0), "final_regret"] = np.nan
    ok, text = sanity_check(final)
    assert ok  # 11 pairs, every one 0.002 below random
    wide = final.pivot_table(index="seed", columns="strategy", values="final_regret").dropna()
    assert f"evolution {wide['evolution'].mean():.4f} vs random search" in text
    assert "over 11 seeds" in text and "(unadjusted)" in text


def test_summary_gives_the_signed_paired_difference_and_holm_p() -> None:
    rng = np.random.default_rng(3)
    base = rng.exponential(0.03, size=40)
    final = _final(
        {"random": base + 0.01, "good": base, "worse": base + 0.012, "same": base + 0.01}
    )
    s = summarize(final, baseline="random").set_index("strategy")
    assert s.loc["good", "diff_vs_random"] == pytest.approx(-0.01)
    assert s.loc["worse", "diff_vs_random"] == pytest.approx(0.002)
    lo, hi = s.loc["good", ["diff_ci_low_vs_random", "diff_ci_high_vs_random"]]
    assert lo <= -0.01 <= hi
    assert np.isnan(s.loc["random", "diff_vs_random"]) and np.isnan(
        s.loc["random", "p_holm_vs_random"]
    )
    raw = s.loc[["good", "worse", "same"], "p_vs_random"].to_numpy()
    np.testing.assert_allclose(s.loc[["good", "worse", "same"], "p_holm_vs_random"], holm(raw))
    assert (s["p_holm_vs_random"].dropna() >= s["p_vs_random"].dropna()).all()
    lines = format_summary(s.reset_index(), str).splitlines()
    assert lines[0].endswith("minus random  p vs random (Holm)")
    good = next(line for line in lines if line.startswith("good "))
    assert "-0.0100" in good and good.endswith("<0.001")


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.02, 0.04 times 3, 2, 1 -> 0.03, 0.04, 0.04 (monotone); NaN stays out
    np.testing.assert_allclose(holm([0.04, 0.01, float("nan"), 0.02]), [0.04, 0.03, np.nan, 0.04])
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]  # capped at 1
    assert holm([]).size == 0


def test_a_baseline_without_scored_runs_gives_no_p_value() -> None:
    wide = pd.DataFrame({"a": [0.1, 0.2], "random": [np.nan, np.nan]})
    d = paired_difference(wide, "a", "random")
    assert d["pairs"] == 0 and np.isnan(d["p"]) and np.isnan(d["diff"])
    same = paired_difference(pd.DataFrame({"a": [0.1, 0.2], "random": [0.1, 0.2]}), "a", "random")
    assert same["p"] == 1.0 and same["diff"] == 0.0


def test_p_values_are_printed_without_rounding_across_005() -> None:
    assert format_p(0.0496) == "0.0496" and format_p(0.05) == "0.05"
    assert format_p(1e-12) == "<0.001" and format_p(float("nan")) == "—"
