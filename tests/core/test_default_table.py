"""Where the default table is found: the source tree's ``data/`` (a clone, an editable
install), else the data files a wheel installs under ``<prefix>/share/nasbench-sim/``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nasbench_sim.bench.default_table import (
    DEFAULT_TABLE,
    default_table_locations,
    default_table_path,
)
from nasbench_sim.table import make_synthetic_table, write_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_table_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NASBENCH_SIM_TABLE", raising=False)


def _places(tmp_path: Path, source_tree: bool) -> tuple[Path, ...]:
    root = tmp_path / "src"
    (root / "data").mkdir(parents=True)
    if source_tree:
        (root / "pyproject.toml").write_text("")
    return default_table_locations(root, (tmp_path / "venv", tmp_path / "user"))


def _put(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_locations_in_order(tmp_path: Path) -> None:
    places = _places(tmp_path, source_tree=True)
    assert places == (
        tmp_path / "src" / "data" / DEFAULT_TABLE,
        tmp_path / "venv" / "share" / "nasbench-sim" / DEFAULT_TABLE,
        tmp_path / "user" / "share" / "nasbench-sim" / DEFAULT_TABLE,
    )


def test_an_install_uses_the_first_prefix_holding_the_table(tmp_path: Path) -> None:
    places = _places(tmp_path, source_tree=False)
    for found in places[:0:-1]:  # the user base, then the prefix before it
        _put(found)
        assert default_table_path(places) == found


def test_a_source_tree_uses_its_own_data_only(tmp_path: Path) -> None:
    """An editable install copies data/'s table under its prefix too; when the tree's own
    table is gone (being rebuilt), that stale copy is not used."""
    places = _places(tmp_path, source_tree=True)
    _put(places[1])
    assert default_table_path(places) == places[0]
    _put(places[0])
    assert default_table_path(places) == places[0]
    assert default_table_path(places[:1]) == places[0]


def test_without_a_table_the_path_reported_is_where_it_would_be(tmp_path: Path) -> None:
    """A source tree reports its own data/ (where a build in progress lives); an installed
    wheel reports its prefix's share/nasbench-sim/."""
    clone = _places(tmp_path / "clone", source_tree=True)
    assert default_table_path(clone) == clone[0]
    wheel = _places(tmp_path / "wheel", source_tree=False)
    assert default_table_path(wheel) == wheel[1]


def test_the_environment_variable_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, prefix, user = _places(tmp_path, source_tree=True)
    _put(source)
    monkeypatch.setenv("NASBENCH_SIM_TABLE", str(tmp_path / "mine.h5"))
    assert default_table_path((source, prefix, user)) == tmp_path / "mine.h5"


@pytest.mark.slow
def test_a_wheel_ships_the_default_table(tmp_path: Path) -> None:
    """Build a wheel of the package with a (tiny) table in data/, install it into a fresh
    virtual environment, and open the default table there with no argument."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("nasbench_sim", "predictors", "analysis"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    (src / "data").mkdir()
    write_table(src / "data" / DEFAULT_TABLE, make_synthetic_table(3, cells=40, n_epochs=5))
    (src / "data" / "README.md").write_text("# datasheet\n")

    def run(*args: object, cwd: Path | None = None) -> str:
        done = subprocess.run(
            [str(a) for a in args], check=True, capture_output=True, text=True, cwd=cwd
        )
        return done.stdout

    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", src)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv)
    python = venv / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-deps", wheel)
    shared = venv / "share" / "nasbench-sim"
    assert (shared / DEFAULT_TABLE).is_file() and (shared / "README.md").is_file()
    probe = (
        "import nasbench_sim\n"
        "from nasbench_sim.bench import default_table_path\n"
        "print(nasbench_sim.__file__)\n"
        "print(default_table_path())\n"
        "print(nasbench_sim.open().table.n_cells)\n"
    )
    out = run(python, "-c", probe, cwd=tmp_path).split("\n")
    assert out[0].startswith(str(venv))  # the wheel's copy, not this checkout
    assert Path(out[1]).resolve() == (shared / DEFAULT_TABLE).resolve()
    assert out[2] == "40"
