"""ServiceSettings: environment parsing, validation messages, immutability, env var listing."""

from __future__ import annotations

import os

import pytest
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from kestrel_platform.settings import ServiceSettings, SettingsError, env_var_names, load_settings


class RiskLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_order_notional: str = "1000"
    max_orders_per_minute: int = 60


class RiskSettings(ServiceSettings):
    service_name: str = "risk"
    http_port: int = 8005
    limits: RiskLimits = RiskLimits()
    exchange_key: str = Field("", validation_alias=AliasChoices("BINANCE_API_KEY", "KESTREL_EXCHANGE_KEY"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KESTREL_") or name == "BINANCE_API_KEY":
            monkeypatch.delenv(name)


def test_defaults_are_the_local_infrastructure() -> None:
    settings = load_settings(RiskSettings)

    assert settings.service_name == "risk"
    assert settings.http_port == 8005
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.redis_url == "redis://127.0.0.1:16379/0"
    assert settings.database_url == "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel"
    assert settings.mlflow_tracking_uri == "http://127.0.0.1:15000"
    assert settings.otlp_endpoint is None


def test_environment_overrides_and_normalises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_HTTP_PORT", "0")
    monkeypatch.setenv("KESTREL_LOG_LEVEL", "debug")
    monkeypatch.setenv("KESTREL_OTLP_ENDPOINT", "http://jaeger:4318")
    monkeypatch.setenv("KESTREL_LIMITS__MAX_ORDERS_PER_MINUTE", "5")
    monkeypatch.setenv("BINANCE_API_KEY", "k-123")

    settings = load_settings(RiskSettings)

    assert settings.http_port == 0
    assert settings.log_level == "DEBUG"
    assert settings.otlp_endpoint == "http://jaeger:4318"
    assert settings.limits.max_orders_per_minute == 5
    assert settings.exchange_key == "k-123"


def test_empty_otlp_endpoint_means_no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_OTLP_ENDPOINT", "")
    assert load_settings(RiskSettings).otlp_endpoint is None


def test_fail_fast_message_names_every_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_HTTP_PORT", "70000")
    monkeypatch.setenv("KESTREL_LOG_LEVEL", "chatty")
    monkeypatch.setenv("KESTREL_REDIS_URL", "http://127.0.0.1:16379")
    monkeypatch.setenv("KESTREL_KAFKA_BOOTSTRAP", "127.0.0.1")
    monkeypatch.setenv("KESTREL_DATABASE_URL", "postgresql://u:p@db:notaport/x")
    monkeypatch.setenv("KESTREL_LIMITS__MAX_ORDERS_PER_MINUTE", "many")

    with pytest.raises(SettingsError) as caught:
        load_settings(RiskSettings)

    problems = dict(caught.value.problems)
    assert set(problems) == {
        "KESTREL_HTTP_PORT",
        "KESTREL_LOG_LEVEL",
        "KESTREL_REDIS_URL",
        "KESTREL_KAFKA_BOOTSTRAP",
        "KESTREL_DATABASE_URL",
        "KESTREL_LIMITS__MAX_ORDERS_PER_MINUTE",
    }
    assert "65535" in problems["KESTREL_HTTP_PORT"]
    assert "chatty" in problems["KESTREL_LOG_LEVEL"]
    assert "redis" in problems["KESTREL_REDIS_URL"]
    message = str(caught.value)
    assert message.startswith("invalid configuration for RiskSettings:")
    assert "  KESTREL_HTTP_PORT: port must be between 0 and 65535, got 70000" in message.splitlines()


def test_missing_required_variables_are_reported() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(ServiceSettings)

    assert dict(caught.value.problems) == {
        "KESTREL_SERVICE_NAME": "required but not set",
        "KESTREL_HTTP_PORT": "required but not set",
    }


def test_unparseable_nested_json_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_LIMITS", "{not json")

    with pytest.raises(SettingsError) as caught:
        load_settings(RiskSettings)

    assert [var for var, _ in caught.value.problems] == ["KESTREL_LIMITS"]


def test_settings_are_frozen() -> None:
    settings = load_settings(RiskSettings)

    with pytest.raises(ValidationError):
        settings.http_port = 1
    assert settings.http_port == 8005


def test_env_var_names_lists_base_nested_and_aliased_names() -> None:
    base = env_var_names(ServiceSettings)
    assert base == {
        "KESTREL_SERVICE_NAME",
        "KESTREL_ENVIRONMENT",
        "KESTREL_LOG_LEVEL",
        "KESTREL_HTTP_HOST",
        "KESTREL_HTTP_PORT",
        "KESTREL_OTLP_ENDPOINT",
        "KESTREL_KAFKA_BOOTSTRAP",
        "KESTREL_REDIS_URL",
        "KESTREL_DATABASE_URL",
        "KESTREL_MLFLOW_TRACKING_URI",
        "KESTREL_CHANNEL_NAMESPACE",
    }

    extra = env_var_names(RiskSettings) - base
    assert extra == {
        "KESTREL_LIMITS",
        "KESTREL_LIMITS__MAX_ORDER_NOTIONAL",
        "KESTREL_LIMITS__MAX_ORDERS_PER_MINUTE",
        "BINANCE_API_KEY",
        "KESTREL_EXCHANGE_KEY",
    }
