#!/usr/bin/env bash
# The hourly run (see ../crontab): catch up the stream, then score with pyspark's own
# spark-submit. Each step logs its duration; the first failing step stops the run with its
# exit code. Row counts per step are logged by the jobs themselves and kept in batch_runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.venv/bin"
export PYSPARK_PYTHON="$BIN/python"
export PYSPARK_DRIVER_PYTHON="$BIN/python"
cd "$ROOT"

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) spark_submits $*"; }

step() {
  local name=$1; shift
  local started=$SECONDS status=0
  log "step=$name status=start"
  "$@" || status=$?
  log "step=$name status=$([ $status -eq 0 ] && echo ok || echo failed) exit=$status seconds=$((SECONDS - started))"
  [ $status -eq 0 ] || exit $status
}

jars=$(ls "$ROOT"/.jars/spark/*.jar | paste -sd, -)
memory=${DISCORECS_SPARK_DRIVER_MEMORY:-2g}

log "run=start root=$ROOT"
step stream "$BIN/discorecs" stream --once
step score "$BIN/spark-submit" --master "${DISCORECS_SPARK_MASTER:-local[2]}" \
  --driver-memory "$memory" --jars "$jars" \
  "$ROOT/spark_jobs/scoring/__main__.py" --no-catch-up
log "run=ok seconds=$SECONDS"
