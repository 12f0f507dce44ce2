"""The ordered gradient sum: options, numerics, merge across plans, resume, the rebuild flag."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.generate import BuildError, GenerateError, build_table, merge_tables
from nasbench_sim.generate.assemble import depends_on_chunk
from nasbench_sim.generate.grad_sum import recorded_grad_sum, resolve_grad_sum
from nasbench_sim.generate.worker import numerics
from nasbench_sim.table import TableData, read_table
from tests.generate.test_gen_golden import STACK_MATES, TABLE
from tests.tiny_protocol import TINY

# 1-D data at batch 64: the stacked trainer stacks up to 16 cells
P = dataclasses.replace(TINY, dataset="mnist1d", batch_size=64, epochs=2, seeds=(0,),
                        timing_cells_per_chunk=0)  # fmt: skip
CELLS = list(range(9860, 9868))
# the default table's network and batch, three SGD steps: where autograd's order shows
Q = dataclasses.replace(TABLE, epochs=1, train_subset=3 * TABLE.batch_size, eval_subset=64,
                        seeds=(0,), timing_cells_per_chunk=0)  # fmt: skip


def test_the_option_resolves_per_trainer() -> None:
    assert resolve_grad_sum("matmul", None) == resolve_grad_sum("matmul_stacked", None) == "ordered"
    assert resolve_grad_sum("matmul_stacked", "autograd") == "autograd"
    assert resolve_grad_sum("batched", None) is None
    with pytest.raises(GenerateError, match="unknown grad_sum 'sorted'; valid: ordered, autograd"):
        resolve_grad_sum("matmul", "sorted")
    with pytest.raises(GenerateError, match="not 'reference'; leave it unset"):
        resolve_grad_sum("reference", "ordered")


def test_numerics_record_the_ordered_sum_and_old_tables_read_as_autograd() -> None:
    ordered = numerics("matmul_stacked", "cpu", "float32", 1)
    old = numerics("matmul_stacked", "cpu", "float32", 1, "autograd")
    assert ordered == {**old, "grad_sum": "ordered"} and "grad_sum" not in old
    assert recorded_grad_sum(ordered) == "ordered" and recorded_grad_sum(old) == "autograd"
    assert recorded_grad_sum(numerics("batched", "cpu", "float32", 1)) is None
    assert not depends_on_chunk(ordered) and depends_on_chunk(old)
    assert depends_on_chunk({"trainer": "batched"}) and not depends_on_chunk({"trainer": "matmul"})


def _build(out: Path, cells: list[int], chunk: int, grad_sum: str) -> TableData:
    kw = {"trainer": "matmul_stacked", "workers": 1, "grad_sum": grad_sum}
    return read_table(build_table(Q, out, cells=cells, chunk_size=chunk, **kw))


def _same(a: TableData, b: TableData) -> bool:
    return all(np.array_equal(a.metrics[n], b.metrics[n]) for n in a.metrics)


def test_ordered_pieces_of_other_plans_merge_into_the_same_numbers(tmp_path: Path) -> None:
    """Build chunk 11's 16 cells at the default table's network as one chunk, and as pieces
    of 5 and 11 cells (other plans, other stacks). With the ordered numerics every metric of
    every row is the same bits, losses included, and the pieces merge; in autograd's order
    the numbers differ and the pieces are refused."""
    cells = STACK_MATES
    one = _build(tmp_path / "one.h5", cells, 16, "ordered")
    a = tmp_path / "a.h5"
    _build(a, cells[:5], 5, "ordered")
    _build(tmp_path / "b.h5", cells[5:], 11, "ordered")
    merged = read_table(merge_tables([a, tmp_path / "b.h5"], tmp_path / "m.h5"))
    assert merged.arch_index.tolist() == cells and _same(merged, one)
    assert one.provenance["numerics"]["grad_sum"] == "ordered"
    # the pieces' plans differ: the merged table records none (each piece's is under shards)
    assert "plan" not in merged.provenance and "chunk_size" not in merged.provenance
    assert [s["chunk_size"] for s in merged.provenance["shards"]] == [5, 11]
    # autograd's order (the control): other stacks, other numbers; the pieces are refused
    old = _build(tmp_path / "one_old.h5", cells, 16, "autograd")
    c, d = tmp_path / "c.h5", tmp_path / "d.h5"
    _build(c, cells[:5], 5, "autograd")
    _build(d, cells[5:], 11, "autograd")
    pieces = [read_table(c), read_table(d)]
    rows = {n: np.concatenate([p.metrics[n] for p in pieces]) for n in old.metrics}
    assert not all(np.array_equal(rows[n], old.metrics[n]) for n in rows)
    with pytest.raises(
        BuildError, match=r"depend on the cells trained with it.*--grad-sum ordered"
    ):
        merge_tables([c, d], tmp_path / "bad.h5")
    # ... and the two orders' pieces never merge (their numerics differ)
    with pytest.raises(BuildError, match=r"other numerics \(grad_sum: autograd vs ordered\)"):
        merge_tables([a, d], tmp_path / "bad2.h5")


def test_a_build_resumes_only_in_the_order_it_started_with(tmp_path: Path) -> None:
    out = tmp_path / "t.h5"
    kw = {"cells": CELLS[:2], "chunk_size": 1, "trainer": "matmul", "keep_parts": True}
    with pytest.raises(KeyboardInterrupt):

        def stop(_: object) -> None:
            raise KeyboardInterrupt

        build_table(P, out, grad_sum="autograd", progress=stop, **kw)
    with pytest.raises(BuildError, match=r"started with --grad-sum autograd, this call asks for"):
        build_table(P, out, resume=True, **kw)
    t = read_table(build_table(P, out, resume=True, grad_sum="autograd", **kw))
    assert "grad_sum" not in t.provenance["numerics"]


def test_the_cli_flag_reaches_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nasbench_sim.cli import main

    out = tmp_path / "t.h5"
    args = ["build", "--dataset", "mnist1d", "--cells", "2", "--seeds", "0",
            "--epochs", "1", "--channels", "4", "--cells-per-stage", "1", "--batch-size", "64",
            "--train-subset", "128", "--eval-subset", "64", "--workers", "1", "--out", str(out),
            "--no-progress"]  # fmt: skip
    assert main([*args, "--grad-sum", "autograd"]) == 0
    t = read_table(out)
    assert t.provenance["numerics"]["trainer"] == "matmul_stacked"
    assert recorded_grad_sum(t.provenance["numerics"]) == "autograd"
    assert main([*args, "--grad-sum", "sorted"]) == 2  # argparse's choices, before any work
    assert "invalid choice: 'sorted' (choose from 'ordered', 'autograd')" in capsys.readouterr().err


def test_errors_say_what_auto_picked_and_which_trainer_a_build_started_with(
    tmp_path: Path,
) -> None:
    with pytest.raises(GenerateError, match=r"not 'batched'.*trainer 'auto' picked 'batched' here"):
        build_table(TINY, tmp_path / "d.h5", cells=[5], grad_sum="ordered")  # 2-D data
    out = tmp_path / "t.h5"

    def stop(_: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_table(P, out, cells=CELLS[:2], chunk_size=1, trainer="matmul", progress=stop)
    with pytest.raises(BuildError, match=r"started with trainer 'matmul': pass that trainer"):
        build_table(P, out, cells=CELLS[:2], chunk_size=1, trainer="reference", resume=True)
