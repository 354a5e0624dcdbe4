"""Building a ``BacktestJob`` as the gateway and the CLI submit it (validation is the backtest
service's ``plan_job``; the gateway checks the strategy and its parameters before it submits)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from kestrel_contracts.events import datetime_to_ns, derived_event_id, now_ns
from kestrel_contracts.v1.backtest_job_pb2 import BacktestJob

__all__ = ["job_event_id", "new_job"]


def job_event_id(job_id: str) -> str:
    """One job id, one event id: a resubmitted job is recognised as the same job, never run twice."""
    return derived_event_id("backtest-job", job_id)


def new_job(
    strategy: str,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    parameters: Mapping[str, str] | None = None,
    mode: str = "fast",
    timeframe: str = "1d",
    initial_cash: str = "100000",
    quote_asset: str = "USD",
    fee_rate: str = "0.001",
    slippage_bps: str = "0",
    sizing_fraction: str = "0.1",
    allow_short: bool = False,
    reference_symbol: str = "",
    venue: str = "",
    requested_by: str = "",
    job_id: str | None = None,
) -> BacktestJob:
    """A job message as the gateway and the CLI submit it (not yet validated: see ``plan_job``)."""
    job_id = job_id or str(uuid.uuid4())
    return BacktestJob(
        event_id=job_event_id(job_id),
        ts_event=now_ns(),
        ts_init=now_ns(),
        job_id=job_id,
        requested_by=requested_by,
        strategy_id=strategy,
        symbols=list(symbols),
        venue=venue,
        timeframe=timeframe,
        start_ns=datetime_to_ns(start),
        end_ns=datetime_to_ns(end),
        initial_cash=initial_cash,
        quote_asset=quote_asset,
        fee_rate=fee_rate,
        slippage_bps=slippage_bps,
        parameters=dict(parameters or {}),
        mode=mode,
        sizing_fraction=sizing_fraction,
        allow_short=allow_short,
        reference_symbol=reference_symbol,
    )
