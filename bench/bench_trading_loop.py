"""The trading loop on the real service processes: bar-to-order latency, order throughput, prediction cost.

features, inference, risk and execution run as processes (`kestrel_cli.supervisor`, as `kestrel demo`
starts them) on a fresh namespace and database, with a tiny registered model whose thresholds make
about half the bars BUY and half SELL, and risk limits loose enough to approve the orders.

1. Bar published -> order accepted, p50/p99. The SP500 and NASDAQ samples go through ingestion
   (`kestrel_ingestion.runner.ingest`, one run, so the measured bars leave through a warm producer):
   the feature warm-up plus `--warm` bars per symbol as fast as possible, then, once the loop has
   settled, the measured bars at `--rate` bars/s, each timestamp's two bars together. Start: the Bar
   event's `ts_init`, stamped by ingestion just before it publishes on market.bars (its batching
   wait comes before). End: the `ts_init` of the order's NEW ExecutionReport, stamped by execution
   when it accepts the order, before committing it; the second row ends when that report's outbox
   row is stamped published instead (committed and on Kafka). Bar and order are joined on (symbol,
   ts_event), which the vector, signal, OrderRequest and reports carry unchanged; all stamps are
   this machine's wall clock. Only bars that became an accepted order count (risk rejects, e.g., a
   BUY while already long). The indented rows split each of these orders at the `ts_init` of its
   vector, signal and OrderRequest; a message is stamped when it is built, so a row holds the
   transport into a service and its work up to the stamp, plus the previous service's work after
   its own stamp (features stores the vector in PostgreSQL after stamping it: that is in inference's
   row; risk stamps its order after storing the decision: that is in risk's row).
2. Sustained orders/s: `--signals` BUY/SELL signals (alternating per symbol, 8 symbols, reference
   price 100) published on trading.signals at once. Rates are (n - 1) / (last - first) of the
   OrderRequests' `ts_init` (risk) and of the NEW reports' `ts_init` (execution), overall and over
   the first and last fifth; end to end is accepted orders / (last acceptance - start of publish).
3. Prediction cost: `kestrel_inference.scoring.score` (what the service runs per vector: check and
   order the features into a one-row frame, the model's `predict`, choose the action) on the model
   as the service loads it (`MlflowModelSource.load`: the booster's own predict once it agreed with
   the pyfunc wrapper), over the batch features of the samples' last bars, after 20 untimed calls;
   the served `predict` alone; for reference the same LightGBM booster loaded with
   `mlflow.lightgbm`; and `POST /predict` round trips
   (one at a time, keep-alive) against the running, otherwise idle, inference service.

A 2-core machine shared with other engineers' work: every figure is noisy. The read-back (Kafka
topics, Redis stream, outbox) happens after each phase, not while it runs. Raw samples: results JSON.

    uv run python -m bench.bench_trading_loop [--quick] [--rate 20] [--bars 400] [--signals 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

import asyncpg
from bench import trading_loop_model as model
from bench.trading_loop_rig import (
    DATABASE,
    MODEL_NAME,
    PROGRESS_COLUMNS,
    Deployment,
    PhasedSource,
    accepted_orders,
    percentiles,
    read_orders_stream,
    settle,
    split_warmup,
    trace_loop,
)
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kestrel_cli.demo_loop import wait_for_loop
from kestrel_cli.settings import CliSettings
from kestrel_cli.supervisor import Supervisor
from kestrel_contracts.events import new_event_id, now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_BUY, SIGNAL_ACTION_SELL, Signal
from kestrel_featurelib import default_feature_set
from kestrel_ingestion.domain import RawBar
from kestrel_ingestion.runner import ingest
from kestrel_ingestion.settings import IngestionSettings
from kestrel_ingestion.sources.merged import sample_source
from kestrel_ingestion.validation import BarValidator
from kestrel_messaging.kafka import KafkaBus

RESULTS = Path(__file__).parent / "results"
Figures = dict[str, Any]
BURST_COUNTS = """
SELECT (SELECT count(*) FROM trading.risk_decisions WHERE symbol LIKE 'BURST%'),
       (SELECT count(*) FROM trading.risk_decisions WHERE symbol LIKE 'BURST%' AND outcome = 'APPROVED'),
       (SELECT count(*) FROM trading.execution_report_outbox
         WHERE symbol LIKE 'BURST%' AND sequence = 1 AND published_at IS NOT NULL)
