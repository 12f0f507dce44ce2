"""``build`` and ``merge``: train cells into a table (needs torch), merge shard tables.

torch is imported only inside the ``build`` handler, so the rest of the CLI works without it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from nasbench_sim.cli.progress import progress_bar
from nasbench_sim.generate import (
    DATASETS,
    BuildProgress,
    GenerateError,
    MissingTrainingDependency,
    Protocol,
    build_status,
    build_table,
    merge_tables,
)
from nasbench_sim.generate.grad_sum import GRAD_SUMS
from nasbench_sim.generate.protocol import BUILD_FLAGS
from nasbench_sim.generate.ray_backend import RayOptions
from nasbench_sim.generate.worker import TRAINERS
from nasbench_sim.table import read_table

__all__ = ["protocol_from_args", "register"]

_DEFAULT = Protocol()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="train cells into a table (needs torch: pip install -e '.[train]')",
        description="Train NAS-Bench-201 cells and write their learning curves to a table. "
        "Work is committed chunk by chunk to OUT.parts/; a killed build continues with --resume.",
    )
    p.add_argument("--space", default="nb201", choices=["nb201"], help="search space")
    p.add_argument("--dataset", default=_DEFAULT.dataset, choices=DATASETS)
    p.add_argument("--out", required=True, help="table file to write (.h5)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--seeds", default="0", help="comma-separated training seeds (default: 0)")
    p.add_argument("--epochs", type=int, default=_DEFAULT.epochs)
    p.add_argument("--channels", type=int, default=_DEFAULT.channels, help="C of the first stage")
    p.add_argument(
        "--cells-per-stage", type=int, default=_DEFAULT.cells_per_stage, help="N cells per stage"
    )
    p.add_argument(
        "--cells",
        default="classes",
        help="'all' (15,625), 'classes' (one per equivalence class, 6,466; default) or a "
        "number of class representatives drawn with --cells-seed",
    )
    p.add_argument("--cells-seed", type=int, default=0)
    p.add_argument("--shard", default="0/1", help="i/n: train only chunks with id %% n == i")
    p.add_argument("--resume", action="store_true", help="continue the build in OUT.parts/")
    p.add_argument(
        "--restart", action="store_true",
        help="discard an unfinished build in OUT.parts/ (its committed chunks) and start over",
    )  # fmt: skip
    p.add_argument("--chunk-size", type=int, default=64, help="cells per chunk (default: 64)")
    p.add_argument("--data-dir", default=None, help="folder of cifar10/cifar100/fashion_mnist")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--trainer", choices=["auto", *TRAINERS], default="auto",
        help="batched: a chunk's cells as one grouped network (the GPU path); reference: one "
        "cell at a time; matmul: one at a time as matrix products (the CPU path, 1-D data); "
        "matmul_stacked: runs of consecutive cells stacked as matrix products (the CPU path "
        "below batch 256); auto (default): on a CPU with 1-D data matmul_stacked when the "
        "batch is below 256, else matmul; batched elsewhere",
    )  # fmt: skip
    g.add_argument(
        "--batched", dest="trainer", action="store_const", const="batched",
        help="same as --trainer batched",
    )  # fmt: skip
    g.add_argument(
        "--reference", dest="trainer", action="store_const", const="reference",
        help="same as --trainer reference",
    )  # fmt: skip
    p.add_argument("--batch-size", type=int, default=_DEFAULT.batch_size)
    p.add_argument("--lr", type=float, default=_DEFAULT.lr)
    p.add_argument("--weight-decay", type=float, default=_DEFAULT.weight_decay)
    p.add_argument("--label-smoothing", type=float, default=_DEFAULT.label_smoothing)
    p.add_argument("--train-subset", type=int, default=None, help="train on this many samples")
    p.add_argument("--eval-subset", type=int, default=None, help="evaluate on this many samples")
    p.add_argument(
        "--data-sizes", type=_sizes, default=None, metavar="TRAIN,VALID,TEST",
        help="samples to generate for mnist1d (default: the package's 3000,1000,1000)",
    )  # fmt: skip
    p.add_argument(
        "--test-every", type=int, default=_DEFAULT.test_every, metavar="K",
        help="evaluate the test split every K epochs and after the last (others: NaN; "
        "default: %(default)s)",
    )  # fmt: skip
    p.add_argument("--dtype", default=_DEFAULT.dtype, choices=["float32", "float64"])
    p.add_argument("--base-seed", type=int, default=_DEFAULT.base_seed)
    p.add_argument(
        "--workers", type=int, default=None,
        help="training processes of the local backend (default: one per CPU core on a CPU, "
        "1 on a GPU)",
    )  # fmt: skip
    p.add_argument(
        "--threads", type=int, default=1,
        help="torch CPU threads of each training run (default: 1); part of the table's "
        "numerics: tables built with different values are not merged",
    )  # fmt: skip
    p.add_argument(
        "--grad-sum", choices=GRAD_SUMS, default=None,
        help="matmul trainers: the order a cell node's gradients are added in; ordered "
        "(default): edge order, so a cell's numbers do not depend on the cells trained with "
        "it; autograd: autograd's order, which follows the stack (to resume or reproduce a "
        "table built before this option, whose numerics record no grad_sum)",
    )  # fmt: skip
    p.add_argument(
        "--mixed-hardware", action="store_true",
        help="with --resume: continue a build started on another kind of machine (another "
        "CPU instruction set or GPU model; the rest of the numerics the same). Its cells then "
        "round differently on each machine: the table records which machine trained which "
        "cells",
    )  # fmt: skip
    p.add_argument(
        "--backend",
        default="local",
        choices=["local", "ray"],
        help="local: chunks one after another here (default); ray: one Ray task per chunk",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join: 'auto' (this machine's `ray start --head`), HOST:PORT or "
        "ray://HOST:10001; default: start a local Ray instance",
    )
    p.add_argument(
        "--ray-gpus-per-task",
        type=float,
        default=None,
        help="GPUs per chunk task (default: 1 with --device cuda, else 0; 0.5 packs two)",
    )
    p.add_argument("--ray-cpus-per-task", type=float, default=1.0, help="CPUs per chunk task")
    p.add_argument("--ray-max-retries", type=int, default=3, help="retries of a failed task")
    p.add_argument(
        "--ray-num-cpus", type=int, default=None, help="CPUs of a local Ray instance (all)"
    )
    p.add_argument("--keep-parts", action="store_true", help="keep OUT.parts/ after assembly")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_build)

    p = sub.add_parser("merge", help="merge shard tables of one build into one table")
    p.add_argument("shards", nargs="+", help="shard tables (or complete OUT.parts/ dirs)")
    p.add_argument("--out", required=True, help="merged table to write (.h5)")
    p.add_argument(
        "--mixed-hardware", action="store_true",
        help="merge pieces trained on different kinds of machine (CPU instruction set or GPU "
        "model; the rest of the numerics the same), recording which cells each kind trained",
    )  # fmt: skip
    p.set_defaults(func=_merge)

    _register_recost(sub)


def _register_recost(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recost",
        help="re-measure a built table's latency and training times on this machine at rest",
        description="Measure every row's inference latency again, time the training steps of "
        "a random sample of rows and refit the training-time model, on this machine's CPU; "
        "learning curves, parameters and FLOPs are kept. For a table whose build shared its "
        "cores with other work. Run it with nothing else running. Needs torch.",
    )
    p.add_argument("table", help="a table made by `nasbench-sim build` (.h5)")
    p.add_argument("--out", required=True, help="table to write (may be the input)")
    p.add_argument("--timed-cells", type=int, default=400, help="rows whose steps are timed")
    p.add_argument("--repeats", type=int, default=15, help="forward passes per latency")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: those the build trained with)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="draws the timed rows")
    p.add_argument("--data-dir", default=None, help="folder of cifar10/cifar100/fashion_mnist")
    p.set_defaults(func=_recost)


def protocol_from_args(args: argparse.Namespace) -> Protocol:
    """The protocol ``build``'s flags describe (:data:`BUILD_FLAGS` names them)."""
    fields = {f: getattr(args, f) for f in BUILD_FLAGS if f != "seeds"}
    return Protocol(**fields, seeds=_seeds(args.seeds))


