#!/usr/bin/env bash
# How much the one-shot figures on the default table rest on their settings (docs/oneshot.md,
# "How much rests on the settings"): DARTS and GDAS at three architecture learning rates, and
# SPOS trained 12 and 48 epochs and scored on the same 500 random classes; two super-network
# seeds each, every run on its own copy of the table (the runs are stored in it), then
# `nasbench-sim gap` on each copy. About 25 minutes on two cores.
#
#   bash benchmarks/oneshot_settings.sh [OUT]        # default OUT: results/oneshot_settings
#
# (--arch-lr 0.003 is the figures script's setting: its runs are in
# results/default_table_figures/, so this script runs the other two.)
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."
TABLE=$PWD/data/nb201_mnist1d.h5
OUT=$(realpath -m "${1:-results/oneshot_settings}")
mkdir -p "$OUT"
NBS=(python -m nasbench_sim)
for lr in 0.0003 0.03; do
  cp "$TABLE" "$OUT/lr$lr.h5"
  for m in darts gdas; do
    for s in 0 1; do
      echo "== $m --arch-lr $lr seed $s"
      "${NBS[@]}" oneshot --table "$OUT/lr$lr.h5" --method "$m" --seed "$s" --arch-lr "$lr" \
        --threads 2 --no-progress | tail -n 1
    done
  done
  "${NBS[@]}" gap --table "$OUT/lr$lr.h5" --out "$OUT/gap_lr$lr"
done
# 500 classes drawn once (numpy default_rng(0)), sorted
CELLS=$(python -c 'import sys, numpy as np; from nasbench_sim.table import read_table
a = read_table(sys.argv[1]).arch_index
print(",".join(map(str, np.sort(np.random.default_rng(0).choice(a, 500, replace=False)))))' "$TABLE")
for e in 12 48; do
  cp "$TABLE" "$OUT/spos$e.h5"
  for s in 0 1; do
    echo "== spos --epochs $e seed $s"
    "${NBS[@]}" oneshot --table "$OUT/spos$e.h5" --method spos --seed "$s" --epochs "$e" \
      --cells "$CELLS" --eval-subset 1000 --threads 2 --no-progress
  done
  "${NBS[@]}" gap --table "$OUT/spos$e.h5" --out "$OUT/gap_spos$e"
done
