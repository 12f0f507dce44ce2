"""The ``README.md`` of a table's datasheet, rendered from what :mod:`analysis.datasheet`
measured (the record it writes as ``datasheet.json``): the discrimination criteria, the cost
metrics and exact Pareto fronts, the protocol, the build and the command that rebuilds it.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from nasbench_sim.generate.hardware import HARDWARE_FIELDS, describe_groups
from nasbench_sim.units import duration

__all__ = ["readme_text"]


def readme_text(path: Path, info: dict[str, Any], data: dict[str, Any]) -> str:
    """The datasheet's ``README.md`` for the table read from ``path``.

    Args:
        path: the table file (its name heads the README).
        info: the table's :meth:`~nasbench_sim.bench.TabularBenchmark.info`.
        data: the datasheet's record (what ``datasheet.json`` holds).

    Returns:
        The README's text, ending in a newline.
    """
    return "\n".join(_readme_head(path, info, data) + _readme_tail(data)) + "\n"


def _fmt(v: Any) -> str:
    """A value as the README shows it: floats to 4 significant digits, ``None`` as n/a."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else str(v)


def _when(iso: str | None) -> str:
    """An ISO timestamp as ``2026-12-01 03:01 UTC`` (the text itself when it is not one)."""
    if not iso:
        return "n/a"
    try:
        when = _dt.datetime.fromisoformat(iso).astimezone(_dt.UTC)
    except (TypeError, ValueError):
        return str(iso)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _front_lines(fronts: dict[str, Any]) -> list[str]:
    """The README's summary of the exact fronts."""
    if not fronts:
        return []
    lines = [
        "",
        "## Pareto fronts",
        "",
        "Exact fronts of final test accuracy (seed mean) against each cost, over every row "
        "(`datasheet.json` lists their cells). Hypervolume in normalised units, reference "
        "point 1.1 (see `docs/search.md`).",
        "",
        "| cost | cells on the front | hypervolume | most accurate (acc, cost) | cheapest |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, f in fronts.items():
        best, cheap = f["members"][0], f["members"][-1]
        lines.append(
            f"| {key} | {f['cells']} | {f['hypervolume']:.4f} | {best['test_acc']:.4f}, "
            f"{best[key]:.4g} | {cheap['test_acc']:.4f}, {cheap[key]:.4g} |"
        )
    return lines


def _readme_head(path: Path, info: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """The README down to the cost metrics and fronts."""
    lines = [f"# Datasheet: `{path.name}`", ""]
    if info["synthetic"]:
        lines += ["**SYNTHETIC table**: a parametric stand-in, not a training result.", ""]
    from nasbench_sim.space import SPACES

    label = SPACES[info["space"]].title if info["space"] in SPACES else info["space"]
    epochs = (
        f"budgets {', '.join(map(str, info['budgets']))} epochs (each a separate training run)"
        if "budgets" in info
        else f"{info['epochs']} epochs of curves"
    )
    lines += [
        f"{label} space `{info['space']}` on `{info['dataset']}`: {info['rows']} rows "
        f"covering {info['cells_covered']} of {info['space_size']} cells, "
        f"{len(info['seeds'])} training seed(s) {info['seeds']}, {epochs}. Table created "
        f"{_when(info['created'])}.",
        "",
        "## Discrimination",
        "",
        "| statistic | value | a default table needs | |",
        "| --- | --- | --- | --- |",
    ]
    for c in data["criteria"]:
        lines.append(
            f"| {c['statistic']} | {_fmt(c['value'])} | {c['needs']} | "
            f"{'pass' if c['ok'] else 'FAIL'} |"
        )
    q = data["stats"]["test_acc_quantiles"]
    lines += [
        "",
        "Final test accuracy (mean over seeds) quantiles 5/25/50/75/95 %: "
        + " / ".join(f"{v:.3f}" for v in q.values())
        + f"; median seed-to-seed standard deviation of validation accuracy: "
        f"{_fmt(data['stats']['seed_std_valid'])}; Pearson r between two seeds' validation "
        f"accuracies: {_fmt(data['stats']['seed_pearson'])}, so the reliability of the mean "
        f"of {data['stats']['n_seeds']} seeds (Spearman-Brown) is "
        f"{_fmt(data['stats']['seed_mean_reliability'])}.",
        "",
        "![accuracy histogram](accuracy_hist.png)",
        "",
        "## Cost metrics (per cell)",
        "",
        "| metric | min | median | max |",
        "| --- | --- | --- | --- |",
    ]
    for k, v in data["cost"].items():
        lines.append(f"| {k} | {v['min']:.4g} | {v['median']:.4g} | {v['max']:.4g} |")
    lines += _front_lines(data["fronts"])
    if "cost_pareto.png" in data["plots"]:
        lines += ["", "![accuracy against cost](cost_pareto.png)"]
    return lines


def _cpu_lines(prov: dict[str, Any]) -> list[str]:
    """The build's CPU time, and what it comes to on the machine that assembled it."""
    cpu_s = prov.get("cpu_s")
    if not isinstance(cpu_s, (int, float)) or cpu_s <= 0:
        return []
    hardware = prov.get("hardware")  # a merge of pieces from several machines: a list
    cores = hardware.get("cpu_count") if isinstance(hardware, dict) else None
    text = f"- CPU time of the training processes: {duration(cpu_s, 'core-')}"
    if isinstance(cores, int) and cores > 0:
        text += f", {duration(cpu_s / cores)} on {cores} cores at full use"
    return [text + " (wall time depends on what else ran on the machine)"]


def _mixed_lines(prov: dict[str, Any]) -> list[str]:
    """For a build continued on another kind of machine (``build --mixed-hardware``): how
    many cells each kind trained."""
    groups = prov.get("mixed_hardware")
    if not isinstance(groups, list) or not groups:
        return []
    costs = (
        ""
        if prov.get("costs_remeasured")
        else "; its latencies and step times were measured on each kind too: `nasbench-sim "
        "recost` measures them again on one machine"
    )
    return [
        f"- trained on {len(groups)} kinds of machine (the build was continued with "
        f"`--mixed-hardware`): {describe_groups(groups)}. Provenance `mixed_hardware` lists the "
        "cells of each but the largest; another instruction set rounds differently, so a "
        "cell's curves differ from the other kind's by about half to two thirds of a seed change "
        f"(`benchmarks/hardware_effect.py` measures it; docs/generator.md){costs}"
    ]


def _same_numbers(numerics: dict[str, Any], rebuild: dict[str, Any]) -> str:
    """What retraining needs for the same bits: the numerics, and the chunks for a trainer
    that trains cells together."""
    mixed = bool(rebuild.get("mixed_hardware"))  # the machine fields vary by cell: not listed
    needs = ", ".join(
        f"{k} {v}"
        for k, v in sorted(numerics.items())
        if not (mixed and k in HARDWARE_FIELDS) and v is not None
    )
    differ = "another trainer, gradient sum, thread count, device, torch or CPU capability"
    chunks = ""
    if rebuild.get("grouped"):
        chunks = (
            " and its chunks (this command's cells and `--chunk-size`)"
            if rebuild.get("chunk_size")
            else " and its chunks (cells and chunk size, which this table does not record)"
        )
        differ += ", or a cell trained in another chunk,"
    if mixed:
        needs += "; each cell on the kind of machine that trained it (see Build)"
    return (
        f"The same numbers, bit for bit, need the build's numerics ({needs}){chunks}: {differ} "
        "gives curves that agree only statistically (float32 trajectories diverge; see "
        "docs/generator.md). `--data-dir DIR` for torchvision datasets."
    )


def _machines(prov: dict[str, Any]) -> str:
    """Where the build trained: trainer, devices, hosts, and the machine(s) that assembled
    the table (``hardware``), which are the training machines when one host did it all."""
    hardware = prov.get("hardware")
    boxes = hardware if isinstance(hardware, list) else [hardware] if hardware else []
    boxes = [h for h in boxes if isinstance(h, dict)]
    said = [f"{h.get('processor') or h.get('machine', '?')}, {h.get('cpu_count', '?')} CPUs"
            for h in boxes]  # fmt: skip
    named = {str(h.get(k)) for h in boxes for k in ("processor", "machine")}
    devices = [str(d) for d in prov.get("devices", []) if str(d) not in named]  # GPUs
    hosts = [str(h) for h in prov.get("hosts", [])]
    parts = [f"trainer `{prov['trainer']}`"] if prov.get("trainer") else []
    if devices:
        parts.append(f"device(s) {', '.join(devices)}")
    if said:
        alone = len(hosts) <= 1 and all(str(h.get("node")) in (*hosts, "None") for h in boxes)
        alone = alone and not prov.get("mixed_hardware")  # trained on other kinds of machine
        parts.append(f"{'machine' if alone else 'assembled on'} {'; '.join(said)}")
    if hosts:
        parts.append(f"host(s) {', '.join(hosts)}")
    return f"- {'; '.join(parts)}" if parts else ""


def _timing_lines(prov: dict[str, Any]) -> list[str]:
    """How ``train_time_s`` was made, and the re-measurement of the costs if there was one."""
    lines = []
    if prov.get("timing_model_method"):
        mape = prov.get("timing_model_cv_mape")
        error = f"; cross-validated error {mape:.1%}" if isinstance(mape, float) else ""
        n = prov.get("timing_model_n_measured")
        rows = f" on {n} measured rows" if n else ""
        lines.append(
            f"- `train_time_s`: predicted by a training-time model fitted{rows}{error} "
            f"({prov['timing_model_method']})"
        )
    rec = prov.get("costs_remeasured")
    if isinstance(rec, dict):
        at_build = (prov.get("costs_at_build") or {}).get("timing_model_cv_mape")
        before = (
            f"; the model's error at build was {at_build:.1%}"
            if isinstance(at_build, float)
            else ""
        )
        lines.append(
            f"- latency and training times re-measured {_when(rec.get('when'))} on "
            f"{rec.get('host', '?')} ({rec.get('processor', '?')}, {rec.get('cpu_count', '?')} "
            f"CPUs, {rec.get('threads', '?')} thread(s)): latency the "
            f"median of {rec.get('latency_repeats', '?')} forward passes per row, the steps of "
            f"{rec.get('timed_cells', '?')} rows timed, in "
            f"{duration(float(rec.get('seconds', 0.0)))}{before}"
        )
    return lines


def _build_lines(prov: dict[str, Any]) -> list[str]:
    """The Build section: where and how long it trained, how its costs were measured, with
    which software."""
    lines = [line for line in [_machines(prov)] if line]
    lines += _mixed_lines(prov)
    lines += _cpu_lines(prov)
    if isinstance(prov.get("train_wall_s"), (int, float)):
        lines.append(f"- training wall time summed over chunks: {duration(prov['train_wall_s'])}")
    if isinstance(prov.get("build_elapsed_s"), (int, float)):
        lines.append(
            f"- elapsed with at least one chunk training: {duration(prov['build_elapsed_s'])} "
            "(chunks trained side by side count once, the gaps between runs of the build not "
            "at all)"
        )
    if isinstance(prov.get("build_wall_s_last_run"), (int, float)):
        last = duration(prov["build_wall_s_last_run"])
        lines.append(f"- the last run of the build command (it resumes): {last}")
    if isinstance(prov.get("model_steps"), int):
        lines.append(f"- optimiser steps over all models and seeds: {prov['model_steps']:,}")
    lines += _timing_lines(prov)
    software = prov.get("software")
    if isinstance(software, dict):
        lines.append("- software: " + ", ".join(f"{k} {v}" for k, v in software.items()))
    elif isinstance(software, list):  # merged pieces that ran different versions
        pieces = [", ".join(f"{k} {v}" for k, v in sw.items()) for sw in software
                  if isinstance(sw, dict)]  # fmt: skip
        lines.append("- software (the pieces differ): " + "; ".join(pieces))
    if prov.get("partial"):
        planned = prov.get("planned")
        of = (
            f" ({prov['n_chunks']} of {planned['chunks']} chunks)"
            if isinstance(planned, dict) and "chunks" in planned and "n_chunks" in prov
            else ""
        )
        lines.append(
            f"- **partial**: assembled from the chunks committed so far{of}, not all of them"
        )
    return lines


def _protocol_lines(protocol: dict[str, Any]) -> list[str]:
    """The protocol as a table of fields (``datasheet.json`` holds it as JSON)."""
    lines = ["", "## Protocol", "", "| field | value |", "| --- | --- |"]
    lines += [f"| `{k}` | {_code(json.dumps(v))} |" for k, v in protocol.items()]
    return lines


def _code(text: str) -> str:
    """``text`` as an inline code span inside a Markdown table cell: a fence longer than
    any run of backticks in it, and ``|`` escaped (a bare one would end the cell)."""
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _readme_tail(data: dict[str, Any]) -> list[str]:
    """Protocol, build and rebuild sections of the README."""
    lines = _protocol_lines(data["protocol"])
    lines += ["", "## Build", "", *_build_lines(data["provenance"])]
    lines += ["", "## Rebuild", ""]
    rebuild = data["rebuild"]
    if rebuild["command"]:
        lines += ["```bash", rebuild["command"], "```"]
        numerics = rebuild.get("numerics")
        if numerics:
            lines.append(_same_numbers(numerics, rebuild))
        if rebuild["python_only_fields"]:
            lines.append(
                "Protocol fields no flag sets (use `build_table` in Python): "
                f"{rebuild['python_only_fields']}."
            )
        if rebuild["note"]:
            lines.append(rebuild["note"] + ".")
    else:
        lines.append("The table records no generator protocol (it was not made by `build`).")
    return lines
