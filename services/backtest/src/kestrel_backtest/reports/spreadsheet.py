"""The Excel report (openpyxl): one sheet each for the summary, parameters, trades and equity curve,
with typed cells (numbers stay numbers) so a user can chart and filter them in the spreadsheet."""

from __future__ import annotations

import io
import math

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.context import ReportContext
from kestrel_backtest.reports.tables import EQUITY_HEADER, TRADE_HEADER, equity_records, label, trade_records

# Excel holds 1,048,576 rows a sheet; the curve is thinned past that rather than the file refused.
_MAX_ROWS = 1_048_000
_BOLD = Font(bold=True)


def _header(sheet: WriteOnlyWorksheet, names: tuple[str, ...] | list[str]) -> None:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = _BOLD
        cells.append(cell)
    sheet.append(cells)


def xlsx_report(report: BacktestReport, context: ReportContext) -> bytes:
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    _header(summary, ["item", "value"])
    for name, text in context.settings_rows():
        summary.append([name, text])
    for name, money in report.money.items():
        summary.append([label(name), str(money)])  # decimal text: a float would round the cents
    for name, value in report.metrics.items():
        summary.append([label(name), value if math.isfinite(value) else None])

    parameters = book.create_sheet("Parameters")
    _header(parameters, ["parameter", "value"])
    for name, param in sorted(context.strategy.params.items()):
        parameters.append([name, param])

    trades = book.create_sheet("Trades")
    _header(trades, TRADE_HEADER)
    for row in trade_records(report, limit=_MAX_ROWS):
        trades.append(list(row))

    equity = book.create_sheet("Equity")
    _header(equity, EQUITY_HEADER)
    step = max(1, -(-len(report.equity) // _MAX_ROWS))
    for i, row in enumerate(equity_records(report)):
        if i % step == 0:
            equity.append(list(row))

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
