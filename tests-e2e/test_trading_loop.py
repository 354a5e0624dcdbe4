"""Issue #4, end to end: the trading loop on real Kafka, Redis, PostgreSQL and MLflow, and the real
service processes (`python -m kestrel_<name>`: features, inference, risk, execution, gateway).

The SP500 and NASDAQ samples (the latest `BARS_PER_SYMBOL` daily bars of each, merged by time) are
replayed through the ingestion pipeline from this process (it plays the ingestion service, so its
spans are exported as `ingestion`). The feature warm-up and the first `FAST_STEPS` instants after it
are replayed at once, as `kestrel demo` does: their orders reach execution after the bars that fill
them were stored, so execution must catch them up from the store. After that the replay goes one
market instant at a time, the next bar only once the loop has finished with the last one (its
signals decided, the approved orders taken by execution, the orders it fills traded), the way a live
market gives the loop a whole bar interval. Either way every fill must be what the paper fill model
gives for the order against the bars after its decision, so the fills are checked exactly.

On the way, execution is killed with SIGKILL while it holds order entries it has not acknowledged,
and started again; later the kill switch is engaged through the gateway with an admin key. Then:

- every bar past the warm-up became exactly one feature vector and exactly one signal;
- every approved order is in trading.orders and ended FILLED, or CANCELED by the kill switch when it
  was still working at that moment; each fill is the one `kestrel_trading.paper` computes (price,
  quantity, fee, time, id), no order traded twice, no expected fill is missing (also across the
  kill), positions are the sums of their fills, and the gateway's cash is initial cash - signed fill
  notional - fees;
- after the kill switch every decision is REJECTED with RISK_REASON_KILL_SWITCH and no order is made;
- one trace runs ingestion -> features -> inference -> risk -> execution (OTLP to a test collector).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from loop_harness import KillSwitchRun, Snapshot, TradingLoop
from loop_setup import (
    BARS_PER_SYMBOL,
    INITIAL_CASH,
    LAST_ENGAGE_STEP,
    PAPER,
    SAMPLES,
    WARMUP,
    WHOLE_RUN_TIMEOUT_S,
    domain_bar,
    register_model,
    replay_steps,
    service_specs,
)

from kestrel_cli.supervisor import Supervisor, child_environment
from kestrel_contracts.events import datetime_to_ns
from kestrel_contracts.registry import NAMESPACE_ENV
from kestrel_gateway.adapters.key_store import create_key
from kestrel_gateway.keys import Role
from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import RawBar, timeframe_ns
from kestrel_ingestion.pipeline import IngestionPipeline
from kestrel_ingestion.sources.merged import sample_source
from kestrel_ingestion.validation import BarValidator
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.topics import create_all
from kestrel_platform.tracing import configure_tracing, shutdown_tracing
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.otlp_collector import CollectedSpan, OtlpCollector
from kestrel_trading.catalog import load_catalog
from kestrel_trading.domain import Bar, Side
from kestrel_trading.orders import Order, OrderType, TimeInForce
from kestrel_trading.paper import simulate


@pytest.mark.e2e
@pytest.mark.timeout(900)
async def test_trading_loop_end_to_end(
    tmp_path: Path,
    kafka_bootstrap: str,
    redis_url: str,
    fresh_database_url: str,
    mlflow_tracking_uri: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ns = f"e2eloop{unique}"
    monkeypatch.setenv(NAMESPACE_ENV, ns)  # this process publishes the replay into the run's channels
    model_name = f"kestrel-e2e-loop-{unique}"
    started = time.monotonic()

    collector = OtlpCollector()
    redis = aioredis.from_url(redis_url)
    bus = KafkaBus(kafka_bootstrap, client_id=f"e2e-ingestion-{unique}")
    pool = await create_pool(fresh_database_url, application_name="e2e-trading-loop", min_size=1, max_size=4)
    try:
        await apply_migrations(pool)
        await create_all(kafka_bootstrap, redis_url)
        await asyncio.to_thread(register_model, mlflow_tracking_uri, model_name)
        warmup, steps = replay_steps()
        assert len(steps) > LAST_ENGAGE_STEP + 20, f"only {len(steps)} post-warm-up instants"
        await collector.start()
        configure_tracing("ingestion", collector.endpoint)  # the replay's spans are ingestion's
        env = child_environment(
            {
                "KESTREL_KAFKA_BOOTSTRAP": kafka_bootstrap,
                "KESTREL_REDIS_URL": redis_url,
                "KESTREL_DATABASE_URL": fresh_database_url,
                "KESTREL_MLFLOW_TRACKING_URI": mlflow_tracking_uri,
                "KESTREL_OTLP_ENDPOINT": collector.endpoint,
                NAMESPACE_ENV: ns,
                "KESTREL_LOG_LEVEL": "INFO",
            }
        )
        specs = service_specs(ns, model_name)
        gateway_url = f"http://127.0.0.1:{specs[-1].port}"
        async with (
            asyncio.timeout(WHOLE_RUN_TIMEOUT_S),
            Supervisor(specs, env, tmp_path / "logs") as services,
        ):
            await services.start_all(ready_timeout_s=240)
            issued, _ = await create_key(pool, "e2e-admin", Role.ADMIN)
            validator = BarValidator(calendars=sample_source(SAMPLES).calendars)
            pipeline = IngestionPipeline(bus, PostgresBarStore(pool), validator=validator)
            loop = TradingLoop(
                services, pool, redis, pipeline, f"{ns}-execution", issued.key, kafka_bootstrap
            )
            print(f"\nservices ready after {time.monotonic() - started:.1f}s; logs in {tmp_path / 'logs'}")

            await loop.replay(warmup, steps, gateway_url)
            await loop.settle(timeout_s=120)
            snapshot = await loop.snapshot(gateway_url)
        # The services have stopped (SIGTERM): their last spans are flushed. Now this process's.
        await asyncio.to_thread(shutdown_tracing)
        await asyncio.sleep(0.5)
    finally:
        shutdown_tracing()
        await collector.stop()
        await bus.close()
        await redis.aclose()
        await pool.close()

    steps_s = sorted(loop.step_seconds)
    print(
        f"run took {time.monotonic() - started:.1f}s; {len(steps_s)} paced instants, median "
        f"{steps_s[len(steps_s) // 2]:.2f}s, max {steps_s[-1]:.2f}s; crash: {loop.crash}; "
        f"{snapshot.demo_counts}; orders that came after their filling bar was stored: "
        f"{sum(1 for fill in snapshot.fills if fill['caught_up'])}; spans collected: {len(collector.spans)}"
    )
    report = loop.logs
    assert not snapshot.dead_letters, f"dead letters: {snapshot.dead_letters}\n{report()}"
    assert_every_bar_became_a_vector_and_a_signal(snapshot, report)
    assert_orders_fills_and_positions_agree(snapshot, warmup, steps, loop.kill_switch, report)
    assert_kill_switch_stopped_new_orders(snapshot, loop.kill_switch, report)
    print(assert_one_trace_spans_the_loop(collector.spans, ns, len(snapshot.orders)))


def assert_every_bar_became_a_vector_and_a_signal(snapshot: Snapshot, report: Callable[[], str]) -> None:
    bars_by_symbol: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in sorted(snapshot.bars, key=lambda r: r["ts"]):
        bars_by_symbol[row["symbol"]].append(row)
    assert {s: len(rows) for s, rows in bars_by_symbol.items()} == {
        "SP500": BARS_PER_SYMBOL,
        "NASDAQ": BARS_PER_SYMBOL,
    }
    past_warmup = {row["event_id"]: s for s, rows in bars_by_symbol.items() for row in rows[WARMUP - 1 :]}
    vectors = Counter(row["source_event_id"] for row in snapshot.vectors)
    assert len(past_warmup) == snapshot.expected_vectors == 2 * (BARS_PER_SYMBOL - WARMUP + 1)
    assert set(vectors) == set(past_warmup), (
        f"{len(set(past_warmup) - set(vectors))} bars past warm-up without a vector, "
        f"{len(set(vectors) - set(past_warmup))} vectors of warm-up bars\n{report()}"
    )
    assert max(vectors.values()) == 1, "a bar has two vectors"
    # A signal's time is its bar's close (ts_event); a stored bar's and vector's time is its open.
    day = timeframe_ns("1d")
    bar_close = {
        row["event_id"]: (row["symbol"], datetime_to_ns(row["ts"]) + day)
        for rows in bars_by_symbol.values()
        for row in rows
    }
    vector_keys = Counter(bar_close[row["source_event_id"]] for row in snapshot.vectors)
    signal_keys = Counter((row["symbol"], datetime_to_ns(row["ts"])) for row in snapshot.signals)
    assert max(signal_keys.values()) == 1, "a bar was scored into two signals"
    assert signal_keys == vector_keys, (
        f"signals without a vector: {sorted(set(signal_keys) - set(vector_keys))[:5]}, vectors without "
        f"a signal: {sorted(set(vector_keys) - set(signal_keys))[:5]}\n{report()}"
    )
    actions = Counter(row["action"] for row in snapshot.signals)
    assert actions["BUY"] >= 20 and actions["SELL"] >= 20, f"too few BUY/SELL signals to test: {actions}"


def assert_orders_fills_and_positions_agree(
    snapshot: Snapshot,
    warmup: Sequence[RawBar],
    steps: Sequence[Sequence[RawBar]],
    kill_switch: KillSwitchRun,
    report: Callable[[], str],
) -> None:
    approved = {r["client_order_id"]: r for r in snapshot.decisions if r["outcome"] == "APPROVED"}
    orders = {r["client_order_id"]: r for r in snapshot.orders}
    assert len(orders) == len(snapshot.orders)
    assert set(orders) == set(approved), (
        f"approved without an order: {sorted(set(approved) - set(orders))[:5]}; orders without an "
        f"approval: {sorted(set(orders) - set(approved))[:5]}\n{report()}"
    )
    sides = Counter(r["side"] for r in snapshot.orders)
    assert sides["BUY"] >= 5 and sides["SELL"] >= 5, f"too few orders to test: {sides}"
    statuses = Counter(r["status"] for r in snapshot.orders)
    assert set(statuses) <= {"FILLED", "CANCELED"}, f"orders by status: {statuses}\n{report()}"

    fills_by_order: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for fill in snapshot.fills:
        fills_by_order[fill["client_order_id"]].append(fill)
    trade_keys = Counter((f["order_id"], f["trade_id"]) for f in snapshot.fills)
    assert max(trade_keys.values(), default=1) == 1, "a fill was stored twice"

    # What the paper fill model makes of each approved order over the bars after its decision.
    bars: dict[str, list[Bar]] = defaultdict(list)
    for bar in [*warmup, *(b for step in steps for b in step)]:
        bars[bar.symbol].append(domain_bar(bar))
    catalog = load_catalog(None)
    mismatches: list[str] = []
    for coid, order in orders.items():
        got = fills_by_order.get(coid, [])
        got_fills = sorted(
            (f["trade_id"], f["side"], f["price"], f["quantity"], f["fee"], datetime_to_ns(f["ts"]))
            for f in got
        )
        filled = sum((f["quantity"] for f in got), Decimal(0))
        if filled != order["filled_quantity"] or len(got) > 1:
            mismatches.append(
                f"{coid}: {len(got)} fills of {filled} for filled_quantity {order['filled_quantity']}"
            )
            continue
        if order["reason_code"] == "EXECUTION_REASON_KILL_SWITCH":
            if order["status"] != "CANCELED" or got or coid not in kill_switch.working_before:
                mismatches.append(f"{coid}: kill-switch cancellation of an order not working at the switch")
            continue
        instrument = catalog.get(order["symbol"])
        assert instrument is not None
        model_order = Order(
            client_order_id=coid,
            symbol=order["symbol"],
            side=Side[order["side"]],
            order_type=OrderType[order["order_type"]],
            quantity=order["quantity"],
            time_in_force=TimeInForce[order["time_in_force"]],
        )
        final, fills = simulate(
            model_order, order["submitted_at_ns"], bars[order["symbol"]], instrument, PAPER
        )
        want_fills = sorted((f.fill_id, f.side.name, f.price, f.quantity, f.fee, f.ts_ns) for f in fills)
        if final.status.name != order["status"] or want_fills != got_fills:
            mismatches.append(
                f"{coid}: {order['status']} {got_fills} != paper model {final.status.name} {want_fills}"
            )
    assert not mismatches, (
        f"{len(mismatches)} orders differ:\n" + "\n".join(mismatches[:10]) + "\n" + report()
    )
    caught_up = sum(1 for fill in snapshot.fills if fill["caught_up"])
    assert caught_up, "no order came after the bar that fills it: the fast replay tested no catch-up"

    signed: dict[str, Decimal] = defaultdict(Decimal)
    cash = INITIAL_CASH
    for fill in snapshot.fills:
        sign = Side[fill["side"]].sign
        signed[fill["symbol"]] += sign * fill["quantity"]
        cash -= sign * fill["price"] * fill["quantity"] + fill["fee"]
    stored_positions = {r["symbol"]: r["quantity"] for r in snapshot.positions}
    assert stored_positions == dict(signed), f"positions {stored_positions} != sums of fills {dict(signed)}"

    book = snapshot.portfolio
    assert Decimal(book["initial_cash"]) == INITIAL_CASH
    assert Decimal(book["cash"]) == cash, f"gateway cash {book['cash']} != {cash} from the fills"
    assert book["fills"] == len(snapshot.fills)
    assert Decimal(book["fees"]) == sum((f["fee"] for f in snapshot.fills), Decimal(0))
    gateway_positions = {p["symbol"]: Decimal(p["quantity"]) for p in book["positions"]}
    assert gateway_positions == dict(signed), f"gateway positions {gateway_positions} != {dict(signed)}"


def assert_kill_switch_stopped_new_orders(
    snapshot: Snapshot, kill_switch: KillSwitchRun, report: Callable[[], str]
) -> None:
    assert kill_switch.response.get("engaged") is True, kill_switch.response
    assert kill_switch.response.get("published", {}).get("command") is True, kill_switch.response
    boundary = kill_switch.last_close_ns
    before = [r for r in snapshot.decisions if datetime_to_ns(r["ts"]) <= boundary]
    after = [r for r in snapshot.decisions if datetime_to_ns(r["ts"]) > boundary]
    assert len(after) >= 5, f"only {len(after)} BUY/SELL decisions after the kill switch: nothing was tested"
    not_stopped = [
        (r["symbol"], r["ts"], r["outcome"], r["reason"])
        for r in after
        if (r["outcome"], r["reason"]) != ("REJECTED", "RISK_REASON_KILL_SWITCH")
    ]
    assert not not_stopped, (
        f"decisions after the kill switch that it did not stop: {not_stopped[:5]}\n{report()}"
    )
    assert not any(r["reason"] == "RISK_REASON_KILL_SWITCH" for r in before), "the switch bit too early"
    late_orders = [r["client_order_id"] for r in snapshot.orders if datetime_to_ns(r["ts_event"]) > boundary]
    assert not late_orders, f"orders made after the kill switch: {late_orders}"
    assert len(snapshot.orders) == kill_switch.orders_before
    assert snapshot.stream_length == kill_switch.stream_length_before, "risk sent orders after the switch"
    canceled = {
        r["client_order_id"]
        for r in snapshot.orders
        if r["status"] == "CANCELED" and r["reason_code"] == "EXECUTION_REASON_KILL_SWITCH"
    }
    assert kill_switch.working_before, "no order was working when the switch was engaged"
    assert canceled == kill_switch.working_before, (
        f"working at the switch {sorted(kill_switch.working_before)}, canceled by it {sorted(canceled)}"
    )


def assert_one_trace_spans_the_loop(spans: Sequence[CollectedSpan], ns: str, orders: int) -> str:
    """Every order intake execution traced, followed up its parents, is one trace and one causal
    chain from the bar's ingestion through features, inference and risk."""
    by_id = {span.span_id: span for span in spans}
    hops = [
        ("ingestion", f"{ns}.market.bars publish"),
        ("features", f"{ns}.features.vectors publish"),
        ("inference", f"{ns}.trading.signals publish"),
        ("risk", f"{ns}.execution.orders publish"),
        ("execution", f"{ns}.execution.orders process"),
    ]
    intakes = [span for span in spans if (span.service, span.name) == hops[-1]]
    broken: list[list[tuple[str, str]]] = []
    for span in intakes:
        chain = [span]
        while chain[-1].parent_span_id in by_id:
            chain.append(by_id[chain[-1].parent_span_id])
        path = [(s.service, s.name) for s in reversed(chain)]
        one_trace = len({s.trace_id for s in chain}) == 1
        if not (one_trace and path[0] == hops[0] and all(hop in path for hop in hops)):
            broken.append(path)
    services = sorted({span.service for span in spans})
    assert intakes, f"execution traced no order intake; services seen {services}, {len(spans)} spans"
    assert not broken, (
        f"{len(broken)} of {len(intakes)} traced order intakes do not lead back to a bar's ingestion "
        f"through all five services, e.g. {broken[0]}"
    )
    return f"{len(intakes)} order intakes traced back to ingestion ({orders} orders)"
