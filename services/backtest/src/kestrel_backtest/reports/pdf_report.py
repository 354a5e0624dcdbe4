"""The PDF report (ReportLab): the same summary, charts and trade list as the HTML page, on A4."""

from __future__ import annotations

import io
from collections.abc import Sequence
from html import escape
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.charts import drawdown_chart, equity_chart, monthly_heatmap
from kestrel_backtest.reports.context import ReportContext
from kestrel_backtest.reports.tables import metric_rows, trade_records

TRADE_ROWS = 300  # pages of trades nobody prints; the data reports hold them all
_WIDTH = A4[0] - 3 * cm
_TRADE_COLUMNS = ("symbol", "side", "entry", "exit", "size", "entry px", "exit px", "pnl")
_GRID = TableStyle(
    [
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> Table:
    data = [list(header)] if header else []
    data += [
        ["" if v is None else (f"{v:,.6g}" if isinstance(v, float) else str(v)) for v in r] for r in rows
    ]
    table = Table(data or [[""]], hAlign="LEFT", repeatRows=1 if header else 0)
    table.setStyle(_GRID)
    if header:
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold")]))
    return table


def _chart(png: bytes) -> Image:
    """The picture at the text width, keeping its aspect, no taller than most of a page."""
    width, height = ImageReader(io.BytesIO(png)).getSize()
    scale = min(_WIDTH / width, 22 * cm / height)
    return Image(io.BytesIO(png), width=width * scale, height=height * scale)


def pdf_report(report: BacktestReport, context: ReportContext) -> bytes:
    styles = getSampleStyleSheet()
    count = len(report.trades)
    listed = f"; the first {TRADE_ROWS} listed" if count > TRADE_ROWS else ""
    trades = [
        (t[0], t[1], t[3][:16], (t[4] or "open")[:16], t[5], t[6], t[7], t[9])
        for t in trade_records(report, limit=TRADE_ROWS)
    ]
    story: list[Flowable] = [
        Paragraph(escape(context.title), styles["Title"]),
        Paragraph(escape(context.strategy.definition.summary), styles["Italic"]),
        Spacer(1, 0.4 * cm),
        Paragraph("Results", styles["Heading2"]),
        _table(metric_rows(report)),
        Paragraph("Setup and parameters", styles["Heading2"]),
        _table(context.settings_rows() + context.parameter_rows()),
        Paragraph("Equity against buy-and-hold", styles["Heading2"]),
        _chart(equity_chart(report, context.quote_asset)),
        _chart(drawdown_chart(report)),
        Paragraph("Monthly returns", styles["Heading2"]),
        _chart(monthly_heatmap(report)),
        Paragraph(f"Trades ({count}{listed})", styles["Heading2"]),
        _table(trades, _TRADE_COLUMNS),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=context.title,
        author="Kestrel",
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
    )
    doc.build(story)
    return buffer.getvalue()
