"""FeaturesSettings beyond the shared rules (tests/deploy/test_service_settings.py)."""

from __future__ import annotations

import os

import pytest

from kestrel_features.settings import FeaturesSettings
from kestrel_platform.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _no_kestrel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The defaults are under test, so whatever the shell or CI exported must not leak in.
    for name in [var for var in os.environ if var.startswith("KESTREL_")]:
        monkeypatch.delenv(name)


def test_feature_service_defaults() -> None:
    settings = load_settings(FeaturesSettings)
    assert (settings.bars_topic, settings.vectors_topic, settings.consumer_group) == ("", "", "features")
    assert (settings.timeframe, settings.reference_symbol) == ("1d", "SP500")
    assert (settings.vector_key_prefix, settings.state_key_prefix) == ("feat:", "featstate:")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KESTREL_TIMEFRAME", "daily"),
        ("KESTREL_TIMEFRAME", "0m"),
        ("KESTREL_DRIFT_EVERY", "0"),
        ("KESTREL_MAX_ATTEMPTS", "0"),
        ("KESTREL_CONSUMER_GROUP", " "),
        ("KESTREL_RETRY_BACKOFF_S", "-1"),
    ],
)
def test_a_bad_feature_setting_fails_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(FeaturesSettings)
    assert [var for var, _ in caught.value.problems] == [variable]


def test_state_keys_may_not_hide_under_the_vector_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_STATE_KEY_PREFIX", "feat:state:")
    with pytest.raises(SettingsError, match="KESTREL_STATE_KEY_PREFIX"):
        load_settings(FeaturesSettings)


def test_an_empty_reference_symbol_switches_cross_asset_features_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_REFERENCE_SYMBOL", "")
    assert load_settings(FeaturesSettings).reference_symbol == ""
