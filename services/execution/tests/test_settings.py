"""Settings from KESTREL_* variables, failing fast; what /ready checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kestrel_execution.__main__ import build_venue, readiness_checks
from kestrel_execution.binance.signing import CredentialsError
from kestrel_execution.settings import ExecutionSettings
from kestrel_platform.settings import SettingsError, load_settings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_RECLAIM_IDLE_MS", "1500")
    monkeypatch.setenv("KESTREL_PAPER_SLIPPAGE_BPS", "2.5")
    monkeypatch.setenv("KESTREL_PAPER_MAX_VOLUME_SHARE", "0.1")
    monkeypatch.setenv("KESTREL_INSTRUMENTS_FILE", "/etc/kestrel/instruments.json")
    monkeypatch.setenv("KESTREL_DEFAULT_TIMEFRAME", "1d")
    settings = load_settings(ExecutionSettings)
    assert settings.reclaim_idle_ms == 1500 and settings.http_port == 8006
    assert settings.paper_config().slippage_bps == Decimal("2.5")
    assert settings.paper_config().max_volume_share == Decimal("0.1")
    assert settings.instruments_file == "/etc/kestrel/instruments.json"
    assert settings.default_timeframe == "1d"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KESTREL_PAPER_MAX_VOLUME_SHARE", "1.5"),
        ("KESTREL_PAPER_TAKER_FEE_BPS", "-1"),
        ("KESTREL_RECLAIM_IDLE_MS", "0"),
        ("KESTREL_CONSUMER_GROUP", " "),
        ("KESTREL_BROKER", "ftx"),
        ("KESTREL_BINANCE_RECV_WINDOW_MS", "60001"),
        ("KESTREL_RESOLVE_PENDING_AFTER_S", "0"),
        ("KESTREL_ORDERS_BATCH_SIZE", "0"),
    ],
)
def test_bad_settings_fail_fast(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError):
        load_settings(ExecutionSettings)


def test_readiness_checks_name_the_infrastructure() -> None:
    assert set(readiness_checks(ExecutionSettings())) == {"kafka", "redis", "postgres"}


def test_the_binance_venue_needs_a_key_and_never_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_BROKER", "binance")
    settings = load_settings(ExecutionSettings)
    with pytest.raises(CredentialsError, match="KESTREL_BINANCE_API_KEY"):
        build_venue(settings)
    monkeypatch.setenv("KESTREL_BINANCE_API_KEY", "key-never-shown")
    monkeypatch.setenv("KESTREL_BINANCE_API_SECRET", "secret-never-shown")
    settings = load_settings(ExecutionSettings)
    venue = build_venue(settings)
    assert venue.name == "binance"
    shown = repr(settings) + repr(venue) + str(settings.model_dump())
    assert "never-shown" not in shown
