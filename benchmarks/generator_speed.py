"""Generator throughput: one model at a time against M models batched as one network.

For one protocol (default: the default :class:`~nasbench_sim.generate.Protocol`), trains the
same K cells (drawn at random from the 15,625) for ``--steps`` optimiser steps each, first one
at a time with the reference model, then batched ``M`` at a time for each ``--m`` value, and
prints model-steps/s, the speed-up over the reference, the achieved TFLOP/s (training FLOPs
taken as 3x the counted forward FLOPs) against ``--peak-tflops``, and the projected wall time
of training all 15,625 cells once under the protocol.

    python benchmarks/generator_speed.py --device cuda --peak-tflops 989 --cells 256 \\
        --m 32,64,128,256
    python benchmarks/generator_speed.py --channels 4 --cells-per-stage 1 --cells 8 --steps 5 \\
        --m 2,4,8 --threads 1           # tiny CPU run, well under a minute

``--cpu-paths`` (CPU only) instead compares the ways of training on this machine's cores, each
configuration in fresh worker processes (so thread settings and allocator state never leak
between them), in ``--rounds`` interleaved rounds, best round kept:

* today's reference: one process, ``--threads`` torch threads (default: all cores);
* the reference on one thread;
* the batched grouped network (all K cells as one network), ``--threads`` threads;
* the matmul network (:mod:`nasbench_sim.generate.matmul_model`) with the flat optimiser of
  the build's training loop, one process on one thread;
* the same in one process per core, one thread each, the K cells split between them (what
  ``nasbench-sim build`` does on a CPU);
* the stacked matmul network (:mod:`nasbench_sim.generate.matmul_stacked`) for each
  ``--stack-m`` M: runs of M consecutive cells stacked, in one process and in one process per
  core (whole runs dealt to the processes, as a build deals chunks).

The K cells are by default a run of consecutive class representatives from a random start
(``--cells-from classes``: what one chunk of a build holds; consecutive cells share their
leading edges, which the stacked network exploits), or ``--cells-from random``. Throughput
is model-steps per second of wall time from the moment every worker is ready (models built
and warmed up) until the last one finishes; beside it, the CPU time per model and training
sample, which a busy machine disturbs less.

    python benchmarks/generator_speed.py --cpu-paths --channels 8 --cells-per-stage 1 \\
        --cells 16 --steps 6 --stack-m 8,16

The matmul paths run with the ordered gradient sum (:mod:`nasbench_sim.generate.grad_sum`,
the default of new builds). With ``--both-orders`` each stacked configuration also runs in
autograd's order (the default table's build), one process:

    python benchmarks/generator_speed.py --cpu-paths --channels 8 --cells-per-stage 3 \\
        --batch-size 64 --cells 16 --steps 6 --stack-m 16 --both-orders

``--stack-sweep`` measures how the one-thread paths' CPU time per model-sample depends on
the stack size and the batch size: the reference, the one-model matmul network and the
stacked network for each ``--stack-m``, for every ``--sweep-n`` x ``--sweep-batch``, each
in a fresh process, ``--rounds`` interleaved rounds, best kept:

    python benchmarks/generator_speed.py --stack-sweep --channels 8 --stack-m 1,2,4,8,16 \\
        --cells 16 --steps 4 --rounds 2
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_sim.generate import Protocol
from nasbench_sim.generate._loop import make_optimizer, steps_per_epoch
from nasbench_sim.generate.batched_model import GroupedNetwork
from nasbench_sim.generate.costs import count_flops
from nasbench_sim.generate.datasets import Dataset, dataset_for
from nasbench_sim.generate.train_reference import reference_model
from nasbench_sim.space import Cell, get_space

N_CELLS_SPACE = 15_625


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_steps(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    n_models: int,
    data: Dataset,
    protocol: Protocol,
    steps: int,
    device: torch.device,
) -> float:
    """Seconds for ``steps`` training steps (after 2 warm-up steps)."""
    opt, _ = make_optimizer(list(model.parameters()), protocol, steps + 2)
    gen = torch.Generator().manual_seed(0)
    n = int(data.train_y.shape[0])
    b = min(protocol.batch_size, n)
    batches = [torch.randint(n, (b,), generator=gen).to(device) for _ in range(steps + 2)]
    model.train()
    start = 0.0
    for i, idx in enumerate(batches):
        if i == 2:
            _sync(device)
            start = time.perf_counter()
        x, y = data.train_x[idx], data.train_y[idx]
        logits = forward(x)
        loss = (
            F.cross_entropy(logits.reshape(b * n_models, -1), y.repeat_interleave(n_models))
            * n_models
        )  # = sum of per-model mean losses
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    return time.perf_counter() - start


def _cpu_jobs(
    trainer: str, protocol: Protocol, data: Dataset, cells: list[Cell]
) -> list[tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor], int, torch.Tensor | None]]:
    """(model, forward, models, flat parameters or None) per trained unit of a CPU path:
    ``reference``, ``batched`` (all cells as one grouped network), ``matmul`` (one at a
    time) or ``stacked:M`` (consecutive groups of M cells as stacked matmul networks;
    ``stacked:M:autograd`` in autograd's order of gradient additions, the default table's; the
    others with the ordered sum, the default of new builds)."""
    from nasbench_sim.generate._loop import flat_parameters
    from nasbench_sim.generate.matmul_model import MatmulNetwork
    from nasbench_sim.generate.train_matmul import stacked_model

    if trainer == "batched":
        group = GroupedNetwork.from_models(
            [reference_model(protocol, c, 0, data, "cpu") for c in cells]
        )
        return [(group, group, len(cells), None)]
    if trainer.startswith("stacked:"):
        m, ordered = int(trainer.split(":")[1]), not trainer.endswith(":autograd")
        jobs: list[Any] = []
        for a in range(0, len(cells), m):
            stack = stacked_model(protocol, cells[a : a + m], 0, data, "cpu", ordered)
            jobs.append((stack, stack, stack.n_models, flat_parameters(stack)))
        return jobs
    jobs = []
    for cell in cells:
        ref = reference_model(protocol, cell, 0, data, "cpu")
        net: nn.Module = MatmulNetwork(ref) if trainer == "matmul" else ref
        flat = flat_parameters(net) if trainer == "matmul" else None

        def forward(x: torch.Tensor, m: nn.Module = net) -> torch.Tensor:
            return m(x).unsqueeze(1)

        jobs.append((net, forward, 1, flat))
    return jobs


def _path_worker(
    proto: dict[str, Any],
    indices: list[int],
    trainer: str,
    threads: int,
    steps: int,
    barrier: Any,
) -> tuple[float, float, int, float]:
    """One worker of a ``--cpu-paths`` configuration: build its models, warm up, wait for the
    others, time ``steps`` training steps of each model; (start, end, model-steps, CPU
    seconds of this process in between)."""
    torch.set_num_threads(threads)
    protocol = Protocol.from_dict(proto)
    data = dataset_for(protocol, "cpu")
    cells = [Cell.from_index(i) for i in indices]
    jobs = _cpu_jobs(trainer, protocol, data, cells)
    runners = [_stepper(m, f, k, data, protocol, steps, fl) for m, f, k, fl in jobs]
    for run in runners:
        run(2)  # warm-up
    barrier.wait()
    start, cpu = time.monotonic(), time.process_time()
    for run in runners:
        run(steps)
    end, cpu = time.monotonic(), time.process_time() - cpu
    return start, end, steps * len(cells), cpu


def _stepper(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    n_models: int,
    data: Dataset,
    protocol: Protocol,
    steps: int,
    flat: torch.Tensor | None,
) -> Callable[[int], None]:
    """A closure running ``k`` training steps of ``model`` (flat optimiser when ``flat``)."""
    params = [flat] if flat is not None else list(model.parameters())
    opt, _ = make_optimizer(params, protocol, steps + 2)
    gen = torch.Generator().manual_seed(0)
    n = int(data.train_y.shape[0])
    b = min(protocol.batch_size, n)
    model.train()

    def run(k: int) -> None:
        for _ in range(k):
            idx = torch.randint(n, (b,), generator=gen)
            x, y = data.train_x[idx], data.train_y[idx]
            logits = forward(x)
            loss = (
                F.cross_entropy(logits.reshape(b * n_models, -1), y.repeat_interleave(n_models))
                * n_models
            )
            opt.zero_grad(set_to_none=flat is None)
            loss.backward()
            opt.step()

    return run


def _run_path(
    proto: dict[str, Any], indices: list[int], trainer: str, threads: int, procs: int, steps: int
) -> tuple[float, float]:
    """One configuration in ``procs`` fresh processes sharing the cells: (model-steps per
    second of wall time, CPU microseconds per model-sample, summed over the processes)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(procs)
    group = int(trainer.split(":")[1]) if trainer.startswith("stacked:") else 1
    groups = _split(indices, procs, group)
    with ctx.Pool(procs) as pool:
        results = pool.starmap(
            _path_worker, [(proto, g, trainer, threads, steps, barrier) for g in groups]
        )
    start = min(r[0] for r in results)
    end = max(r[1] for r in results)
    model_steps = sum(r[2] for r in results)
    samples = model_steps * int(proto["batch_size"])
    return model_steps / (end - start), 1e6 * sum(r[3] for r in results) / samples


