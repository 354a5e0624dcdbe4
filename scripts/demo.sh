#!/usr/bin/env bash
# `make demo`: bring the local infrastructure up (installing on first use), run `kestrel demo` (the
# live loop on replayed sample data in paper mode). Ctrl-C stops the services the demo started and
# the infrastructure this script started; servers that were already running stay up.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${UV:-uv} run --frozen"
INFRA="$RUN python infra/local/kestrel_infra.py"
mkdir -p .run
started_file=$(mktemp .run/started-by-demo.XXXXXX)

teardown() {
  local started
  started=$(cat "$started_file" 2>/dev/null || true)
  if [ -n "$started" ]; then
    echo "== stopping the infrastructure the demo started: $started"
    $INFRA down --only "$started" || true
  fi
  rm -f "$started_file"
}
trap teardown EXIT

$INFRA up --record-started "$started_file"
eval "$($INFRA env)"
$RUN kestrel demo "$@"
