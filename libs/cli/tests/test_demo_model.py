"""The demo's model trades only bars after its training rows, and the summary says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from kestrel_cli.demo_model import DemoModel, ensure_model, first_traded_ts, model_rows
from kestrel_cli.settings import CliSettings
from kestrel_featurelib.samples import arch_daily_bars


def test_the_first_traded_bar_is_the_first_past_the_feature_warm_up() -> None:
    got = first_traded_ts(("sp500", "nasdaq"), 1500, 498)
    expected = min(int(arch_daily_bars(n).tail(1500)["ts"].iloc[497]) for n in ("sp500", "nasdaq"))
    assert got == datetime.fromtimestamp(expected / 1e9, tz=UTC)


@pytest.mark.integration
def test_a_model_the_demo_trains_is_validated_from_the_first_traded_bar(
    mlflow_tracking_uri: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_MLFLOW_TRACKING_URI", mlflow_tracking_uri)
    settings = CliSettings.load()
    traded_from = first_traded_ts(("sp500", "nasdaq"), 1500, 498)
    model = ensure_model(
        settings, settings.database_url, Console(quiet=True), traded_from, name=f"demo-{unique}"
    )
    assert model.trained_now
    rows = dict(model_rows(settings, model, traded_from))
    assert "out-of-sample: every traded bar" in rows["traded bars"]
    assert rows["model out-of-sample (validation)"].startswith("AUC ")
    # A model validated from later than the traded bars is called in-sample, plainly.
    earlier = traded_from.replace(year=traded_from.year - 2)
    assert "IN-SAMPLE" in dict(model_rows(settings, model, earlier))["traded bars"]
    assert ensure_model(
        settings, settings.database_url, Console(quiet=True), traded_from, name=f"demo-{unique}"
    ) == DemoModel(f"demo-{unique}", model.version, trained_now=False)
