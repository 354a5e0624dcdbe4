#!/usr/bin/env bash
# `make test`: bring the local infrastructure up, run every test layer, stop what this run started.
# Servers that were already running before (a developer's `make infra-up`) are left running.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${UV:-uv} run --frozen"
INFRA="$RUN python infra/local/kestrel_infra.py"
mkdir -p .run
started_file=$(mktemp .run/started-by-test.XXXXXX)

teardown() {
  local started
  started=$(cat "$started_file" 2>/dev/null || true)
  if [ -n "$started" ]; then
    echo "== stopping the infrastructure this run started: $started"
    $INFRA down --only "$started" || true
  fi
  rm -f "$started_file"
}
trap teardown EXIT

echo "== infrastructure"
$INFRA up --record-started "$started_file"
eval "$($INFRA env)"

status=0
echo "== unit tests (no servers)"
$RUN pytest -m "not integration and not e2e" || status=$?
echo "== integration tests (real Kafka, PostgreSQL, Redis, MLflow)"
$RUN pytest -m "integration and not e2e" || status=$?
echo "== end-to-end tests"
$RUN pytest -m e2e || status=$?
exit $status
