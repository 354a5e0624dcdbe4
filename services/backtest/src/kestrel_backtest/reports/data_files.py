"""The machine-readable reports: one JSON document, and a zip of CSV files (metrics, trades, equity,
parameters) that a spreadsheet or pandas opens directly."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.context import ReportContext
from kestrel_backtest.reports.tables import EQUITY_HEADER, TRADE_HEADER, equity_records, trade_records


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _setup(context: ReportContext) -> dict[str, Any]:
    return {
        "run_id": context.run_id,
        "strategy": context.strategy.name,
        "strategy_id": context.strategy.strategy_id,
        "parameters": dict(context.strategy.params),
        "symbols": list(context.symbols),
        "timeframe": context.timeframe,
        "start": context.start.isoformat(),
        "end": context.end.isoformat(),
        "mode": context.mode,
        "initial_cash": str(context.initial_cash),
        "fee_rate": str(context.fee_rate),
        "slippage_bps": str(context.slippage_bps),
        "sizing_fraction": str(context.sizing_fraction),
        "allow_short": context.allow_short,
        "quote_asset": context.quote_asset,
        "reference_symbol": context.reference_symbol,
    }


def json_report(report: BacktestReport, context: ReportContext) -> bytes:
    """Money as decimal text (exact); undefined metrics (a flat line's Sharpe) as null."""
    document = {
        "run": _setup(context),
        "money": {k: str(v) for k, v in report.money.items()},
        "metrics": {k: _finite(v) for k, v in report.metrics.items()},
        "trades": [dict(zip(TRADE_HEADER, t, strict=True)) for t in trade_records(report)],
        "equity": [dict(zip(EQUITY_HEADER, e, strict=True)) for e in equity_records(report)],
    }
    return json.dumps(document, indent=1, allow_nan=False).encode()


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_zip(report: BacktestReport, context: ReportContext) -> bytes:
    metrics = [(k, str(v)) for k, v in report.money.items()]
    metrics += [(k, "" if _finite(v) is None else repr(v)) for k, v in report.metrics.items()]
    files = {
        "metrics.csv": _csv(("metric", "value"), metrics),
        "trades.csv": _csv(TRADE_HEADER, trade_records(report)),
        "equity.csv": _csv(EQUITY_HEADER, equity_records(report)),
        "parameters.csv": _csv(("name", "value"), context.settings_rows() + context.parameter_rows()),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()
