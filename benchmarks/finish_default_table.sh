#!/usr/bin/env bash
# The default table's finishing steps ("Finishing the build" in docs/protocol_pilot.md), in
# order and unattended, once its build has assembled data/nb201_mnist1d.h5:
#
#   1. recost: the latency and training-time measurements again, on this machine at rest
#      (68 minutes on 2026-12-01 for the 6,466 rows; the build measured them on shared cores);
#   2. datasheet --beside: data/README.md, data/datasheet.json and its two plots;
#   3. checks: the size (at most 50 MB), open() and Benchmark.load() with no argument open it,
#      every class and seed is there, a wheel ships it, and the datasheet's criteria;
#   4. every figure the docs quote: benchmarks/default_table_figures.sh (1.7 hours measured),
#      ending with results/default_table_figures/report.md.
#
#   bash benchmarks/finish_default_table.sh            # logs in results/finish_default_table/
#   bash benchmarks/finish_default_table.sh --quick --table T.h5   # a smoke run, minutes
#
# The recost refuses to run while a build is running (--allow-busy overrides: its times would
# be measured on shared cores, and recorded as re-measured). An unmet criterion (Kendall tau
# between seeds, say) is reported but does not stop the figures; the script then ends with
# exit status 3. --quick works on a copy of T in results/finish_default_table_quick/, with a
# short recost (20 timed rows, 3 repeats) and the figures script's --quick; it skips the row
# count and the wheel. Each step logs into LOGS/<step>.log and is skipped once done for the
# same table, so a rerun resumes where it stopped; a changed table reruns the steps after it.
set -euo pipefail
SCRIPT=$(realpath "$0")
TABLE=""
QUICK=0
BUSY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --table) [ $# -ge 2 ] || { echo "--table needs a value" >&2; exit 2; }
      TABLE=$(realpath -m "$2"); shift 2 ;;
    --quick) QUICK=1; shift ;;
    --allow-busy) BUSY=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SCRIPT"
      exit 0 ;;
    *) echo "unknown argument $1 (allowed: --quick --table T.h5, --allow-busy)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$SCRIPT")/.."
if [ -n "$TABLE" ] && [ "$QUICK" = 0 ]; then
  echo "--table goes with --quick (a smoke run on a copy); the finish itself is of" \
    "data/nb201_mnist1d.h5" >&2
  exit 2
fi
[ -n "$TABLE" ] || TABLE=data/nb201_mnist1d.h5
if [ -d "$TABLE.parts" ] || [ ! -f "$TABLE" ]; then
  echo "the build has not finished: $(python -m nasbench_sim info --table "$TABLE" 2>&1 \
    | grep -E 'chunks|error' | head -n 1 | tr -s ' ')" >&2
  echo "resume it (docs/protocol_pilot.md) and run this script when $TABLE exists" >&2
  exit 2
fi
LOGS=results/finish_default_table$([ "$QUICK" = 1 ] && echo _quick || true)
mkdir -p "$LOGS"
sum() { sha256sum "$1" | cut -d' ' -f1; }
RECOST=(--out)
FIGURES=()
if [ "$QUICK" = 1 ]; then  # a copy, which the recost and the datasheet change; T never
  if [ ! -f "$LOGS/source.sha256" ] || [ "$(cat "$LOGS/source.sha256")" != "$(sum "$TABLE")" ]
  then  # another table than last time: start over
    rm -rf "${LOGS:?}"/* && sum "$TABLE" > "$LOGS/source.sha256"
    cp "$TABLE" "$LOGS/table.h5.tmp" && mv "$LOGS/table.h5.tmp" "$LOGS/table.h5"
  fi
  TABLE=$LOGS/table.h5
  RECOST=(--timed-cells 20 --repeats 3 --out)
  FIGURES=(--quick --table "$TABLE" --out "$LOGS/figures")
fi

# shellcheck source=benchmarks/_step.sh
source benchmarks/_step.sh  # step NAME COMMAND...; each step here is keyed to the table's sum

recosted=$(python -c 'import sys; from nasbench_sim.table import read_table
print(int("costs_remeasured" in read_table(sys.argv[1]).provenance))' "$TABLE")
if [ "$recosted" = 0 ]; then
  if [ "$BUSY" = 0 ] && [ "$QUICK" = 0 ] \
      && pgrep -f "nasbench-sim build|nasbench_sim build" > /dev/null; then
    echo "a build is running: the recost would measure times on shared cores and record" \
      "them as re-measured; stop it, or pass --allow-busy" >&2
    exit 2
  fi
  STEP_KEY="table $(sum "$TABLE")" step 1_recost python -m nasbench_sim recost "$TABLE" "${RECOST[@]}" "$TABLE"
else
  echo "skip 1_recost ($TABLE records a re-measurement)"
fi
STEP_KEY="table $(sum "$TABLE")" step 2_datasheet python -m nasbench_sim datasheet --table "$TABLE" --beside
if [ "$QUICK" = 1 ]; then  # open() with no argument: the copy
  NASBENCH_SIM_TABLE=$TABLE STEP_KEY="table $(sum "$TABLE")" step 3_checks python benchmarks/finish_checks.py "$TABLE" --quick
else  # open() with no argument: data/'s table, whatever the caller's environment says
  STEP_KEY="table $(sum "$TABLE")" step 3_checks env -u NASBENCH_SIM_TABLE python benchmarks/finish_checks.py "$TABLE"
fi
STEP_KEY="table $(sum "$TABLE")" step 4_figures bash benchmarks/default_table_figures.sh "${FIGURES[@]}"
echo "finished: the figures are in $([ "$QUICK" = 1 ] && echo "$LOGS/figures" \
  || echo results/default_table_figures)/report.md"
if grep -q "NOT MET" "$LOGS/3_checks.log"; then
  grep "NOT MET" "$LOGS/3_checks.log" >&2
  echo "criteria not met (above): report them in the closing note" >&2
  exit 3
fi
