"""The `kestrel` command: help, channel listing, and the demo path on the real infrastructure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kestrel_cli.demo import DemoOptions
from kestrel_cli.main import app
from kestrel_contracts.registry import CHANNELS

runner = CliRunner()


def test_help_lists_the_subcommands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output and "topics" in result.output


def test_topics_list_names_every_registered_channel() -> None:
    result = runner.invoke(app, ["topics", "list"])
    assert result.exit_code == 0
    for name in CHANNELS:
        assert name in result.output


def test_bad_topics_action_is_a_usage_error() -> None:
    result = runner.invoke(app, ["topics", "delete"])
    assert result.exit_code == 2


def test_demo_refuses_empty_samples() -> None:
    result = runner.invoke(app, ["demo", "--samples", " , "])
    assert result.exit_code == 2


def test_demo_refuses_a_reference_strategy_without_its_reference() -> None:
    result = runner.invoke(app, ["demo", "--strategy", "dual_momentum"])
    assert result.exit_code == 2 and "reads a reference symbol" in result.output
    result = runner.invoke(app, ["demo", "--strategy", "sma_cross", "--reference", "NASDAQ"])
    assert result.exit_code == 2 and "reads no reference symbol" in result.output
    result = runner.invoke(app, ["demo", "--reference", "NASDAQ"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "need --strategy" in result.output


def test_demo_tells_the_signal_service_the_strategy_and_its_reference() -> None:
    options = DemoOptions(
        strategy="dual_momentum", strategy_params={"lookback": "60"}, reference_symbol="NASDAQ"
    )
    assert options.source_environment() == {
        "KESTREL_SIGNAL_SOURCE": "strategy",
        "KESTREL_STRATEGY": "dual_momentum",
        "KESTREL_STRATEGY_PARAMS": '{"lookback": "60"}',
        "KESTREL_STRATEGY_REFERENCE_SYMBOL": "NASDAQ",
    }
    assert "KESTREL_STRATEGY_REFERENCE_SYMBOL" not in DemoOptions(strategy="sma_cross").source_environment()
    assert DemoOptions().source_environment() == {}


def test_train_refuses_unknown_model_kinds_and_a_single_fold() -> None:
    result = runner.invoke(app, ["train", "--models", "lightgbm,nope"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "unknown model kind" in result.output
    result = runner.invoke(app, ["train", "--cv-folds", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "at least 2 folds" in result.output
    result = runner.invoke(app, ["train", "--cv-folds", "0", "--tune", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "give --cv-folds" in result.output
    result = runner.invoke(app, ["train", "--serve", "lstm,lightgbm"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "--serve" in result.output
    result = runner.invoke(app, ["train", "--cv-folds", "0"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "--no-gate" in result.output
    result = runner.invoke(app, ["train", "--gate-alpha", "1.5"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "--gate-alpha" in result.output


def test_train_is_listed_with_its_options() -> None:
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for option in (
        "--symbols",
        "--reference",
        "--horizon",
        "--cost-bps",
        "--model-name",
        "--alias",
        "--embargo",
    ):
        assert option in result.output


@pytest.mark.parametrize(
    "args",
    [["--embargo", "2", "--horizon", "5"], ["--source", "bogus"], ["--symbols", " , "], ["--horizon", "0"]],
)
def test_train_refuses_bad_options_as_usage_errors(args: list[str]) -> None:
    result = runner.invoke(app, ["train", *args])
    assert result.exit_code == 2


def test_train_names_the_mlflow_url_when_it_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    result = runner.invoke(app, ["train", "--source", "sample"])
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.output


@pytest.mark.integration
def test_train_registers_and_prints_the_summary(mlflow_tracking_uri: str, unique: str) -> None:
    name = f"kestrel-direction-cli-{unique}"
    result = runner.invoke(
        app,
        ["train", "--symbols", "SP500", "--source", "sample", "--model-name", name, "--alias", "live"],
        env={"KESTREL_MLFLOW_TRACKING_URI": mlflow_tracking_uri},
    )
    assert result.exit_code == 0, result.output
    assert "sample:sp500" in result.output
    assert f"models:/{name}@live" in result.output
    assert "baseline" in result.output and "roc_auc" in result.output
    assert "out-of-sample backtest" in result.output  # the CV predictions traded with costs