def _split(indices: list[int], procs: int, group: int) -> list[list[int]]:
    """The cells of each process: whole runs of ``group`` consecutive cells dealt round-robin
    (a stacked trainer's groups stay together, as chunks do in a build)."""
    runs = [indices[a : a + group] for a in range(0, len(indices), group)]
    return [[i for run in runs[p::procs] for i in run] for p in range(procs)]


def cpu_paths(args: argparse.Namespace, protocol: Protocol, indices: list[int]) -> None:
    cores = os.cpu_count() or 1
    threads = args.threads or cores
    configs = [
        (f"reference, 1 process x {threads} threads (today)", "reference", threads, 1),
        ("reference, 1 process x 1 thread", "reference", 1, 1),
        (f"batched M={len(indices)}, 1 process x {threads} threads", "batched", threads, 1),
        ("matmul, 1 process x 1 thread", "matmul", 1, 1),
        (f"matmul, {cores} processes x 1 thread (build)", "matmul", 1, cores),
    ]
    for m in _stack_ms(args.stack_m, protocol):
        if m == 1:  # the matmul_stacked trainer trains one-cell stacks as matmul does
            print("  stacked M=1: the matmul rows")
            continue
        configs.append((f"stacked M={m}, 1 process x 1 thread", f"stacked:{m}", 1, 1))
        configs.append((f"stacked M={m}, {cores} processes x 1 thread", f"stacked:{m}", 1, cores))
        if args.both_orders:
            configs.append((f"stacked M={m} autograd, 1 process x 1 thread",
                            f"stacked:{m}:autograd", 1, 1))  # fmt: skip
    rates: dict[str, list[float]] = {c[0]: [] for c in configs}
    cpu_us: dict[str, list[float]] = {c[0]: [] for c in configs}
    for r in range(args.rounds):
        for label, trainer, th, procs in configs:
            rate, us = _run_path(protocol.to_dict(), indices, trainer, th, procs, args.steps)
            rates[label].append(rate)
            cpu_us[label].append(us)
            print(f"  round {r + 1}: {label}: {rate:.1f} model-steps/s, {us:.1f} CPU us/sample",
                  flush=True)  # fmt: skip
    base = max(rates[configs[0][0]])
    mm = min(cpu_us["matmul, 1 process x 1 thread"])
    print(
        f"{'configuration':<46}{'model-steps/s':>14}{'median':>8}{'vs today':>9}"
        f"{'CPU us/sample':>14}{'vs matmul':>10}"
    )
    for label, *_ in configs:
        print(
            f"{label:<46}{max(rates[label]):>14.1f}{statistics.median(rates[label]):>8.1f}"
            f"{max(rates[label]) / base:>8.2f}x{min(cpu_us[label]):>14.1f}"
            f"{mm / min(cpu_us[label]):>9.2f}x"
        )
    print("(model-steps/s: wall time, best round; CPU us/sample: process CPU time per model and "
          "training sample, best round, summed over processes)")  # fmt: skip


