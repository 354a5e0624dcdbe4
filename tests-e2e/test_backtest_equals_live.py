"""Backtest ≡ live, proven: a history replayed through the live services (the signal service serving
a catalogue strategy on market.bars → risk → execution's paper broker) trades exactly as the
backtester's exact and fast modes trade the same bars — fill for fill: the same fill ids (derived
from the signal, so from the strategy and the bar), bars, sides, quantities, prices and fees.

The replay is paced one bar at a time (the next bar is published once the loop is done with the
last), as bars arrive in live trading; risk waits for the fills a bar is due to produce before it
decides that bar's signal (KESTREL_RISK_FILL_WAIT_S), as exact mode applies them first. Bars of
one time are published together (several symbols: merged by time as ingestion replays them), so a
two-symbol account's sizing sees the other symbol's fills and marks as exact mode does.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from loop_setup import ListSource, free_port, log_excerpt

from kestrel_backtest.domain import UNLIMITED, BacktestSpec
from kestrel_backtest.exact import run_exact
from kestrel_backtest.fast import run_fast
from kestrel_backtest.market_data import store_market
from kestrel_cli.supervisor import ServiceSpec, Supervisor, child_environment
from kestrel_contracts.registry import NAMESPACE_ENV
from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import RawBar
from kestrel_ingestion.pipeline import IngestionPipeline
from kestrel_ingestion.sources.merged import sample_source
from kestrel_ingestion.validation import BarValidator
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.topics import create_all
from kestrel_risk.settings import RiskSettings
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_strategies import build
from kestrel_trading.domain import Fill

STRATEGY, PARAMS = "sma_cross", {"fast": 5, "slow": 20}
CASH, FEE_BPS, SLIPPAGE_BPS = Decimal(100_000), Decimal(10), Decimal(2)
# The account's limits, the same for the live risk service and the backtest; none binds here (fast
# mode sizes like risk but has no limits of its own), so all three paths must trade alike.
RISK_LIMITS_ENV = {
    "KESTREL_RISK_ACCOUNT": "e2e-strategy",
    "KESTREL_RISK_INITIAL_CASH": str(CASH),
    "KESTREL_RISK_MAX_POSITION_NOTIONAL": "10000000",
    "KESTREL_RISK_MAX_GROSS_EXPOSURE": "10000000",
    "KESTREL_RISK_MAX_ORDER_NOTIONAL": "10000000",
    "KESTREL_RISK_MAX_ORDERS_PER_MINUTE": "100000",
    "KESTREL_RISK_DAILY_LOSS_LIMIT": "10000000",
    "KESTREL_RISK_MAX_DRAWDOWN": "0.99",
}
_PROGRESS = """
SELECT (SELECT count(*) FROM trading.signals) AS signals,
       (SELECT count(*) FROM trading.risk_decisions WHERE outcome = 'APPROVED') AS approved,
       (SELECT count(*) FROM trading.orders) AS orders,
       (SELECT count(*) FROM trading.orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')
           AND submitted_at_ns < $1) AS due
