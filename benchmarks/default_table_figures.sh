#!/usr/bin/env bash
# Every figure the README and the docs quote from the default table, measured in one go.
#
# The stand-in figures (docs/search.md "Measured", docs/oneshot.md "What to expect", the
# README's paragraph under the set-up commands) came from the synthetic table or tiny digits
# tables; once the default table ships, this script re-measures them on it (step 4 of
# "Finishing the build" in docs/protocol_pilot.md):
#
#   bash benchmarks/default_table_figures.sh                       # the shipped table, ~1.7 h
#   bash benchmarks/default_table_figures.sh --table T.h5 --out results/figs_T
#   bash benchmarks/default_table_figures.sh --quick               # a smoke run, 1-2 minutes
#
# Each stage writes OUT/<stage>.log (its command, its output, its wall and CPU time) and is
# skipped when that log is complete and ran the same command, so an interrupted run resumes
# where it stopped (--force reruns every stage). OUT belongs to one table (OUT/table.source
# holds its checksum): another table needs another OUT. One-shot methods store their
# super-networks in the table they train against, so they run on a copy (OUT/table.h5); the
# given table is only read. The commands run this checkout's code (python -m nasbench_sim).
# The figures are quoted from OUT/report.md, which benchmarks/figures_report.py writes at the
# end from OUT/*/summary.csv, the other stages' files and the logs.
set -euo pipefail
SCRIPT=$(realpath "$0")
HERE=$PWD

TABLE=data/nb201_mnist1d.h5
OUT=""
QUICK=0
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --table|--out)
      [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }
      if [ "$1" = --table ]; then TABLE=$(realpath -m "$2"); else OUT=$(realpath -m "$2"); fi
      shift 2 ;;
    --quick) QUICK=1; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SCRIPT"; exit 0 ;;
    *) echo "unknown argument $1 (allowed: --table T.h5, --out DIR, --quick, --force)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$SCRIPT")/.."
[ -n "$OUT" ] || OUT=results/default_table_figures$([ "$QUICK" = 1 ] && echo _quick || true)
[ -f "$TABLE" ] || { echo "no table file $(realpath -m "$TABLE") (from $HERE)" >&2; exit 2; }
NBS=(python -m nasbench_sim)

# full run / smoke run: seeds of each comparison, one-shot epochs and seeds, predictor sizes
if [ "$QUICK" = 1 ]; then
  FIRST=$(python -c 'import sys; from nasbench_sim.table import read_table
print(",".join(str(i) for i in read_table(sys.argv[1]).arch_index[:64]))' "$TABLE")
  SEEDS=4; MO_SEEDS=2; OS_SEEDS="0"; OS_EPOCHS="--epochs 1"; SPOS_CELLS="--cells $FIRST"
  PRED="--trials 1 --train-sizes 50,100 --test-size 200"; GAP_SEEDS=2; AUDIT_SEEDS=2
else
  SEEDS=100; MO_SEEDS=50; OS_SEEDS="0 1 2"; OS_EPOCHS=""; SPOS_CELLS=""; PRED=""
  GAP_SEEDS=20; AUDIT_SEEDS=20
fi
SUM=$(sha256sum "$TABLE" | cut -d' ' -f1)
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] \
    && { [ ! -f "$OUT/table.source" ] || [ "$(cat "$OUT/table.source")" != "$SUM" ]; }; then
  echo "$(realpath -m "$OUT") holds the figures of another table (or of an earlier version of" \
    "this one, or of an older version of this script): use another --out, or delete it" >&2
  exit 2
fi
mkdir -p "$OUT"
echo "$SUM" > "$OUT/table.source"

LOGS=$OUT STEP_FORCE=$FORCE
# shellcheck source=benchmarks/_step.sh
source benchmarks/_step.sh
stage() { step "$@"; }  # stage NAME COMMAND...: run COMMAND once, logging it with its times

stage 00_info "${NBS[@]}" info --table "$TABLE"
stage 01_compare "${NBS[@]}" compare --table "$TABLE" --seeds "$SEEDS" --out "$OUT/compare"
# the same searches reading the seeds' mean: how much of the regret is the seeds' noise
stage 01_compare_mean "${NBS[@]}" compare --table "$TABLE" --seeds "$SEEDS" \
  --search-repeat mean --out "$OUT/compare_mean"
for w in 1 8; do
  stage "02_multifidelity_w$w" "${NBS[@]}" compare --table "$TABLE" \
    --strategies random,successive_halving,hyperband,asha --seeds "$SEEDS" --workers "$w" \
    --out "$OUT/multifidelity_w$w"
done
stage 03_tpe "${NBS[@]}" compare --table "$TABLE" \
  --strategies random,hyperband,asha,optuna_tpe,optuna_tpe_hyperband --seeds "$SEEDS" \
  --out "$OUT/tpe"
stage 04_multiobjective "${NBS[@]}" compare --table "$TABLE" --objectives valid_acc,latency_s \
  --seeds "$MO_SEEDS" --out "$OUT/multiobjective"
# shellcheck disable=SC2086
stage 05_predictors "${NBS[@]}" predictors --table "$TABLE" $PRED --out "$OUT/predictors"
stage 06_audit "${NBS[@]}" audit --table "$TABLE" --seeds "$AUDIT_SEEDS" --out "$OUT/audit"

# one-shot methods: on a copy, which holds their super-networks afterwards
if [ ! -f "$OUT/table.h5" ]; then
  cp "$TABLE" "$OUT/table.h5.tmp" && mv "$OUT/table.h5.tmp" "$OUT/table.h5"
fi
for s in $OS_SEEDS; do
  # scored on the first 1,000 of the 4,000 validation samples: the whole split took ~1 h a seed
  # (0.635 CPU-s a cell: benchmarks/oneshot_scoring.py --threads 1), 1,000 about 20 min
  # shellcheck disable=SC2086
  stage "07_spos_seed$s" "${NBS[@]}" oneshot --table "$OUT/table.h5" --method spos --seed "$s" \
    --threads 2 --no-progress --eval-subset 1000 $OS_EPOCHS $SPOS_CELLS
  for m in darts gdas; do
    # shellcheck disable=SC2086
    stage "08_${m}_seed$s" "${NBS[@]}" oneshot --table "$OUT/table.h5" --method "$m" \
      --seed "$s" --arch-lr 0.003 --threads 2 --no-progress $OS_EPOCHS
  done
done
stage 09_gap "${NBS[@]}" gap --table "$OUT/table.h5" --out "$OUT/gap"
stage 10_oneshot_vs_blackbox "${NBS[@]}" compare --table "$OUT/table.h5" \
  --strategies random,evolution,local_search,spos,darts,gdas --seeds "$GAP_SEEDS" \
  --out "$OUT/oneshot_vs_blackbox"
# SPOS as Guo et al. published it: scores only the 1,000 candidates of an evolutionary search
# on the super-network, so it pays for 1,000 one-shot evaluations instead of every cell
# (it needs every class scored: not in the smoke run, whose SPOS scores 64 cells)
if [ "$QUICK" = 1 ]; then
  echo "skip 11_spos_candidates (--quick: SPOS scored 64 cells, not every class)"
else
  stage 11_spos_candidates "${NBS[@]}" compare --table "$OUT/table.h5" \
    --strategies random,evolution,spos --spos-candidates 1000 --seeds "$GAP_SEEDS" \
    --out "$OUT/spos_candidates"
fi
echo "all stages done: $OUT"
# OUT/report.md: every figure above, for the docs (this checkout's analysis package, as the
# stages run this checkout's nasbench_sim, whatever is installed)
PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} python benchmarks/figures_report.py "$OUT"
