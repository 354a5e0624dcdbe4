"""Reports of a finished backtest: JSON, a CSV zip, Excel, HTML, PDF and the Pine v5 script.

    data = render(report, context, "html")   # bytes; MEDIA_TYPES["html"] is its media type

The worker renders every format once and stores them with the run (the gateway only serves bytes);
``kestrel backtest run --report out.pdf`` renders one in-process.
"""

from __future__ import annotations

from collections.abc import Callable

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.context import (
    MEDIA_TYPES,
    REPORT_FORMATS,
    ReportContext,
    ReportFormat,
    ReportUnavailableError,
)
from kestrel_backtest.reports.data_files import csv_zip, json_report
from kestrel_backtest.reports.html_report import html_report
from kestrel_backtest.reports.pdf_report import pdf_report
from kestrel_backtest.reports.pine_export import pine_report
from kestrel_backtest.reports.spreadsheet import xlsx_report

_RENDERERS: dict[ReportFormat, Callable[[BacktestReport, ReportContext], bytes]] = {
    "json": json_report,
    "csv": csv_zip,
    "xlsx": xlsx_report,
    "html": html_report,
    "pdf": pdf_report,
    "pine": pine_report,
}


def render(report: BacktestReport, context: ReportContext, fmt: ReportFormat) -> bytes:
    """The report in ``fmt``; ``ReportUnavailableError`` when this run has none in that format."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r}: use one of {list(REPORT_FORMATS)}")
    return renderer(report, context)


__all__ = [
    "MEDIA_TYPES",
    "REPORT_FORMATS",
    "ReportContext",
    "ReportFormat",
    "ReportUnavailableError",
    "render",
]
