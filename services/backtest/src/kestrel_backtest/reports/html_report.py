"""The HTML report: one self-contained page (charts inlined as PNG data URIs, no scripts, no outside
requests), so it opens from a download or from the gateway with a strict CSP. Every value is escaped:
parameters and symbols are user input."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.charts import drawdown_chart, equity_chart, monthly_heatmap
from kestrel_backtest.reports.context import ReportContext
from kestrel_backtest.reports.tables import TRADE_HEADER, metric_rows, trade_records

TRADE_ROWS = 1_000  # the page lists the first trades; the CSV, Excel and JSON reports hold them all

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1.5rem; }
img { max-width: 100%; } .note { color: #666; font-size: 0.85rem; }
@media (prefers-color-scheme: dark) {
  body { background: #141414; color: #e6e6e6; } th, td { border-color: #333; } img { background: #fff; }
}
"""


def _table(header: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> str:
    parts = ["<table>"]
    if header:
        parts.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, float):
                cells.append(f'<td class="n">{value:,.6g}</td>')
            else:
                cells.append(f"<td>{escape('' if value is None else str(value))}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def html_report(report: BacktestReport, context: ReportContext) -> bytes:
    count = len(report.trades)
    shown = min(count, TRADE_ROWS)
    note = f"{count} trades" + (f"; the first {shown} are listed" if shown < count else "")
    body = [
        f"<h1>{escape(context.title)}</h1>",
        f'<p class="note">{escape(context.strategy.definition.summary)}</p>',
        '<div class="grid"><section><h2>Results</h2>',
        _table(None, metric_rows(report)),
        "</section><section><h2>Setup</h2>",
        _table(None, context.settings_rows()),
        "<h2>Parameters</h2>",
        _table(("parameter", "value"), context.parameter_rows()),
        "</section></div>",
        "<h2>Equity</h2>",
        _image(equity_chart(report, context.quote_asset), "equity against buy-and-hold"),
        _image(drawdown_chart(report), "drawdown"),
        "<h2>Monthly returns</h2>",
        _image(monthly_heatmap(report), "monthly returns heatmap"),
        f'<h2>Trades</h2><p class="note">{escape(note)}</p>',
        _table(TRADE_HEADER, trade_records(report, limit=TRADE_ROWS)),
    ]
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(context.title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    return page.encode()
