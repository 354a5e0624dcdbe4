"""Every report format of a finished run, rendered once by the worker and stored with the run, so
the gateway serves downloads without the plotting and spreadsheet libraries."""

from __future__ import annotations

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.jobs import JobPlan
from kestrel_backtest.reports import (
    MEDIA_TYPES,
    REPORT_FORMATS,
    ReportContext,
    ReportUnavailableError,
    render,
)


def report_context(plan: JobPlan) -> ReportContext:
    spec = plan.spec
    return ReportContext(
        run_id=str(plan.job_id),
        strategy=spec.strategy,
        symbols=spec.symbols,
        timeframe=spec.timeframe,
        start=plan.start,
        end=plan.end,
        mode=plan.mode,
        initial_cash=spec.initial_cash,
        fee_rate=spec.fee_rate,
        slippage_bps=spec.slippage_bps,
        sizing_fraction=spec.sizing_fraction,
        allow_short=spec.allow_short,
        quote_asset=plan.quote_asset,
        reference_symbol=plan.reference_symbol,
    )


def render_all(report: BacktestReport, plan: JobPlan) -> dict[str, tuple[str, bytes]]:
    """Format -> (media type, bytes) for every format this run has (a strategy without a Pine
    equivalent has no Pine report; the API answers 404 for it, naming the format)."""
    context = report_context(plan)
    out: dict[str, tuple[str, bytes]] = {}
    for fmt in REPORT_FORMATS:
        try:
            out[fmt] = (MEDIA_TYPES[fmt], render(report, context, fmt))
        except ReportUnavailableError:
            continue
    return out