def stack_sweep(args: argparse.Namespace, protocol: Protocol, indices: list[int]) -> None:
    """CPU time per model-sample of the one-thread paths for every (N, batch size): the
    reference, the one-model matmul network and the stacked network for each M."""
    ms = _ints(args.stack_m) if args.stack_m != "auto" else [1, 2, 4, 8, 16]
    trainers = ["reference", "matmul", *(f"stacked:{m}" for m in ms)]
    grid = [(n, b) for n in _ints(args.sweep_n) for b in _ints(args.sweep_batch)]
    best: dict[tuple[int, int, str], float] = {}
    for r in range(args.rounds):
        for n, b in grid:
            proto = dataclasses.replace(protocol, cells_per_stage=n, batch_size=b).to_dict()
            for trainer in trainers:
                _, us = _run_path(proto, indices, trainer, 1, 1, args.steps)
                key = (n, b, trainer)
                best[key] = min(best.get(key, float("inf")), us)
                print(f"  round {r + 1}: N={n} batch {b} {trainer}: {us:.1f} CPU us/sample",
                      flush=True)  # fmt: skip
    head = "".join(f"{'M=' + str(m):>8}" for m in ms)
    print(f"CPU us per model-sample (best of {args.rounds} rounds), C={protocol.channels}")
    print(f"{'N':>2}{'batch':>6}{'ref':>8}{'matmul':>8}{head}{'best M':>8}{'vs matmul':>10}"
          f"{'vs ref':>8}")  # fmt: skip
    for n, b in grid:
        ref, mm = best[(n, b, "reference")], best[(n, b, "matmul")]
        stacked = [best[(n, b, f"stacked:{m}")] for m in ms]
        j = min(range(len(ms)), key=lambda i: stacked[i])
        cols = "".join(f"{v:>8.1f}" for v in stacked)
        print(f"{n:>2}{b:>6}{ref:>8.1f}{mm:>8.1f}{cols}{ms[j]:>8}{mm / stacked[j]:>9.2f}x"
              f"{ref / stacked[j]:>7.2f}x")  # fmt: skip


