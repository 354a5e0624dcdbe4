"""Settings: the KESTREL_RISK_* names, defaults and fail-fast validation; readiness stays exported."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from kestrel_platform.settings import SettingsError, load_settings
from kestrel_risk.__main__ import readiness_checks
from kestrel_risk.settings import RiskSettings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [var for var in os.environ if var.startswith("KESTREL_")]:
        monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = load_settings(RiskSettings)
    assert (settings.risk_account, settings.risk_initial_cash, settings.risk_quote_asset) == (
        "paper",
        Decimal(100_000),
        "USD",
    )
    assert settings.risk_sizing_method == "fixed_fraction" and not settings.risk_allow_short
    assert settings.instruments_file is None
    assert settings.risk_fill_wait_s == 5.0


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_RISK_ACCOUNT", "fund-a")
    monkeypatch.setenv("KESTREL_RISK_INITIAL_CASH", "2500.50")
    monkeypatch.setenv("KESTREL_RISK_SIZING_METHOD", "vol_target")
    monkeypatch.setenv("KESTREL_RISK_MAX_DRAWDOWN", "0.1")
    monkeypatch.setenv("KESTREL_RISK_ALLOW_SHORT", "true")
    monkeypatch.setenv("KESTREL_INSTRUMENTS_FILE", "/etc/kestrel/instruments.json")
    monkeypatch.setenv("KESTREL_RISK_FILL_WAIT_S", "0")
    settings = load_settings(RiskSettings)
    assert settings.risk_account == "fund-a" and settings.risk_initial_cash == Decimal("2500.50")
    assert settings.risk_sizing_method == "vol_target" and settings.risk_allow_short
    assert settings.limits().max_drawdown == Decimal("0.1")
    assert settings.instruments_file == "/etc/kestrel/instruments.json"
    assert settings.risk_fill_wait_s == 0  # 0 turns the wait off


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KESTREL_RISK_SIZING_FRACTION", "1.5"),
        ("KESTREL_RISK_MAX_DRAWDOWN", "0"),
        ("KESTREL_RISK_INITIAL_CASH", "-1"),
        ("KESTREL_RISK_SIZING_METHOD", "kelly"),
        ("KESTREL_RISK_MAX_ORDERS_PER_MINUTE", "0"),
        ("KESTREL_RISK_ACCOUNT", " "),
        ("KESTREL_RISK_FILL_WAIT_S", "-1"),
        ("KESTREL_RISK_FILL_WAIT_S", "inf"),
    ],
)
def test_bad_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(RiskSettings)
    assert [var for var, _ in caught.value.problems] == [variable]


def test_readiness_checks_name_the_infrastructure() -> None:
    assert set(readiness_checks(RiskSettings())) == {"kafka", "redis", "postgres"}