def _sizes(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(s) for s in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected three positive integers TRAIN,VALID,TEST (e.g. 5000,3000,8000), got {text!r}"
        )
    return values[0], values[1], values[2]


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise GenerateError(f"--seeds must be comma-separated integers, got {text!r}") from None


def _cells(text: str) -> str | int:
    if text in ("all", "classes"):
        return text
    try:
        return int(text)
    except ValueError:
        raise GenerateError(f"--cells must be 'all', 'classes' or a number, got {text!r}") from None


class _Bar:
    """Turns :class:`BuildProgress` events into a tqdm bar (cells/s, model-steps/s, ETA).

    The bar counts the shard's cells; on a resume the committed ones fill it from the start
    and are left out of the rates and the ETA (tqdm's ``initial``); a log gets one line once
    they are counted, rather than none until the first chunk this run trains.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.start = time.perf_counter()
        self.steps = 0
        if enabled:  # shown from the start: the first chunk may take minutes
            self.bar = progress_bar(total=None, unit="cell", smoothing=0.1)
            self.start = time.perf_counter()  # the bar's cells/s and model-steps/s: one clock

    def __call__(self, ev: BuildProgress) -> None:
        if not self.enabled:
            return
        if self.bar.total is None:
            self.bar.total = ev.cells_total
        if ev.skipped:  # already committed: counted, but not part of this run's rate or ETA
            for field in ("n", "initial", "last_print_n"):
                setattr(self.bar, field, getattr(self.bar, field) + ev.chunk_cells)
            self.bar.set_postfix({"resumed": str(self.bar.initial)}, refresh=False)
            # a terminal's line is redrawn; a log gets one line, after the last skip
            if sys.stderr.isatty() or ev.chunks_done == ev.chunks_resumed:
                self.bar.refresh()
            return
        self.steps += ev.model_steps
        rate = self.steps / max(time.perf_counter() - self.start, 1e-9)
        post = {"model-steps/s": f"{rate:.1f}", "chunk": f"{ev.chunks_done}/{ev.chunks_total}"}
        if self.bar.initial:
            post["resumed"] = str(self.bar.initial)
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(ev.chunk_cells)

    def close(self, failed: bool = False) -> None:
        if self.bar is not None:
            if failed and self.bar.n == 0:  # an early error: no empty bar left above it
                self.bar.leave = False
            self.bar.close()


def _build(args: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError:
        raise MissingTrainingDependency("torch") from None
    if args.threads < 1:
        raise GenerateError(f"--threads must be >= 1, got {args.threads}")
    if args.workers is not None and args.workers < 1:
        raise GenerateError(f"--workers must be >= 1, got {args.workers}")
    if args.mixed_hardware and not args.resume:
        raise GenerateError(
            "--mixed-hardware continues a build on another machine: use it with --resume"
        )
    protocol = protocol_from_args(args)
    on_cpu = str(args.device) == "cpu"
    workers = args.workers or ((os.cpu_count() or 1) if on_cpu else 1)
    del torch
    bar = _Bar(enabled=not args.no_progress)
    try:
        out = build_table(
            protocol,
            args.out,
            cells=_cells(args.cells),
            device=args.device,
            chunk_size=args.chunk_size,
            shard=args.shard,
            resume=args.resume,
            restart=args.restart,
            trainer=args.trainer,
            workers=workers,
            threads=args.threads,
            grad_sum=args.grad_sum,
            mixed_hardware=args.mixed_hardware,
            data_dir=args.data_dir,
            keep_parts=args.keep_parts,
            cells_seed=args.cells_seed,
            progress=bar,
            backend=args.backend,
            ray_options=RayOptions(
                address=args.ray_address,
                gpus_per_task=args.ray_gpus_per_task,
                cpus_per_task=args.ray_cpus_per_task,
                max_retries=args.ray_max_retries,
                num_cpus=args.ray_num_cpus,
            ),
        )
    except KeyboardInterrupt:
        status = build_status(args.out)
        if status is None:  # nothing was committed: the build left nothing behind
            bar.close(failed=True)
            raise
        bar.close()
        print(  # and a normal exit: the workers are stopped, their queues released
            f"\nnasbench-sim: interrupted; {status['chunks_done']} of {status['chunks_total']} "
            f"chunks committed in {status['parts']}; rerun the same command with --resume to "
            "continue",
            file=sys.stderr,
        )
        return 130
    except Exception:
        bar.close(failed=True)
        raise
    finally:
        bar.close()
    _summary(str(out))
    return 0


def _recost(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingTrainingDependency("torch") from None
    from nasbench_sim.generate.recost import check_arguments, recost_table
    from nasbench_sim.table import read_table

    check_arguments(args.timed_cells, args.repeats, args.threads)
    rows = read_table(args.table).n_cells  # a bad path or file fails here, before any bar
    total = rows + min(rows, args.timed_cells)
    with progress_bar(total=total, unit="measurement", desc="re-measuring") as bar:
        report = recost_table(
            args.table, args.out, timed_cells=args.timed_cells, repeats=args.repeats,
            threads=args.threads, seed=args.seed, data_dir=args.data_dir, progress=bar.update,
        )  # fmt: skip
    print("\n".join(report.lines()))
    return 0


def _merge(args: argparse.Namespace) -> int:
    out = merge_tables(args.shards, args.out, mixed_hardware=args.mixed_hardware)
    _summary(str(out))
    return 0


def _summary(path: str) -> None:
    t = read_table(path)
    mape = t.provenance.get("timing_model_cv_mape")
    mape_s = "n/a" if mape is None else f"{100 * float(mape):.1f}%"
    print(
        f"wrote {path}: {t.n_cells} cells x {t.n_seeds} seeds x {t.n_epochs} epochs on "
        f"{t.dataset}; training-time model CV MAPE {mape_s}"
    )
