#!/usr/bin/env bash
# `make bench`: figures on this machine. Needs the local infrastructure (started here if it is not up).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${UV:-uv} run --frozen"
INFRA="$RUN python infra/local/kestrel_infra.py"
$INFRA up
eval "$($INFRA env)"
echo "== Kafka clients (raw): aiokafka vs confluent-kafka, and Redis Streams"
$RUN python -m bench.bench_clients --repeat 1
echo "== Kestrel messaging layer (what services use)"
$RUN python bench/bench_messaging.py
echo "== Feature catalogue: streaming update cost and batch throughput"
$RUN python bench/bench_features.py
echo "== Ingestion: backfill write throughput"
$RUN python bench/bench_ingestion.py
echo "== Features service throughput (all features, one consumer)"
$RUN python bench/bench_features_service.py
echo "== Trading loop on the service processes: bar -> order latency, orders/s, prediction cost"
$RUN python -m bench.bench_trading_loop
echo "== Execution: paper intake orders/s, Binance adapter and service round trips on the local exchange"
$RUN python -m bench.bench_execution
echo "== Backtest engine: fast mode vs vectorbt direct and backtesting.py, exact mode, parameter grid"
$RUN python -m bench.bench_backtest
echo "== Model kinds: training time on the samples, one prediction in the service's code path"
$RUN python -m bench.bench_models
