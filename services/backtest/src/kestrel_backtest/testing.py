"""Test helpers: sample bars as stored rows, and backtest jobs as the gateway builds them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from kestrel_backtest.domain import with_bar_identity
from kestrel_contracts.backtest_jobs import new_job
from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.backtest_job_pb2 import BacktestJob
from kestrel_featurelib.samples import ArchSample, arch_daily_bars
from kestrel_store.bars import Bar


def sample_rows(name: ArchSample, symbol: str, last: int) -> list[Bar]:
    """The latest ``last`` daily bars of a packaged sample as ``market.bars`` rows."""
    frame = with_bar_identity(arch_daily_bars(name).tail(last), symbol, "SAMPLE", "1d")
    return [
        Bar(
            symbol=symbol,
            timeframe="1d",
            ts=ns_to_datetime(int(ts)),
            open=Decimal(str(o)),
            high=Decimal(str(h)),
            low=Decimal(str(lo)),
            close=Decimal(str(c)),
            volume=Decimal(str(v)),
            event_id=uuid.UUID(str(eid)),
        )
        for ts, o, h, lo, c, v, eid in zip(
            *(frame[col].tolist() for col in ("ts", "open", "high", "low", "close", "volume", "event_id")),
            strict=True,
        )
    ]


def make_job(
    strategy: str,
    symbols: list[str],
    start: datetime,
    end: datetime,
    *,
    parameters: dict[str, str] | None = None,
    mode: str = "fast",
    reference_symbol: str = "",
) -> BacktestJob:
    """A job over the sample bars with costs (2 bp slippage, 10 bp fees) and half the equity per position."""
    return new_job(
        strategy,
        symbols,
        start,
        end,
        parameters=parameters,
        mode=mode,
        slippage_bps="2",
        sizing_fraction="0.5",
        reference_symbol=reference_symbol,
        venue="SAMPLE",
        requested_by="test",
    )
