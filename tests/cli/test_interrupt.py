"""Ctrl-C stops a comparison within a second or two: pending work is cancelled, the worker
processes end, one line is printed, and nothing is written."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search.experiment import run_many
from nasbench_sim.strategies import STRATEGIES

ROOT = Path(__file__).resolve().parents[2]
# Ctrl-C at a terminal signals the whole foreground process group, the worker processes
# included; `kill -INT` of the command signals the parent alone. Both must end cleanly.
WHO = pytest.mark.parametrize("group", [False, True], ids=["parent", "process-group"])


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # its own process group, which the group test signals
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def _interrupt(proc: subprocess.Popen[str], group: bool) -> None:
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)


def _no_process_left(group_id: int, wait_s: float = 5.0) -> bool:
    """True once no process of the command's group is left (no orphaned worker)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group_id, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_an_interrupt_cancels_the_pending_runs(synthetic_bench: TabularBenchmark) -> None:
    raised = []

    def interrupt(_: int) -> None:
        raised.append(time.perf_counter())
        raise KeyboardInterrupt

    budget = Budget(time_s=150 * synthetic_bench.full_training_time)
    with pytest.raises(KeyboardInterrupt):
        run_many(
            synthetic_bench, ["bo_xgb"], range(16), budget, n_jobs=2, progress=interrupt,
            registry=STRATEGIES,
        )  # fmt: skip
    took = time.perf_counter() - raised[0]
    assert not multiprocessing.active_children()
    # the other ~50 runs (about a second each) are not waited for
    assert took < 3, took


@WHO
def test_ctrl_c_on_compare_prints_one_line_and_writes_nothing(tmp_path: Path, group: bool) -> None:
    out = tmp_path / "c"
    cmd = [
        sys.executable, "-m", "nasbench_sim", "compare", "--table", "synthetic",
        "--strategies", "bo_xgb", "--seeds", "5000", "--jobs", "2", "--out", str(out),
    ]  # fmt: skip
    proc = _start(cmd)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 120
        seen = ""
        while "replaying" not in seen and time.monotonic() < deadline:  # the runs have started
            seen += proc.stderr.read(1)
        # 5,000 runs of about a second each: far from done when the signal comes, even on a
        # loaded machine (with 200, the comparison once ended with 0 before it was interrupted)
        assert "replaying" in seen, seen
        time.sleep(1.0)
        t0 = time.monotonic()
        _interrupt(proc, group)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
        assert proc.returncode == 130
        assert took < 5, took
        assert _no_process_left(proc.pid)
        last = [line for line in err.replace("\r", "\n").splitlines() if line.strip()][-1]
        assert last.startswith("nasbench-sim: interrupted") and "Traceback" not in err
        assert not out.exists() and list(tmp_path.iterdir()) == []
    finally:  # never leave 5,000 runs going on the shared cores
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_an_interrupt_cancels_a_multi_objective_comparison(
    synthetic_bench: TabularBenchmark,
) -> None:
    from analysis.compare_mo import compare_mo

    raised = []

    def interrupt(_: int) -> None:
        raised.append(time.perf_counter())
        raise KeyboardInterrupt

    budget = Budget(time_s=150 * synthetic_bench.full_training_time)
    with pytest.raises(KeyboardInterrupt):
        compare_mo(
            synthetic_bench, ["mo_tpe"], range(16), budget, "valid_acc,params", n_jobs=2,
            progress=interrupt,
        )  # fmt: skip
    assert time.perf_counter() - raised[0] < 3
    assert not multiprocessing.active_children()


@WHO
def test_ctrl_c_on_a_build_with_workers_says_what_it_kept(tmp_path: Path, group: bool) -> None:
    """Ctrl-C while two worker processes train: one line saying how many chunks are committed
    and how to continue (no traceback), exit 130; the committed chunks stay for --resume."""
    pytest.importorskip("torch")
    out = tmp_path / "t.h5"
    cmd = [
        sys.executable, "-m", "nasbench_sim", "build", "--dataset", "mnist1d", "--cells", "400",
        "--epochs", "1", "--channels", "4", "--cells-per-stage", "1", "--train-subset", "256",
        "--eval-subset", "128", "--chunk-size", "2", "--workers", "2", "--out", str(out),
    ]  # fmt: skip
    proc = _start(cmd)
    parts = tmp_path / "t.h5.parts"
    try:
        deadline = time.monotonic() + 120
        while not list(parts.glob("chunk-*.npz")) and time.monotonic() < deadline:
            time.sleep(0.2)  # the workers have started and committed a chunk
        assert list(parts.glob("chunk-*.npz")), "no chunk committed in 120 s"
        _interrupt(proc, group)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "Traceback" not in err, err
        assert _no_process_left(proc.pid)
        last = [line for line in err.replace("\r", "\n").splitlines() if line.strip()][-1]
        n = len(list(parts.glob("chunk-*.npz")))
        assert last == (
            f"nasbench-sim: interrupted; {n} of 200 chunks committed in {parts}; rerun the same "
            "command with --resume to continue"
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
