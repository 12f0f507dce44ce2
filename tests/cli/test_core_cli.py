from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from nasbench_sim.cli import main

EXAMPLE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


def test_space_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["space", "nb201", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["cells"] == 15625 and d["classes"] == 6466 and "path" in d["encodings"]


def test_info_json(tiny_table_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tiny_table_path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows"] == 40 and d["epochs"] == 5 and d["seeds"] == [0, 1, 2]
    assert d["synthetic"] is True and "valid_acc" in d["metrics"]
    assert datetime.fromisoformat(d["created"]).year >= 2024  # when the table was written
    assert main(["info", str(tiny_table_path)]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out


def test_query_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["query", EXAMPLE, "--table", "synthetic", "--epochs", "4", "--seed", "1", "--json"])
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["arch"] == EXAMPLE and d["epoch"] == 4 and d["repeat"] == 1 and 0 < d["valid_acc"] < 1
    assert "test_acc" not in d
    assert main(["query", "11791", "--table", "synthetic", "--seed", "mean", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["index"] == 11791


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["query", "|bad~0|", "--table", "synthetic"], "3 node groups"),
        (["query", "5", "--table", "synthetic", "--epochs", "99"], "outside 1..20"),
        (["query", "5", "--table", "synthetic", "--seed", "x"], "--repeat must be"),
        (["info", "/nonexistent/t.h5"], "no such table file"),
    ],
)
def test_errors_are_clear(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert fragment in capsys.readouterr().err


def test_synthetic_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.h5"
    assert main(["synthetic", "--out", str(out), "--cells", "30", "--epochs", "3"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 30


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nasbench_sim", "space", "nb201", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["classes"] == 6466


def test_core_does_not_import_torch() -> None:
    code = (
        "import sys, nasbench_sim, nasbench_sim.bench, nasbench_sim.table, nasbench_sim.space;"
        "from nasbench_sim.cli import build_parser; build_parser();"
        "print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_every_help_page_renders(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse formats help strings with %: a stray % breaks `--help` at run time only."""
    from nasbench_sim.cli import build_parser

    def commands(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
        out = [prefix]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    out += commands(sub, [*prefix, name])
        return out

    argvs = commands(build_parser(), [])
    assert len(argvs) >= 15 and ["surrogate", "fit"] in argvs and ["datasheet"] in argvs
    for argv in argvs:
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--help"])
        assert exit_.value.code == 0, argv
        assert "usage: nasbench-sim" in capsys.readouterr().out


def test_every_flag_with_a_default_shows_it_in_help() -> None:
    from nasbench_sim.cli import build_parser

    def parsers(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, Any]]:
        out = [(name, parser)]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    out += parsers(sub, f"{name} {sub_name}".strip())
        return out

    missing = []
    for name, parser in parsers(build_parser(), ""):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if (
                action.default is None
                or action.default is False
                or action.default == "==SUPPRESS=="
            ):
                continue
            text = formatter._expand_help(action) if action.help else ""
            if "default" not in text:
                missing.append(f"{name} {action.option_strings[0]}")
    assert not missing, missing


def test_query_seed_is_the_deprecated_name_of_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    """`query --seed k` still picks repeat k, and says it is deprecated; with --repeat too it
    is refused."""
    assert main(["query", "5", "--table", "synthetic", "--repeat", "1", "--json"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main(["query", "5", "--table", "synthetic", "--seed", "1", "--json"]) == 0
    got = capsys.readouterr()
    assert json.loads(got.out) == want and want["repeat"] == 1
    assert "--seed is deprecated: it picks the k-th stored repeat" in got.err
    assert main(["query", "5", "--table", "synthetic", "--seed", "1", "--repeat", "0"]) == 2
    assert "give --repeat only" in capsys.readouterr().err


def test_query_withholds_test_metrics_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """As a search sees it, without test metrics; --test adds those of the same repeat (or the
    repeat mean), equal to the analysis path's."""
    import nasbench_sim

    assert main(["query", "5", "--table", "synthetic", "--repeat", "1", "--json"]) == 0
    assert "test_acc" not in json.loads(capsys.readouterr().out)
    bench = nasbench_sim.open("synthetic")
    for repeat, want in (("1", 1), ("mean", "mean")):
        assert main(["query", "5", "--table", "synthetic", "--repeat", repeat, "--test",
                     "--json"]) == 0  # fmt: skip
        got = json.loads(capsys.readouterr().out)
        assert got["test_acc"] == bench.test_result(5, repeat=want).test_acc  # type: ignore[arg-type]


def test_query_test_says_which_epochs_have_test_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table that evaluated its test set every few epochs (``--test-every``): at another
    epoch ``query --test`` shows null with a note of the epochs that have test metrics."""
    import numpy as np

    from nasbench_sim.table import make_synthetic_table, write_table

    table = make_synthetic_table(0, n_seeds=2, n_epochs=6, cells=20)
    arch = str(table.arch_index[0])
    for name in ("test_acc", "test_loss"):
        table.metrics[name][:, :, [0, 1, 3, 4]] = np.nan  # tested after epochs 3 and 6 only
    path = tmp_path / "t.h5"
    write_table(path, table)
    for epochs, note in (("3", None), ("4", "not evaluated after epoch 4; this table has test "
                                             "metrics after epochs 3, 6")):  # fmt: skip
        args = ["query", arch, "--table", str(path), "--epochs", epochs, "--test", "--json"]
        assert main(args) == 0
        got = json.loads(capsys.readouterr().out)
        assert (got["test_acc"] is None) == (note is not None)
        assert (note is None and "test_note" not in got) or note in got["test_note"]
    for name in ("test_acc", "test_loss"):
        table.metrics[name][0] = np.nan  # this cell has no test metrics at all
    path = write_table(tmp_path / "untested.h5", table)
    assert main(["query", arch, "--table", str(path), "--epochs", "3", "--test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_note"] == (
        "this table holds no test metrics for this cell"
    )
    long = make_synthetic_table(0, n_seeds=2, n_epochs=12, cells=20)
    for name in ("test_acc", "test_loss"):
        long.metrics[name][:, :, 4] = np.nan  # tested after every epoch but the fifth
    path = write_table(tmp_path / "long.h5", long)
    assert main(["query", arch, "--table", str(path), "--epochs", "5", "--test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_note"].endswith(
        "after epochs 1-4, 6-12"
    )  # runs of epochs as ranges
