"""compare's printed summary stays aligned whatever the strategy and baseline names."""

from __future__ import annotations

import pandas as pd

from analysis.compare import format_summary as _format_summary
from analysis.plots import label


def test_summary_columns_line_up_with_long_names() -> None:
    rows = [
        ("optuna_tpe_hyperband", 100, 0.0272, 0.0251, 0.0294, 0.0269, 1.2, float("nan")),
        ("random", 100, 0.0433, 0.0408, 0.0456, 0.0439, 1.8, 1e-12),
    ]
    cols = ["strategy", "runs", "mean_regret", "ci_low", "ci_high", "median_regret", "mean_rank"]
    summary = pd.DataFrame(rows, columns=[*cols, "p_vs_optuna_tpe_hyperband"])
    lines = _format_summary(summary, label).splitlines()
    assert len({len(line) for line in (lines[0], *lines[2:])}) == 1  # one width for all rows
    assert lines[2].startswith(label("optuna_tpe_hyperband") + "  ")
    assert lines[0].endswith("p vs optuna_tpe_hyperband")  # no Holm column: the raw p-value
    assert lines[3].endswith("<0.001")