"""


async def latency_phase(dep: Deployment, console: Console, rate: float, bars: int, warm: int) -> Figures:
    warmup = default_feature_set("SP500").warmup - 1 + warm  # bars per symbol replayed fast
    source = sample_source(("sp500", "nasdaq"), last=warmup + bars)
    early, late = split_warmup((b for b in source.items() if isinstance(b, RawBar)), warmup)
    s, validator = dep.settings, BarValidator(calendars=source.calendars)
    # batch_size 1: each timestamp is published as soon as the next one comes (or after 0.25 s idle).
    settings = IngestionSettings(
        kafka_bootstrap=s.kafka_bootstrap, redis_url=s.redis_url, database_url=dep.database_url, batch_size=1
    )

    phased = PhasedSource(early, late, rate, lambda: settle(dep.database_url, len(early), console))
    console.print(f"warm-up: {len(early)} bars as fast as possible, then {len(late)} bars at {rate:g}/s")
    await ingest(settings, phased, validator=validator, show_progress=False)
    await wait_for_loop(dep.database_url, 600, console)

    trace = await trace_loop(
        s.kafka_bootstrap, s.redis_url, dep.database_url, {(b.symbol, b.ts_open) for b in late}
    )
    first = min(trace.bars.values())
    span = (max(trace.bars.values()) - first) / 1e9
    return {
        "rate": rate,
        "achieved_rate": (len(trace.bars) - 1) / span if span > 0 else float("nan"),
        "bars": len(trace.bars),
        "signals": {a: trace.actions.count(a) for a in sorted(set(trace.actions))},
        "orders_approved": trace.approved,
        **{k: percentiles(v) for k, v in trace.hops.items()},
        "samples": {f"{k}_ms": [round(x / 1e6, 3) for x in v] for k, v in trace.hops.items()}
        | {"bar_published_s": [round((t - first) / 1e9, 3) for t in trace.published]},
    }


async def burst_phase(dep: Deployment, console: Console, n: int, symbols: int = 8) -> Figures:
    base, names = now_ns(), [f"BURST{i}" for i in range(symbols)]
    common: dict[str, Any] = {
        "venue": "bench", "timeframe": "1m", "strategy_id": "bench-burst", "model_name": "bench",
        "model_version": "1", "probabilities": {"up": 0.6, "down": 0.4}, "confidence": 0.6,
        "reference_price": "100.00", "volatility": 0.01, "ts_init": base,
    }  # fmt: skip
    actions = (SIGNAL_ACTION_BUY, SIGNAL_ACTION_SELL)  # alternating per symbol
    signals = [
        Signal(
            event_id=new_event_id(),
            ts_event=base + i,
            symbol=names[i % symbols],
            action=actions[i // symbols % 2],
            **common,
        )
        for i in range(n)
    ]
    bus = KafkaBus(dep.settings.kafka_bootstrap, client_id=f"{dep.run}-burst")
    pool = await asyncpg.create_pool(dep.database_url, min_size=1, max_size=1)
    try:
        started = now_ns()
        await bus.publish_batch(channel("trading.signals"), signals)
        with Progress(*PROGRESS_COLUMNS, console=console) as progress:
            task = progress.add_task(f"burst of {n} signals -> orders accepted", total=n)
            last, moved = (0, 0, 0), time.monotonic()
            while True:
                decided, approved, stored = counts = tuple(await pool.fetchrow(BURST_COUNTS))
                progress.update(task, completed=stored, total=approved if decided >= n else n)
                if decided >= n and stored >= approved:
                    break
                if counts != last:
                    last, moved = counts, time.monotonic()
                elif time.monotonic() - moved > 60:
                    raise RuntimeError(
                        f"burst stalled at {counts} (decided, approved, accepted): see the logs"
                    )
                await asyncio.sleep(0.25)
    finally:
        await pool.close()
        await bus.close()
    requests = sorted(
        m.ts_init for m in await read_orders_stream(dep.settings.redis_url) if m.symbol in names
    )
    accepted = [a for a in await accepted_orders(dep.database_url) if a.report.symbol in names]
    times = [a.report.ts_init for a in accepted]

    def rate(ts: list[int]) -> float:
        return (len(ts) - 1) / ((ts[-1] - ts[0]) / 1e9) if len(ts) > 1 else float("nan")

    return {
        "signals": n,
        "symbols": symbols,
        "approved": len(requests),
        "accepted": len(accepted),
        "risk_orders_per_s": rate(requests),
        "execution_orders_per_s": rate(times),
        # Burst orders never fill (no bars for them), so risk's working orders pile up: first vs last fifth.
        "risk_fifths_per_s": (rate(requests[: len(requests) // 5]), rate(requests[-len(requests) // 5 :])),
        "execution_fifths_per_s": (rate(times[: len(times) // 5]), rate(times[-len(times) // 5 :])),
        "end_to_end_orders_per_s": len(times) / ((times[-1] - started) / 1e9) if times else float("nan"),
    }


async def run(args: argparse.Namespace, console: Console) -> Figures:
    settings = CliSettings.load()
    dep = Deployment(settings, f"bench{time.strftime('%Y%m%d%H%M%S')}", args.port_base)
    for port in (args.port_base + d for d in (2, 3, 5, 6)):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(f"port {port} is in use: pick another --port-base")
    figures: Figures = {"load_before": os.getloadavg()}
    try:
        with console.status(f"fresh database {DATABASE}, namespace {dep.run}, model {MODEL_NAME}"):
            await dep.create()
            dep.model_version = await asyncio.to_thread(model.ensure_model, settings.mlflow_tracking_uri)
            rows = await asyncio.to_thread(model.feature_rows, args.predictions // 2)
        with console.status(f"timing the predictor over {len(rows)} vectors"):
            uri = settings.mlflow_tracking_uri
            predictor, p_up = await asyncio.to_thread(model.time_predictor, uri, dep.model_version, rows)
        figures |= predictor
        dep.thresholds = model.thresholds_from(p_up)
        log_dir = Path(os.environ.get("KESTREL_RUN_DIR", ".run")) / "bench" / dep.run
        async with Supervisor(dep.specs(), dep.env(), log_dir) as services:
            with console.status(f"starting features, inference, risk, execution (logs: {log_dir})"):
                await services.start_all()
            figures["loop"] = await latency_phase(dep, console, args.rate, args.bars, args.warm)
            figures["burst"] = await burst_phase(dep, console, args.signals)
            with console.status(f"{args.requests} POST /predict round trips"):
                figures |= await model.predict_round_trips(services["inference"].url, rows, args.requests)
    finally:
        with console.status("removing the run's topics, streams and keys"):
            await dep.remove()
    return figures | {"load_after": os.getloadavg(), "thresholds": dep.thresholds, "model": dep.model_version}


def report(f: Figures, console: Console) -> None:
    loop, burst = f["loop"], f["burst"]
    table = Table(title="Trading loop: features, inference, risk, execution as processes")
    for name in ("measure", "p50", "p99", "n", "unit"):
        table.add_column(name, justify="left" if name in ("measure", "unit") else "right")
    latencies = [
        ("bar published -> order accepted", loop["total"]),
        ("bar published -> NEW report on Kafka", loop["reported"]),
        ("  features: bar -> vector", loop["features"]),
        ("  inference: vector -> signal", loop["inference"]),
        ("  risk: signal -> order request", loop["risk"]),
        ("  execution: request -> accepted", loop["execution"]),
        ("predict: scoring.score() in process", f["score"]),
        ("  of which the served model's predict", f["predict"]),
        ("  booster via mlflow.lightgbm (ref.)", f["booster"]),
        ("predict: POST /predict round trip", f["http_predict"]),
    ]
    for name, (p50, p99, n) in latencies:
        table.add_row(name, f"{p50:.2f}", f"{p99:.2f}", str(n), "ms")
    for name, key, n in (
        ("burst: orders out of risk", "risk_orders_per_s", burst["approved"]),
        ("burst: orders accepted by execution", "execution_orders_per_s", burst["accepted"]),
        ("burst: end to end (publish -> accepted)", "end_to_end_orders_per_s", burst["accepted"]),
    ):
        table.add_row(name, f"{burst[key]:.0f}", "", str(n), "orders/s")
    console.print(table)
    buy, sell = f["thresholds"]
    before, after = (" ".join(f"{x:.2f}" for x in f[k]) for k in ("load_before", "load_after"))
    for line in (
        f"latency: {loop['bars']} SP500 + NASDAQ daily bars paced at {loop['rate']:g} bars/s "
        f"({loop['achieved_rate']:.1f}/s as published); signals {loop['signals']} (BUY >= {buy:.4f}, "
        f"SELL <= {sell:.4f}); orders approved {loop['orders_approved']}, accepted {loop['total'][2]}",
        f"throughput: {burst['signals']} signals published at once, BUY/SELL alternating on "
        f"{burst['symbols']} symbols; {burst['approved']} approved by risk, {burst['accepted']} accepted; "
        "first/last fifth: risk {:.0f}/{:.0f}, execution {:.0f}/{:.0f} orders/s (the burst's orders never "
        "fill, so working orders pile up)".format(
            *burst["risk_fifths_per_s"], *burst["execution_fifths_per_s"]
        ),
        f"machine: {os.cpu_count()} cores ({platform.machine()}), load average {before} -> {after}; "
        "shared with other engineers' work, so every figure is noisy",
    ):
        console.print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Trading loop latency, order throughput, prediction cost.")
    parser.add_argument("--quick", action="store_true", help="fewer bars, signals and predictions")
    parser.add_argument("--rate", type=float, default=20.0, help="measured bars per second (both symbols)")
    parser.add_argument("--bars", type=int, help="measured bars per symbol (400; quick 100)")
    parser.add_argument(
        "--warm", type=int, help="bars per symbol through the loop before measuring (20; quick 10)"
    )
    parser.add_argument("--signals", type=int, help="burst size (3000; quick 1000)")
    parser.add_argument("--predictions", type=int, help="vectors timed in process (2000; quick 500)")
    parser.add_argument("--requests", type=int, help="POST /predict round trips (1000; quick 300)")
    parser.add_argument("--port-base", type=int, default=18790, help="services on base+2, +3, +5, +6")
    args = parser.parse_args()
    defaults = {
        "bars": (400, 100),
        "warm": (20, 10),
        "signals": (3000, 1000),
        "predictions": (2000, 500),
        "requests": (1000, 300),
    }
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    console = Console()
    figures = asyncio.run(run(args, console))
    report(figures, console)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "trading_loop.json").write_text(json.dumps(figures | {"args": vars(args)}, indent=2))


if __name__ == "__main__":
    main()
