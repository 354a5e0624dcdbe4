"""The Pine report: the run's strategy and parameters as a TradingView Pine v5 strategy, with the run's
capital, sizing, commission and direction as its properties (``kestrel_strategies.pine_script``)."""

from __future__ import annotations

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.context import ReportContext, ReportUnavailableError
from kestrel_strategies import PineExportError, pine_script
from kestrel_strategies.pine import DEFAULT_REFERENCE


def pine_report(_report: BacktestReport, context: ReportContext) -> bytes:
    notes = [f"Exported from Kestrel backtest {context.run_id} ({context.mode} mode)."]
    if context.slippage_bps:
        # Pine's slippage is in ticks; Kestrel's is basis points of the price: say so, not guess.
        notes.append(
            f"Kestrel charged {context.slippage_bps} bps slippage; set Pine's slippage ticks to match."
        )
    try:
        script = pine_script(
            context.strategy,
            initial_capital=context.initial_cash,
            commission_percent=context.fee_rate * 100,
            percent_of_equity=context.sizing_fraction * 100,
            long_only=not context.allow_short,
            notes=notes,
            reference_symbol=context.reference_symbol or DEFAULT_REFERENCE,
        )
    except PineExportError as error:
        raise ReportUnavailableError(str(error)) from error
    return script.encode()
