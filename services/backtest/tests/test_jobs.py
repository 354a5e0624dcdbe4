"""A BacktestJob becomes a plan, or a BacktestInputError that says what is wrong with it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kestrel_backtest.domain import BacktestInputError, MarketData, with_bar_identity
from kestrel_backtest.jobs import plan_job
from kestrel_backtest.runner import failure_result, run_plan, success_result
from kestrel_contracts.backtest_jobs import job_event_id, new_job
from kestrel_contracts.v1.backtest_result_pb2 import BACKTEST_STATUS_FAILED, BACKTEST_STATUS_SUCCEEDED
from kestrel_featurelib.samples import arch_daily_bars

START, END = datetime(2010, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)


def job(**fields: Any) -> Any:
    made = new_job("sma_cross", ["SP500"], START, END, parameters={"fast": "10", "slow": "40"})
    for name, value in fields.items():
        if name in ("symbols",):
            del made.symbols[:]
            made.symbols.extend(value)
        elif name == "parameters":
            made.parameters.clear()
            made.parameters.update(value)
        else:
            setattr(made, name, value)
    return made


def test_a_good_job_becomes_a_plan_with_typed_parameters_and_costs() -> None:
    plan = plan_job(job(fee_rate="0.0005", slippage_bps="3", sizing_fraction="0.25", allow_short=True))
    assert plan.spec.strategy.params == {"fast": 10, "slow": 40}
    assert plan.parameters == {"fast": "10", "slow": "40"}
    assert (plan.spec.fee_rate, plan.spec.slippage_bps) == (Decimal("0.0005"), Decimal(3))
    assert plan.spec.sizing_fraction == Decimal("0.25") and plan.spec.allow_short
    assert (plan.start, plan.end, plan.mode) == (START, END, "fast")
    assert str(plan.job_event_id) == job_event_id(str(plan.job_id))


def test_one_job_id_always_has_one_event_id() -> None:
    a = new_job("sma_cross", ["SP500"], START, END, job_id="0b8a1f0e-5a8a-4a3c-9d7e-3c3d0d9f2a11")
    b = new_job("macd", ["SP500"], START, END, job_id="0b8a1f0e-5a8a-4a3c-9d7e-3c3d0d9f2a11")
    assert a.event_id == b.event_id


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"strategy_id": "nope"}, "unknown strategy 'nope'"),
        ({"parameters": {"fast": "50", "slow": "40"}}, "fast < slow"),
        ({"parameters": {"fast": "ten"}}, "not a number"),
        ({"parameters": {"speed": "3"}}, "speed"),
        ({"mode": "turbo"}, "mode must be one of"),
        ({"symbols": []}, "give 1 to 50 symbols"),
        ({"symbols": ["SP500", "SP500"]}, "distinct"),
        ({"end_ns": 1}, "start_ns < end_ns"),
        ({"timeframe": "1 fortnight"}, "fixed length"),
        ({"initial_cash": "lots"}, "not a decimal"),
        ({"fee_rate": "NaN"}, "finite"),
        ({"sizing_fraction": "2"}, "sizing_fraction"),
        ({"job_id": "x"}, "not a UUID"),
        ({"strategy_id": "pairs_spread", "parameters": {}}, "reference_symbol"),
        ({"strategy_id": "ml_threshold", "parameters": {}}, "model outputs"),
    ],
)
def test_bad_jobs_say_what_is_wrong(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(BacktestInputError, match=reason):
        plan_job(job(**fields))


def test_a_run_gives_rows_and_a_result_that_agree() -> None:
    plan = plan_job(job(slippage_bps="2", sizing_fraction="0.5"))
    bars = with_bar_identity(arch_daily_bars("sp500").tail(2500), "SP500", "SAMPLE", "1d")
    stages: list[str] = []
    outcome = run_plan(plan, MarketData({"SP500": bars}), lambda _f, _n, stage: stages.append(stage))
    result = success_result(plan, outcome, started_ns=1)
    assert result.status == BACKTEST_STATUS_SUCCEEDED and result.mode == "fast"
    assert result.trade_count == len(outcome.output.fills) == len(outcome.path.fills) > 0
    assert Decimal(result.final_equity) == outcome.report.money["final_equity"]
    assert Decimal(result.net_pnl) == Decimal(result.final_equity) - Decimal(100_000)
    assert len(outcome.output.equity) == len(bars) and outcome.output.bars_processed == len(bars)
    assert len(outcome.output.trades) == len(outcome.report.trades)
    assert stages[0] == "running" and stages[-1] == "accounting"
    assert result.strategy_id == plan.spec.strategy.strategy_id and "fast" in result.strategy_id
    assert all(v is None or isinstance(v, float) for v in outcome.output.metrics.values())


def test_a_failure_result_carries_the_reason_under_the_same_event_id() -> None:
    plan = plan_job(job())
    failed = failure_result(str(plan.job_id), str(plan.job_event_id), BacktestInputError("no bars"), 1)
    assert failed.status == BACKTEST_STATUS_FAILED
    assert (failed.error_type, failed.error_message) == ("BacktestInputError", "no bars")
    outcome = run_plan(
        plan, MarketData({"SP500": with_bar_identity(arch_daily_bars("sp500").tail(300), "SP500", "S", "1d")})
    )
    assert success_result(plan, outcome, 1).event_id == failed.event_id