"""
_FILLS = """
SELECT f.trade_id, f.ts, f.symbol, f.side, f.quantity, f.price, f.fee
FROM trading.fills f ORDER BY f.ts, f.trade_id
"""
_DECISIONS = (
    "SELECT ts, side, outcome, quantity, reference_price, checks FROM trading.risk_decisions ORDER BY ts"
)
Row = tuple[str, int, str, str, Decimal, Decimal, Decimal]


def _specs(ns: str, risk_env: dict[str, str]) -> list[ServiceSpec]:
    return [
        ServiceSpec(
            "inference",
            free_port(),
            {
                "KESTREL_SIGNAL_SOURCE": "strategy",
                "KESTREL_STRATEGY": STRATEGY,
                "KESTREL_STRATEGY_PARAMS": '{"fast": 5, "slow": 20}',
                "KESTREL_CONSUMER_GROUP": f"{ns}-strategy",
            },
        ),
        ServiceSpec(
            "risk",
            free_port(),
            {
                **risk_env,
                "KESTREL_RISK_SIGNALS_GROUP": f"{ns}-risk-signals",
                "KESTREL_RISK_REPORTS_GROUP": f"{ns}-risk-reports",
                "KESTREL_RISK_COMMANDS_GROUP": f"{ns}-risk-commands",
            },
        ),
        ServiceSpec(
            "execution",
            free_port(),
            {
                "KESTREL_CONSUMER_GROUP": f"{ns}-execution",
                "KESTREL_BARS_CONSUMER_GROUP": f"{ns}-execution-paper",
                "KESTREL_COMMANDS_CONSUMER_GROUP": f"{ns}-execution-commands",
                "KESTREL_PAPER_SLIPPAGE_BPS": str(SLIPPAGE_BPS),
                "KESTREL_PAPER_TAKER_FEE_BPS": str(FEE_BPS),
                "KESTREL_PAPER_MAKER_FEE_BPS": str(FEE_BPS),
            },
        ),
    ]


async def _settled(pool: asyncpg.Pool, published: int, last_open_ns: int) -> bool:
    """Every published bar has its decided signal, every approved order is with execution, and no
    order submitted before the last bar opened is still working (that bar filled or cancelled it)."""
    p = await pool.fetchrow(_PROGRESS, last_open_ns)
    assert p is not None
    return bool(p["signals"] == published and p["orders"] == p["approved"] and p["due"] == 0)


async def _replay(
    pool: asyncpg.Pool, pipeline: IngestionPipeline, bars: list[RawBar], logs: Supervisor
) -> None:
    """One timestamp at a time: the bars of every symbol that open at it together, as they close
    together live (an order of one symbol fills at that symbol's next open, before the other
    symbol's bar of that time is decided, as in exact mode)."""
    published = 0
    for ts_open, group in itertools.groupby(bars, key=lambda b: b.ts_open):
        batch = list(group)
        result = await pipeline.run(ListSource("samples", batch))
        assert result.published == len(batch), f"bars at {ts_open} were not all published"
        published += len(batch)
        deadline = time.monotonic() + 60
        while not await _settled(pool, published, ts_open):
            dead = [n for n, p in logs.processes.items() if not p.running]
            assert not dead, f"{dead} died at the bars of {ts_open}\n{_logs(logs)}"
            assert time.monotonic() < deadline, f"the loop did not settle after {ts_open}\n{_logs(logs)}"
            await asyncio.sleep(0.02)


def _logs(services: Supervisor) -> str:
    return "\n".join(f"--- {n} ---\n{log_excerpt(p.log_path)}" for n, p in services.processes.items())


def _rows(fills: list[Fill]) -> list[Row]:
    """In the order of the live query (time, then fill id): fills of one bar time are simultaneous."""
    rows = [
        (f.fill_id, f.ts_ns, f.symbol, f.side.value.removeprefix("SIDE_"), f.quantity, f.price, f.fee)
        for f in fills
    ]
    return sorted(rows, key=lambda r: (r[1], r[0]))


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("samples", "bars_per_symbol", "fraction"),
    # Two symbols share one account's cash: live, the signals of one bar time reach risk in either
    # order (the symbols are on different partitions); sizing reads the other symbol's mark of the
    # bar time before, so the order does not matter and exact mode's symbol order is no privilege.
    [(("sp500",), 320, Decimal("0.5")), (("sp500", "nasdaq"), 160, Decimal("0.4"))],
    ids=["one-symbol", "two-symbols-shared-cash"],
)
async def test_live_paper_trading_fills_exactly_as_both_backtest_modes(
    tmp_path: Path,
    kafka_bootstrap: str,
    redis_url: str,
    fresh_database_url: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
    samples: tuple[str, ...],
    bars_per_symbol: int,
    fraction: Decimal,
) -> None:
    ns = f"e2ebtlive{unique}"
    monkeypatch.setenv(NAMESPACE_ENV, ns)
    risk_env = {**RISK_LIMITS_ENV, "KESTREL_RISK_SIZING_FRACTION": str(fraction)}
    source = sample_source(samples, last=bars_per_symbol)
    bars = [item for item in source.items() if isinstance(item, RawBar)]
    symbols = tuple(dict.fromkeys(b.symbol for b in bars))  # in replay order, as exact mode ranks them
    assert len(symbols) == len(samples)
    bus = KafkaBus(kafka_bootstrap, client_id=f"e2e-btlive-{unique}")
    pool = await create_pool(fresh_database_url, application_name="e2e-backtest-live", min_size=1, max_size=4)
    try:
        await apply_migrations(pool)
        await create_all(kafka_bootstrap, redis_url)
        env = child_environment(
            {
                "KESTREL_KAFKA_BOOTSTRAP": kafka_bootstrap,
                "KESTREL_REDIS_URL": redis_url,
                "KESTREL_DATABASE_URL": fresh_database_url,
                NAMESPACE_ENV: ns,
                "KESTREL_LOG_LEVEL": "INFO",
            }
        )
        async with asyncio.timeout(600), Supervisor(_specs(ns, risk_env), env, tmp_path / "logs") as services:
            await services.start_all(ready_timeout_s=180)
            pipeline = IngestionPipeline(
                bus, PostgresBarStore(pool), validator=BarValidator(calendars=source.calendars)
            )
            await _replay(pool, pipeline, bars, services)
            live = list(
                (
                    r["trade_id"],
                    int(r["ts"].timestamp() * 10**9),
                    r["symbol"],
                    r["side"],
                    r["quantity"],
                    r["price"],
                    r["fee"],
                )
                for r in await pool.fetch(_FILLS)
            )
            live.sort(key=lambda r: (r[1], r[0]))
            decisions = [dict(r) for r in await pool.fetch(_DECISIONS)]
        start = datetime.fromtimestamp(min(b.ts_open for b in bars) / 1e9, tz=UTC)
        end = datetime.fromtimestamp(max(b.ts_close for b in bars) / 1e9, tz=UTC)
        market = await store_market(pool, list(symbols), "1d", start, end)
    finally:
        await bus.close()
        await pool.close()

    for name, value in risk_env.items():  # the risk service's own reading of its configuration
        monkeypatch.setenv(name, value)
    risk = RiskSettings()
    spec = BacktestSpec(
        build(STRATEGY, PARAMS),
        symbols,
        "1d",
        CASH,
        fee_rate=FEE_BPS / 10_000,
        slippage_bps=SLIPPAGE_BPS,
        sizing_fraction=fraction,
        account=risk.risk_account,
        limits=risk.limits(),
    )
    exact = _rows(list(run_exact(spec, market).fills))
    fast = _rows(list(run_fast(replace(spec, limits=UNLIMITED), market).fills))  # fast mode has no limits
    assert len(live) >= 6, f"the strategy traded too little to prove anything: {live}"
    assert {row[2] for row in live} == set(symbols), "every symbol traded"
    assert live == exact, (
        f"live paper trading and the exact backtest filled differently; live risk: {decisions}"
    )
    assert fast == exact, "the fast backtest and the exact backtest filled differently"
