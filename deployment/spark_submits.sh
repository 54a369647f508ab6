#!/usr/bin/env bash
# The hourly run (see ../crontab): `discorecs hourly` catches the stream up, then scores. Every
# setting (Spark master, driver memory, keyspace ...) comes from the DISCORECS_* environment
# through the one Settings object. Each step's duration and rows are logged by the job and kept
# in batch_runs; a failing step ends the run with a non-zero exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) spark_submits $*"; }

log "run=start root=$ROOT"
status=0
"$ROOT/.venv/bin/discorecs" hourly || status=$?
log "run=$([ $status -eq 0 ] && echo ok || echo failed) exit=$status seconds=$SECONDS"
exit $status