def _stack_ms(text: str, protocol: Protocol) -> list[int]:
    """``--stack-m`` values; ``auto`` is the ``matmul_stacked`` trainer's own choice."""
    from nasbench_sim.generate.train_matmul import stack_size

    out = [stack_size(protocol) if v.strip() == "auto" else int(v) for v in text.split(",")]
    return list(dict.fromkeys(out))


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def _cells(args: argparse.Namespace) -> list[int]:
    """``--cells`` random cells, or (``--cells-from classes``) a run of that many consecutive
    class representatives from a random start: what one chunk of a build trains."""
    rng = np.random.default_rng(args.seed)
    if args.cells_from == "random":
        return sorted(int(i) for i in rng.choice(N_CELLS_SPACE, args.cells, replace=False))
    reps = np.sort(np.asarray(get_space("nb201").representatives()))
    start = int(rng.integers(0, reps.shape[0] - args.cells + 1))
    return [int(i) for i in reps[start : start + args.cells]]


def _hms(seconds: float) -> str:
    h, rem = divmod(round(seconds), 3600)
    return f"{h}h{rem // 60:02d}m" if h else f"{rem // 60}m{rem % 60:02d}s"


def main() -> None:
    d = Protocol()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cells", type=int, default=32, help="K cells timed both ways")
    ap.add_argument("--steps", type=int, default=20, help="timed training steps per model group")
    ap.add_argument("--m", default="4,8,16,32", help="comma-separated batch widths M")
    ap.add_argument("--peak-tflops", type=float, default=None, help="device peak, for utilisation")
    ap.add_argument("--dataset", default=d.dataset)
    ap.add_argument("--channels", type=int, default=d.channels)
    ap.add_argument("--cells-per-stage", type=int, default=d.cells_per_stage)
    ap.add_argument("--epochs", type=int, default=d.epochs)
    ap.add_argument("--batch-size", type=int, default=d.batch_size)
    ap.add_argument("--dtype", default=d.dtype, choices=["float32", "float64"])
    ap.add_argument("--seed", type=int, default=0, help="seed of the cell draw")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cpu-paths", action="store_true", help="compare the CPU training paths")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of --cpu-paths (best kept)")
    ap.add_argument(
        "--stack-m",
        default="auto",
        help="stack sizes M of the stacked matmul network (CPU paths; 'auto': the "
        "matmul_stacked trainer's choice for the protocol, the default)",
    )
    ap.add_argument(
        "--stack-sweep", action="store_true",
        help="CPU time per model-sample of reference, matmul and stacked (each --stack-m) "
        "for every --sweep-n x --sweep-batch",
    )  # fmt: skip
    ap.add_argument(
        "--both-orders", action="store_true",
        help="--cpu-paths: also the stacked network in autograd's order of gradient additions "
        "(the default table's build), one process, beside the ordered sum (the default)",
    )  # fmt: skip
    ap.add_argument("--sweep-n", default="1,2,3", help="cells per stage of --stack-sweep")
    ap.add_argument("--sweep-batch", default="32,64,128,256", help="batch sizes of --stack-sweep")
    ap.add_argument(
        "--cells-from", default="classes", choices=["classes", "random"],
        help="CPU paths: a run of consecutive class representatives (what a build chunk "
        "holds; default) or random cells",
    )  # fmt: skip
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    protocol = Protocol(
        dataset=args.dataset,
        channels=args.channels,
        cells_per_stage=args.cells_per_stage,
        epochs=args.epochs,
        batch_size=args.batch_size,
        dtype=args.dtype,
    )
    if args.cpu_paths or args.stack_sweep:
        indices = _cells(args)
        shape = (
            f"C={protocol.channels}, N in {args.sweep_n}, batch in {args.sweep_batch}"
            if args.stack_sweep
            else f"C={protocol.channels}, N={protocol.cells_per_stage}, batch {protocol.batch_size}"
        )
        print(
            f"protocol: {protocol.dataset}, {shape}; K={len(indices)} cells ({args.cells_from}: "
            f"{indices[0]}..{indices[-1]}), {args.steps} timed steps each; {os.cpu_count()} cores"
        )
        (stack_sweep if args.stack_sweep else cpu_paths)(args, protocol, indices)
        return
    rng = np.random.default_rng(args.seed)
    indices = [int(i) for i in rng.choice(N_CELLS_SPACE, args.cells, replace=False)]
    data = dataset_for(protocol, device, args.data_dir)
    cells = [Cell.from_index(i) for i in indices]
    widths = [int(m) for m in args.m.split(",") if m.strip()]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    b = min(protocol.batch_size, int(data.train_y.shape[0]))
    spe = steps_per_epoch(protocol, int(data.train_y.shape[0]))
    steps_per_cell = spe * protocol.epochs

    refs = [reference_model(protocol, c, 0, data, device) for c in cells]
    fwd_flops = [count_flops(m, data.input_shape) for m in refs]
    train_flops = 3.0 * sum(fwd_flops) * b * args.steps  # one timed pass over all K cells

    print(
        f"device: {device} ({name})"
        + ("  [CPU run: not representative of a GPU]" if device.type == "cpu" else "")
    )
    print(
        f"protocol: {protocol.dataset}, C={protocol.channels}, N={protocol.cells_per_stage}, "
        f"batch {b}, {protocol.epochs} epochs x {spe} steps; K={len(cells)} random cells, "
        f"{args.steps} timed steps each; mean forward {statistics.mean(fwd_flops) / 1e6:.2f} "
        "MFLOP/sample"
    )
    rows: list[tuple[str, float]] = []
    t_ref = 0.0
    for ref in refs:

        def forward(x: torch.Tensor, net: nn.Module = ref) -> torch.Tensor:
            return net(x).unsqueeze(1)

        t_ref += _time_steps(ref, forward, 1, data, protocol, args.steps, device)
    rows.append(("reference (M=1)", t_ref))
    for width in widths:
        total = 0.0
        for a in range(0, len(cells), width):
            group = GroupedNetwork.from_models(refs[a : a + width])
            total += _time_steps(group, group, group.n_models, data, protocol, args.steps, device)
        rows.append((f"batched M={width}", total))

    print(
        f"{'trainer':<18}{'model-steps/s':>15}{'speed-up':>10}{'TFLOP/s':>10}"
        f"{'util':>8}{'15,625 cells x 1 seed':>24}"
    )
    for label, seconds in rows:
        rate = len(cells) * args.steps / seconds
        tflops = train_flops / seconds / 1e12
        util = f"{100 * tflops / args.peak_tflops:.1f}%" if args.peak_tflops else "n/a"
        projected = N_CELLS_SPACE * steps_per_cell / rate
        print(
            f"{label:<18}{rate:>15.1f}{t_ref / seconds:>9.2f}x{tflops:>10.4f}{util:>8}"
            f"{_hms(projected):>24}"
        )
    print("(projection: training steps only; evaluation passes and cost measurements excluded)")


if __name__ == "__main__":
    main()
