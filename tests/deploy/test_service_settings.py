"""Every service's settings: the port table's defaults, overrides, fail-fast and frozen — one test per
service, discovered from services/, so a new service is held to the same rules without a copy."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from kestrel_platform.settings import ServiceSettings, SettingsError, load_settings

PORTS = {"gateway": 8000, "ingestion": 8001, "features": 8002, "inference": 8003, "backtest": 8004,
         "risk": 8005, "execution": 8006}  # fmt: skip

Classes = Callable[[str], type[ServiceSettings]]


@pytest.fixture(autouse=True)
def _no_kestrel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The defaults are under test, so whatever the shell or CI exported must not leak in.
    for name in [var for var in os.environ if var.startswith("KESTREL_")]:
        monkeypatch.delenv(name)


def test_defaults_are_the_service_name_and_port_of_the_table(service: str, settings_class: Classes) -> None:
    settings = load_settings(settings_class(service))
    assert (settings.service_name, settings.http_port) == (service, PORTS[service])


def test_environment_overrides_the_defaults(
    service: str, settings_class: Classes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_HTTP_PORT", "9005")
    monkeypatch.setenv("KESTREL_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = load_settings(settings_class(service))
    assert (settings.http_port, settings.kafka_bootstrap) == (9005, "kafka:9092")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KESTREL_HTTP_PORT", "eighty"), ("KESTREL_HTTP_PORT", "70000"), ("KESTREL_REDIS_URL", "http://x")],
)
def test_a_bad_value_fails_fast_naming_the_variable(
    service: str, settings_class: Classes, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(settings_class(service))
    assert [var for var, _ in caught.value.problems] == [variable]


def test_settings_are_frozen(service: str, settings_class: Classes) -> None:
    settings = load_settings(settings_class(service))
    with pytest.raises(ValidationError):
        settings.http_port = 1
