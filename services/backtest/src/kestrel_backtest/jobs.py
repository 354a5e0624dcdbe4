"""A ``BacktestJob`` message as a validated plan: strategy with typed parameters, spec, range, mode.

Everything a job can get wrong is found here, before any data is loaded, and raised as a
``BacktestInputError`` whose message the result and the API show as it is. The same function
validates a gateway submission (so a bad request is a 4xx, not a failed run) and a job a worker takes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kestrel_backtest.domain import BacktestInputError, BacktestSpec, Mode, timeframe_ns
from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.backtest_job_pb2 import BacktestJob
from kestrel_store.backtest_runs import RunSubmission
from kestrel_strategies import ParameterError, UnknownStrategyError, build

MODES: tuple[Mode, ...] = ("fast", "exact")
MAX_SYMBOLS = 50


@dataclass(frozen=True)
class JobPlan:
    job_id: uuid.UUID
    job_event_id: uuid.UUID
    spec: BacktestSpec
    mode: Mode
    start: datetime
    end: datetime
    reference_symbol: str | None
    quote_asset: str
    requested_by: str
    parameters: dict[str, str]

    @property
    def submission(self) -> RunSubmission:
        return RunSubmission(
            run_id=self.job_id,
            job_event_id=self.job_event_id,
            strategy=self.spec.strategy.name,
            parameters=self.parameters,
            symbols=self.spec.symbols,
            timeframe=self.spec.timeframe,
            start_ts=self.start,
            end_ts=self.end,
            mode=self.mode,
            spec=describe_spec(self),
            submitted_by=self.requested_by,
        )


def job_uuid(text: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BacktestInputError(f"{field} {text!r} is not a UUID") from None


def _decimal(text: str, field: str, default: str) -> Decimal:
    try:
        value = Decimal(text.strip() or default)
    except InvalidOperation:
        raise BacktestInputError(f"{field} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise BacktestInputError(f"{field} must be finite, got {text!r}")
    return value


def plan_job(job: BacktestJob) -> JobPlan:
    """The job as a plan, or BacktestInputError naming every field it gets wrong (the first found)."""
    job_id = job_uuid(job.job_id, "job_id")
    event_id = job_uuid(job.event_id, "event_id")
    mode = job.mode or "fast"
    if mode not in MODES:
        raise BacktestInputError(f"mode must be one of {list(MODES)}, got {job.mode!r}")
    if not 0 < len(job.symbols) <= MAX_SYMBOLS:
        raise BacktestInputError(f"give 1 to {MAX_SYMBOLS} symbols, got {len(job.symbols)}")
    if job.start_ns <= 0 or job.end_ns <= job.start_ns:
        raise BacktestInputError(f"need 0 < start_ns < end_ns, got start={job.start_ns} end={job.end_ns}")
    timeframe_ns(job.timeframe)
    try:
        strategy = build(job.strategy_id, dict(job.parameters))
    except (UnknownStrategyError, ParameterError) as exc:
        raise BacktestInputError(str(exc)) from None
    reference = job.reference_symbol or None
    if strategy.needs_reference and reference is None:
        raise BacktestInputError(f"strategy {strategy.name} reads a reference symbol: give reference_symbol")
    if strategy.definition.inputs:
        # The model-driven strategy needs per-bar model outputs; the ML pipeline issue computes them.
        raise BacktestInputError(
            f"strategy {strategy.name} reads model outputs {list(strategy.definition.inputs)}, which the "
            "backtest service does not compute: backtest it in-process with those inputs"
        )
    spec = BacktestSpec(
        strategy=strategy,
        symbols=tuple(job.symbols),
        timeframe=job.timeframe,
        initial_cash=_decimal(job.initial_cash, "initial_cash", "100000"),
        venue=job.venue or "BACKTEST",
        fee_rate=_decimal(job.fee_rate, "fee_rate", "0.001"),
        slippage_bps=_decimal(job.slippage_bps, "slippage_bps", "0"),
        sizing_fraction=_decimal(job.sizing_fraction, "sizing_fraction", "0.1"),
        allow_short=job.allow_short,
    )
    return JobPlan(
        job_id=job_id,
        job_event_id=event_id,
        spec=spec,
        mode=mode,
        start=ns_to_datetime(job.start_ns),
        end=ns_to_datetime(job.end_ns),
        reference_symbol=reference,
        quote_asset=job.quote_asset or "USD",
        requested_by=job.requested_by,
        parameters={k: str(v) for k, v in strategy.params.items()},
    )


def describe_spec(plan: JobPlan) -> dict[str, Any]:
    """The costs and sizing a run used, as stored with it (decimal text for money)."""
    spec = plan.spec
    return {
        "strategy_id": spec.strategy.strategy_id,
        "venue": spec.venue,
        "initial_cash": str(spec.initial_cash),
        "quote_asset": plan.quote_asset,
        "fee_rate": str(spec.fee_rate),
        "slippage_bps": str(spec.slippage_bps),
        "sizing_fraction": str(spec.sizing_fraction),
        "allow_short": spec.allow_short,
        "reference_symbol": plan.reference_symbol,
    }
