"""Every flag is checked before any work starts, and every message names the flag and what is
allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasbench_sim.cli import main


def _exit_code(argv: list[str]) -> int:
    """main's return value, or the code argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["compare", "--baseline", "foo"], ["--baseline", "'foo'", "random, evolution"]),
        (["compare", "--baseline", "bo_xgb"], ["--baseline", "random, evolution"]),
        (["compare", "--jobs", "0"], ["--jobs", ">= 1", "-1"]),
        (["compare", "--budget", "-5q"], ["--budget", "positive", "150x"]),
        (["compare", "--budget", "5y"], ["--budget", "150x", "200q"]),
        (["compare", "--seeds", "0"], ["--seeds", "A-B"]),
        (["compare", "--workers", "0"], ["--workers", ">= 1"]),
        (["audit", "--fractions", "2"], ["--fractions", "(0, 1]"]),
        (["audit", "--jobs", "-3"], ["--jobs", ">= 1"]),
    ],
)
def test_compare_flags_fail_before_any_work(
    argv: list[str], fragments: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    base = ["--table", "synthetic", "--strategies", "random,evolution", "--out", str(out)]
    assert _exit_code([*argv, *base]) == 2
    text = capsys.readouterr()
    for fragment in fragments:
        assert fragment in text.err, (fragment, text.err)
    assert "comparing" not in text.out  # nothing started
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["info", "--table", "synthetic:abc"], ["synthetic:abc", "synthetic:3"]),
        (["gap", "--table", "synthetic"], ["table file", "nasbench-sim synthetic --out"]),
        (["oneshot", "--table", "synthetic", "--method", "spos"], ["table file"]),
        (["query", "-1", "--table", "synthetic"], ["-1", "0..15624"]),
        (["query", "99999", "--table", "synthetic"], ["99999", "0..15624"]),
        (["query", "5", "--table", "synthetic", "--repeat", "7"], ["repeat", "0..2"]),
        (["query", "5", "--table", "synthetic", "--training-seed", "9"], ["0, 1, 2"]),
        (["search", "--strategy", "nope", "--table", "synthetic"], ["nope", "random"]),
        (["search", "--strategy", "random", "--budget", "-2h", "--table", "synthetic"],
         ["--budget", "positive"]),
    ],
)  # fmt: skip
def test_lookup_flags_name_what_is_allowed(
    argv: list[str], fragments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_the_default_baseline_is_random_only_when_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", "--table", "synthetic", "--strategies", "evolution,local_search"]
    assert main([*argv, "--seeds", "2", "--budget", "10q", "--out", str(tmp_path / "o")]) == 0
    assert "no paired test" in capsys.readouterr().out


def test_strategies_all_says_which_it_leaves_out_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", "--table", "synthetic", "--strategies", "all", "--seeds", "1"]
    assert main([*argv, "--budget", "3q", "--jobs", "1", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    for name in ("spos", "darts", "gdas"):
        assert f"left out {name}: needs a {name} super-network" in out
    assert "comparing 18 strategies" in out
    assert main(["strategies", "--table", "synthetic"]) == 0
    listing = capsys.readouterr().out
    assert "18 of 21 can run" in listing and "BO (GCN ens.)" in listing


def test_strategies_command_on_nb101_and_without_a_table(
    nb101_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["strategies", "--table", str(nb101_path)]) == 0
    listing = capsys.readouterr().out
    assert "13 of 21 can run" in listing
    assert "which the 'nb101' space does not offer" in listing  # qlearning, pnas, spos...
    assert "separate training runs" in listing  # the *_es strategies need curves
    monkeypatch.setenv("NASBENCH_SIM_TABLE", str(tmp_path / "none.h5"))
    assert main(["strategies"]) == 0  # no default table: what each needs, no verdict
    listing = capsys.readouterr().out
    assert "no table to check against" in listing and "needs: any benchmark" in listing
    assert main(["search", "--table", str(nb101_path), "--strategy", "qlearning"]) == 2
    assert "strategy 'qlearning' needs NAS-Bench-201's cell layout" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["predictors", "--lc-fractions", "2"], ["--lc-fractions", "(0, 1]"]),
        (["predictors", "--train-sizes", "1,x"], ["--train-sizes", ">= 2"]),
        (["predictors", "--seed", "-1"], ["--seed", ">= 0"]),
        (["surrogate", "fit", "--fraction", "2"], ["--fraction", "(0, 1]"]),
        (["surrogate", "fit", "--fraction", "0.2", "--seed", "x"], ["--seed", ">= 0"]),
        (["search", "--strategy", "random", "--seed", "-3"], ["--seed", ">= 0"]),
        (["audit", "--predictor", "lcsvr"], ["lcsvr", "learning curves"]),
        (["audit", "--predictor", "foo"], ["unknown predictor 'foo'", "xgb"]),
    ],
)
def test_other_commands_check_their_flags_before_any_work(
    argv: list[str], fragments: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / ("s.npz" if argv[0] == "surrogate" else "out")
    assert _exit_code([*argv, "--table", "synthetic", "--out", str(out)]) == 2
    text = capsys.readouterr()
    for fragment in fragments:
        assert fragment in text.err, (fragment, text.err)
    assert "%|" not in text.err  # no progress bar started
    assert not out.exists()


def test_a_surrogate_is_saved_where_table_finds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.h5"
    assert _exit_code(["surrogate", "fit", "--table", "synthetic", "--out", str(out)]) == 2
    assert ".npz" in capsys.readouterr().err and not out.exists()
