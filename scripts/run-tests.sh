#!/usr/bin/env bash
# `make test`: bring the local infrastructure up, run every test layer, stop what this run started.
# Servers that were already running before (a developer's `make infra-up`) are left running.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${UV:-uv} run --frozen"
INFRA="$RUN python infra/local/kestrel_infra.py"
SERVERS="kafka postgres redis prometheus mlflow"

already=$($INFRA status 2>/dev/null | awk 'NR > 1 && $NF == "ready" {print $1}' || true)
started=()
for server in $SERVERS; do
  grep -qx "$server" <<<"$already" || started+=("$server")
done

teardown() {
  if [ ${#started[@]} -gt 0 ]; then
    echo "== stopping the infrastructure this run started: ${started[*]}"
    $INFRA down --only "$(IFS=,; echo "${started[*]}")" || true
  fi
}
trap teardown EXIT

echo "== infrastructure"
$INFRA up
eval "$($INFRA env)"

status=0
echo "== unit tests (no servers)"
$RUN pytest -m "not integration and not e2e" || status=$?
echo "== integration tests (real Kafka, PostgreSQL, Redis, MLflow)"
$RUN pytest -m "integration and not e2e" || status=$?
echo "== end-to-end tests"
$RUN pytest -m e2e || status=$?
exit $status
