"""The Ray backend: same table as the local backend, survives a dead worker and a killed
driver, and readers see only committed chunks while it builds."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.cli import main
from nasbench_sim.generate import (
    BuildError,
    BuildProgress,
    Protocol,
    build_table,
    parts_dir,
    ray_backend,
)
from nasbench_sim.table import METRICS, TableData, read_table

ray = pytest.importorskip("ray")

CELLS = [11, 222, 3333, 5555, 8888, 12000]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    from tests.tiny_protocol import TINY

    return dataclasses.replace(TINY, epochs=2, train_subset=64, timing_cells_per_chunk=0)


@pytest.fixture(scope="module")
def local_table(protocol: Protocol, tmp_path_factory: pytest.TempPathFactory) -> TableData:
    out = tmp_path_factory.mktemp("local") / "t.h5"
    return read_table(build_table(protocol, out, cells=CELLS, chunk_size=2))


def _assert_same(a: TableData, b: TableData) -> None:
    """Bitwise: every training run has the same numerics (one thread) on every backend."""
    np.testing.assert_array_equal(a.arch_index, b.arch_index)
    np.testing.assert_array_equal(a.seeds, b.seeds)
    assert a.provenance["numerics"] == b.provenance["numerics"]
    for name in METRICS:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    for name in ("params", "flops"):
        np.testing.assert_array_equal(a.cost[name], b.cost[name])


def test_ray_build_equals_local_build(
    ray_cluster: None, protocol: Protocol, local_table: TableData, tmp_path: Path
) -> None:
    events: list[BuildProgress] = []
    out = build_table(
        protocol,
        tmp_path / "r.h5",
        cells=CELLS,
        chunk_size=2,
        backend="ray",
        progress=events.append,
    )
    _assert_same(read_table(out), local_table)
    assert sorted(e.chunk_id for e in events) == [0, 1, 2] and not any(e.skipped for e in events)
    assert events[-1].cells_done == len(CELLS)


def _kill_first_attempt(monkeypatch: pytest.MonkeyPatch, chunk_id: int, marker: Path) -> None:
    """Replace the Ray task by one whose first attempt at ``chunk_id`` kills its worker
    process (a hard death, as a crashed node looks to Ray); the marker file records that the
    fault fired, so the retry succeeds. A local function: Ray ships it by value."""
    real = ray_backend._chunk_task
    mark = str(marker)

    def task(*args: object) -> object:
        if args[6] == chunk_id and not os.path.exists(mark):  # _chunk_task's chunk_id
            with open(mark, "w") as fh:
                fh.write(f"fault injected into chunk {chunk_id}\n")
            os._exit(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ray_backend, "_chunk_task", task)


def test_a_worker_killed_mid_task_costs_only_a_retry(
    ray_cluster: None,
    protocol: Protocol,
    local_table: TableData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "fault-fired"
    _kill_first_attempt(monkeypatch, 1, marker)
    out = build_table(protocol, tmp_path / "f.h5", cells=CELLS, chunk_size=2, backend="ray")
    assert marker.exists(), "the fault was not injected"
    _assert_same(read_table(out), local_table)


def test_exhausted_retries_keep_the_other_chunks(
    ray_cluster: None, protocol: Protocol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasbench_sim.generate.ray_backend import RayOptions

    out = tmp_path / "x.h5"
    _kill_first_attempt(monkeypatch, 2, tmp_path / "m")
    with pytest.raises(BuildError, match=r"1 chunk\(s\) failed.*--resume"):
        build_table(
            protocol,
            out,
            cells=CELLS,
            chunk_size=2,
            backend="ray",
            ray_options=RayOptions(max_retries=0),
        )
    parts = parts_dir(out)
    assert sorted(p.name for p in parts.glob("chunk-*.npz")) == [
        "chunk-000000.npz",
        "chunk-000001.npz",
    ]
    # the fault fires once: a resumed build trains only the missing chunk
    events: list[BuildProgress] = []
    build_table(
        protocol, out, cells=CELLS, chunk_size=2, backend="ray", resume=True, progress=events.append
    )
    assert [e.chunk_id for e in events if not e.skipped] == [2]


_DRIVER = textwrap.dedent(
    """
    import json, sys
    from nasbench_sim.generate import Protocol, build_table
    from nasbench_sim.generate.ray_backend import RayOptions
    protocol = Protocol.from_dict(json.loads(sys.argv[2]))
    build_table(protocol, sys.argv[1], cells=json.loads(sys.argv[3]), chunk_size=1,
                backend="ray", ray_options=RayOptions(num_cpus=1))
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_driver_killed_and_restarted_loses_and_duplicates_nothing(
    ray_cluster: None, protocol: Protocol, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = dataclasses.replace(protocol, epochs=3)
    out = tmp_path / "k.h5"
    parts = parts_dir(out)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAY_ADDRESS": ""}
    child = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(out), json.dumps(slow.to_dict()), json.dumps(CELLS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the driver and its local Ray
    )
    deadline = time.monotonic() + 240
    try:
        while not list(parts.glob("chunk-*.npz")):
            assert child.poll() is None, (
                child.stderr.read().decode()[-2000:] if child.stderr else ""
            )
            assert time.monotonic() < deadline, "no chunk committed in time"
            time.sleep(0.05)
        # a reader sees the committed part, never a half-written chunk
        assert main(["info", str(out)]) == 0
        assert "BUILD IN PROGRESS" in capsys.readouterr().out
        os.killpg(child.pid, signal.SIGKILL)  # the driver and everything it started
    finally:
        child.wait(timeout=30)
        if child.stderr:
            child.stderr.close()
    assert not out.exists()
    committed = {p.name: p.stat().st_mtime_ns for p in parts.glob("chunk-*.npz")}
    assert 1 <= len(committed) < len(CELLS)

    events: list[BuildProgress] = []
    build_table(
        slow,
        out,
        cells=CELLS,
        chunk_size=1,
        backend="ray",
        resume=True,
        keep_parts=True,
        progress=events.append,
    )
    assert {f"chunk-{e.chunk_id:06d}.npz" for e in events if e.skipped} == set(committed)
    for name, mtime in committed.items():
        assert (parts / name).stat().st_mtime_ns == mtime  # not retrained, not rewritten
    table = read_table(out)
    assert table.arch_index.tolist() == sorted(CELLS)  # nothing lost, nothing twice
    straight = read_table(build_table(slow, tmp_path / "s.h5", cells=CELLS, chunk_size=1))
    _assert_same(table, straight)
