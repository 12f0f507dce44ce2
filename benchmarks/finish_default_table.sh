#!/usr/bin/env bash
# The default table's finishing steps ("Finishing the build" in docs/protocol_pilot.md), in
# order and unattended, once its build has assembled data/nb201_mnist1d.h5:
#
#   1. recost: the latency and training-time measurements again, on this machine at rest
#      (about 30 minutes; the build measured them on shared cores);
#   2. datasheet --beside: data/README.md, data/datasheet.json and its two plots;
#   3. checks: the size (at most 50 MB), nasbench_sim.open() with no argument opens it, every
#      class and seed is there, the datasheet's criteria, and a wheel that holds the table;
#   4. every figure the docs quote: benchmarks/default_table_figures.sh (one to two hours),
#      ending with results/default_table_figures/report.md.
#
#   bash benchmarks/finish_default_table.sh            # logs in results/finish_default_table/
#   bash benchmarks/finish_default_table.sh --quick --table T.h5   # a smoke run, minutes
#
# --quick works on a copy of the table in the log folder (results/finish_default_table_quick/)
# with a short recost (20 timed rows, 3 repeats) and the figures script's --quick; the row
# count, the wheel and unmet criteria do not fail it (a smoke run may use a partial table). Each step logs into LOGS/<step>.log and is
# skipped once done, so a rerun resumes where it stopped. Run it with nothing else on the
# machine: step 1 measures time.
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."
TABLE=data/nb201_mnist1d.h5
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --table) [ $# -ge 2 ] || { echo "--table needs a value" >&2; exit 2; }; TABLE=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (allowed: --table T.h5, --quick)" >&2; exit 2 ;;
  esac
done
LOGS=results/finish_default_table$([ "$QUICK" = 1 ] && echo _quick || true)

if [ -d "$TABLE.parts" ] || [ ! -f "$TABLE" ]; then
  echo "the build has not finished: $(python -m nasbench_sim info --table "$TABLE" 2>&1 \
    | grep -E 'chunks|error' | head -n 1 | tr -s ' ')" >&2
  echo "resume it (docs/protocol_pilot.md) and run this script when $TABLE exists" >&2
  exit 2
fi
mkdir -p "$LOGS"
RECOST=(--out)
FIGURES=()
if [ "$QUICK" = 1 ]; then  # a copy, which the recost and the datasheet may change
  [ -f "$LOGS/table.h5" ] || cp "$TABLE" "$LOGS/table.h5"
  TABLE=$LOGS/table.h5
  RECOST=(--timed-cells 20 --repeats 3 --out)
  FIGURES=(--quick --table "$TABLE" --out "$LOGS/figures")
fi
if pgrep -f "nasbench-sim build|nasbench_sim build" > /dev/null; then
  echo "warning: a build is running; the recost measures time" >&2
fi

step() {  # step NAME COMMAND...: run COMMAND once, logging it with its times
  local name=$1; shift
  local log="$LOGS/$name.log"
  if [ -f "$log" ] && tail -n 1 "$log" | grep -q '^# done'; then
    echo "skip $name (done: $log)"; return
  fi
  echo "== $name: $*"
  { echo "# $*"; echo "# started $(date -u +%FT%TZ) on $(nproc) cores"; } > "$log"
  local start=$SECONDS
  TIMEFORMAT="# wall %R s, user %U s, sys %S s"
  if ! { time "$@" ; } >> "$log" 2>&1; then
    tail -n 5 "$log"; echo "FAILED $name: see $log" >&2; exit 1
  fi
  echo "# done in $((SECONDS - start)) s" >> "$log"
  tail -n 3 "$log"
}

recosted=$(python -c 'import sys; from nasbench_sim.table import read_table
print(int("costs_remeasured" in read_table(sys.argv[1]).provenance))' "$TABLE")
if [ "$recosted" = 0 ]; then
  step 1_recost python -m nasbench_sim recost "$TABLE" "${RECOST[@]}" "$TABLE"
else
  echo "skip 1_recost ($TABLE records a re-measurement)"
fi
step 2_datasheet python -m nasbench_sim datasheet --table "$TABLE" --beside
if [ "$QUICK" = 1 ]; then  # open() with no argument: the copy
  NASBENCH_SIM_TABLE=$TABLE step 3_checks python benchmarks/finish_checks.py "$TABLE" --quick
else
  step 3_checks python benchmarks/finish_checks.py "$TABLE"
fi
step 4_figures bash benchmarks/default_table_figures.sh "${FIGURES[@]}"
echo "finished: the figures are in $([ "$QUICK" = 1 ] && echo "$LOGS/figures" \
  || echo results/default_table_figures)/report.md"
