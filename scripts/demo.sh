#!/usr/bin/env bash
# `make demo`: bring the local infrastructure up (installing on first use) and run `kestrel demo`.
# The infrastructure stays up afterwards so you can look around; `make infra-down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${UV:-uv} run --frozen"
INFRA="$RUN python infra/local/kestrel_infra.py"
$INFRA up
eval "$($INFRA env)"
$RUN kestrel demo
echo
echo "Local infrastructure is still running (make infra-status); stop it with: make infra-down"
