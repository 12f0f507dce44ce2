# Sourced by the benchmarks' shell scripts: `step NAME COMMAND...` runs COMMAND once, logging
# it into $LOGS/NAME.log with its wall and CPU times, and skips it when that log finished the
# same command (and, where $STEP_KEY is set, for the same key, e.g. a table's checksum),
# unless $STEP_FORCE is 1.
step() {
  local name=$1; shift
  local log="$LOGS/$name.log"
  if [ "${STEP_FORCE:-0}" = 0 ] && [ -f "$log" ] && tail -n 1 "$log" | grep -q '^# done' \
      && [ "$(head -n 1 "$log")" = "# $*" ] \
      && { [ -z "${STEP_KEY:-}" ] || [ "$(sed -n 3p "$log")" = "# $STEP_KEY" ]; }; then
    echo "skip $name (done: $log)"; return
  fi
  echo "== $name: $*"
  { echo "# $*"; echo "# started $(date -u +%FT%TZ) on $(nproc) cores"
    [ -z "${STEP_KEY:-}" ] || echo "# $STEP_KEY"; } > "$log"
  local start=$SECONDS
  TIMEFORMAT="# wall %R s, user %U s, sys %S s"
  if ! { time "$@" ; } >> "$log" 2>&1; then
    tail -n 5 "$log"; echo "FAILED $name: see $log" >&2; exit 1
  fi
  echo "# done in $((SECONDS - start)) s" >> "$log"
  tail -n 3 "$log"
}
