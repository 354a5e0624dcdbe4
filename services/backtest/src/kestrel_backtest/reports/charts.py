"""The report's pictures as PNG bytes: equity against buy-and-hold, drawdown, the monthly-returns
heatmap. matplotlib's Agg backend draws without a display, in the worker thread that runs the job."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: workers and CI have no display

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.reports.tables import equity_series, monthly_returns

CHART_POINTS = 2_000
_SIZE = (9.0, 3.6)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def equity_chart(report: BacktestReport, quote_asset: str) -> bytes:
    curve = equity_series(report, CHART_POINTS)
    fig, ax = plt.subplots(figsize=_SIZE)
    ax.plot(curve.index, curve["equity"], label="strategy", color="#1f77b4", linewidth=1.3)
    ax.plot(curve.index, curve["benchmark"], label="buy and hold", color="#7f7f7f", linewidth=1.0)
    ax.set_title("Equity against buy-and-hold")
    ax.set_ylabel(quote_asset)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return _png(fig)


def drawdown_chart(report: BacktestReport) -> bytes:
    curve = equity_series(report, CHART_POINTS)
    fig, ax = plt.subplots(figsize=(_SIZE[0], 2.6))
    drawdown = -100.0 * curve["drawdown"].abs()
    ax.fill_between(curve.index, drawdown, 0.0, color="#d62728", alpha=0.4, linewidth=0)
    ax.set_title("Drawdown")
    ax.set_ylabel("%")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _png(fig)


def monthly_heatmap(report: BacktestReport) -> bytes:
    table = monthly_returns(report)
    values = 100.0 * table.to_numpy(dtype=float)
    rows = max(len(table), 1)
    fig, ax = plt.subplots(figsize=(_SIZE[0], 0.45 * rows + 1.2))
    finite = values[np.isfinite(values)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    image = ax.imshow(
        values if values.size else np.full((1, 12), np.nan),
        cmap="RdYlGn",
        vmin=-bound,
        vmax=bound,
        aspect="auto",
    )
    ax.set_xticks(range(12), _MONTHS)
    ax.set_yticks(range(len(table)), [str(y) for y in table.index])
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.1f}", ha="center", va="center", fontsize=7)
    ax.set_title("Monthly returns (%)")
    fig.colorbar(image, ax=ax, fraction=0.03)
    return _png(fig)
