"""The runnable examples in the predictors' docstrings (pytest collects doctests only under
``nasbench_sim``)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "predictors.base",
    "predictors.features",
    "predictors.xgb",
    "predictors.lcsvr",
    "predictors.ensemble",
    "predictors.registry",
    "predictors.evaluate",
    "predictors.surrogate",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_importing_predictors_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, predictors, nasbench_sim.cli.predict, analysis.predictor_plots; "
        "from nasbench_sim.cli import build_parser; build_parser(); "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
