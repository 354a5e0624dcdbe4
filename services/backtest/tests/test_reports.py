"""Reports of a real run (sma_cross on the SP500 sample, fast mode): each format opens in the tool a
user would open it with and says what the run says; monthly returns are worked by hand."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kestrel_backtest.accounting import BacktestReport
from kestrel_backtest.jobs import plan_job
from kestrel_backtest.market_data import sample_market
from kestrel_backtest.report_files import render_all, report_context
from kestrel_backtest.reports import MEDIA_TYPES, REPORT_FORMATS, ReportUnavailableError, render
from kestrel_backtest.reports.tables import metric_text, monthly_returns
from kestrel_backtest.runner import JobOutcome, run_plan
from kestrel_contracts.backtest_jobs import new_job
from kestrel_strategies import ParamSpace, PineUnsupported, StrategyDef
from kestrel_strategies.catalogue import buy_and_hold

START, END = datetime(2012, 1, 1, tzinfo=UTC), datetime(2016, 1, 1, tzinfo=UTC)
PLAN = plan_job(
    new_job(
        "sma_cross",
        ["SP500"],
        START,
        END,
        parameters={"fast": "10", "slow": "40"},
        fee_rate="0.002",
        sizing_fraction="0.5",
    )
)


@pytest.fixture(scope="module")
def outcome() -> JobOutcome:
    return run_plan(PLAN, sample_market(["SP500"], START, END), renderer=render_all)


def _report(outcome: JobOutcome, fmt: str) -> bytes:
    media, content = outcome.output.reports[fmt]
    assert media == MEDIA_TYPES[fmt]  # type: ignore[index]
    return content


def test_the_worker_renders_every_format(outcome: JobOutcome) -> None:
    assert set(outcome.output.reports) == set(REPORT_FORMATS)
    assert len(outcome.report.trades) > 5  # enough trades for the lists below to mean something


def test_json_report_carries_exact_money_metrics_trades_and_the_curve(outcome: JobOutcome) -> None:
    doc = json.loads(_report(outcome, "json"))
    assert doc["money"]["final_equity"] == str(outcome.report.money["final_equity"])
    assert Decimal(doc["money"]["final_equity"]) == outcome.report.money["final_equity"]
    assert doc["run"]["strategy_id"] == 'sma_cross:{"fast":10,"slow":40}'
    assert doc["run"]["parameters"] == {"fast": 10, "slow": 40}
    assert len(doc["trades"]) == len(outcome.report.trades)
    assert len(doc["equity"]) == len(outcome.report.equity)
    assert doc["metrics"]["trade_count"] == float(len(outcome.report.trades))
    first = doc["trades"][0]
    assert first["entry_time"].startswith("20") and first["side"] == "long"


def test_csv_zip_holds_metrics_trades_equity_and_parameters(outcome: JobOutcome) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_report(outcome, "csv")))
    assert sorted(archive.namelist()) == ["equity.csv", "metrics.csv", "parameters.csv", "trades.csv"]
    trades = list(csv.DictReader(io.StringIO(archive.read("trades.csv").decode())))
    assert len(trades) == len(outcome.report.trades)
    assert pytest.approx(sum(float(t["pnl"]) for t in trades)) == outcome.report.trades["pnl"].sum()
    metrics = dict(csv.reader(io.StringIO(archive.read("metrics.csv").decode())))
    assert metrics["net_pnl"] == str(outcome.report.money["net_pnl"])
    parameters = dict(csv.reader(io.StringIO(archive.read("parameters.csv").decode())))
    assert (parameters["fast"], parameters["slow"], parameters["fee rate per side"]) == ("10", "40", "0.002")


def test_excel_report_has_one_typed_sheet_each(outcome: JobOutcome) -> None:
    book = openpyxl.load_workbook(io.BytesIO(_report(outcome, "xlsx")), read_only=True)
    assert book.sheetnames == ["Summary", "Parameters", "Trades", "Equity"]
    trades = list(book["Trades"].iter_rows(values_only=True))
    assert trades[0][:3] == ("symbol", "side", "status")
    assert len(trades) - 1 == len(outcome.report.trades)
    assert isinstance(trades[1][9], float)  # pnl is a number a user can sum, not text
    equity = list(book["Equity"].iter_rows(values_only=True))
    assert len(equity) - 1 == len(outcome.report.equity)
    summary = dict(row[:2] for row in book["Summary"].iter_rows(values_only=True))
    assert summary["final equity"] == str(outcome.report.money["final_equity"])
    assert dict(row[:2] for row in book["Parameters"].iter_rows(min_row=2, values_only=True)) == {
        "fast": 10,
        "slow": 40,
    }


def test_html_report_is_one_self_contained_page_with_three_charts(outcome: JobOutcome) -> None:
    page = _report(outcome, "html").decode()
    assert page.startswith("<!doctype html>")
    assert "sma_cross" in page and "SP500" in page
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', page)) == 3
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count("<tr>") >= len(outcome.report.trades)  # the trade list, every trade of this run


def test_html_escapes_what_the_user_typed(outcome: JobOutcome) -> None:
    context = replace(report_context(PLAN), run_id="<script>alert(1)</script>", symbols=("<b>X</b>",))
    page = render(outcome.report, context, "html").decode()
    assert "<script>" not in page and "<b>X</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pdf_report_is_a_pdf_with_its_charts(outcome: JobOutcome) -> None:
    pdf = _report(outcome, "pdf")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    # Three charts (each RGBA PNG may add a soft-mask image of its own).
    assert len(re.findall(rb"/Subtype /Image", pdf)) >= 3
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 2


def test_pine_report_carries_the_runs_parameters_and_costs(outcome: JobOutcome) -> None:
    script = _report(outcome, "pine").decode()
    assert "//@version=5" in script
    assert 'input.int(10, "fast"' in script and 'input.int(40, "slow"' in script
    assert "initial_capital=10000" in script
    assert "commission_value=0.2" in script  # 0.002 per side, in percent
    assert "default_qty_value=50" in script  # half the equity per position
    assert f"backtest {PLAN.job_id}" in script


def test_a_strategy_without_pine_has_every_report_but_pine(outcome: JobOutcome) -> None:
    plain = StrategyDef(
        name="no_pine",
        family="benchmark",
        summary="Long always, with no Pine body.",
        space=ParamSpace(()),
        indicators=buy_and_hold.indicators,
        rule=buy_and_hold.rule,
        pine=PineUnsupported("it is a test strategy"),
    )
    context = replace(report_context(PLAN), strategy=plain.bind())
    with pytest.raises(ReportUnavailableError, match="it is a test strategy"):
        render(outcome.report, context, "pine")
    assert render(outcome.report, context, "json")


def test_an_unknown_format_is_refused_by_name(outcome: JobOutcome) -> None:
    with pytest.raises(ValueError, match="unknown report format 'docx'"):
        render(outcome.report, report_context(PLAN), "docx")  # type: ignore[arg-type]


def _equity(days: list[str], values: list[float], initial: str) -> BacktestReport:
    ts = pd.to_datetime(days, utc=True).as_unit("ns").asi8
    frame = pd.DataFrame({"ts": ts, "equity": values, "benchmark": values, "drawdown": np.zeros(len(values))})
    money = {"initial_cash": Decimal(initial)}
    return BacktestReport({}, money, frame, pd.DataFrame(), ())


def test_monthly_returns_worked_by_hand() -> None:
    # Jan ends at 110 (from 100 cash: +10%), Feb at 99 (-10%), March has no bars, April ends at 108.9.
    report = _equity(
        ["2020-01-02", "2020-01-31", "2020-02-28", "2020-04-01", "2020-04-30"],
        [101.0, 110.0, 99.0, 100.0, 108.9],
        "100",
    )
    table = monthly_returns(report)
    assert list(table.index) == [2020]
    row = table.loc[2020]
    assert row[1] == pytest.approx(0.10) and row[2] == pytest.approx(-0.10)
    assert np.isnan(row[3]) and row[4] == pytest.approx(0.10)
    assert np.isnan(row[12])


def test_metrics_read_as_a_person_reads_them() -> None:
    assert metric_text("total_return", 0.1234) == "12.34%"
    assert metric_text("trade_count", 42.0) == "42"
    assert metric_text("sharpe_ratio", 1.23456) == "1.2346"
    assert metric_text("sharpe_ratio", float("nan")) == "—"
