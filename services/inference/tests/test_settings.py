"""InferenceSettings: the defaults of the port table, overrides, and failing fast on bad values."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from kestrel_inference.settings import InferenceSettings
from kestrel_platform.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _no_kestrel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The defaults are under test, so whatever the shell or CI exported must not leak in.
    for name in [var for var in os.environ if var.startswith("KESTREL_")]:
        monkeypatch.delenv(name)


def test_defaults_are_the_service_name_and_port_of_the_conventions() -> None:
    settings = load_settings(InferenceSettings)
    assert settings.service_name == "inference"
    assert settings.http_port == 8003


def test_environment_overrides_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_HTTP_PORT", "9003")
    monkeypatch.setenv("KESTREL_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = load_settings(InferenceSettings)
    assert settings.http_port == 9003
    assert settings.kafka_bootstrap == "kafka:9092"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KESTREL_HTTP_PORT", "eighty"), ("KESTREL_HTTP_PORT", "70000"), ("KESTREL_REDIS_URL", "http://x")],
)
def test_a_bad_value_fails_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(InferenceSettings)
    assert [var for var, _ in caught.value.problems] == [variable]


def test_settings_are_frozen() -> None:
    settings = load_settings(InferenceSettings)
    with pytest.raises(ValidationError):
        settings.http_port = 1
