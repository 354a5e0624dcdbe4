"""`kestrel strategies ...` and `kestrel backtest run` from a terminal: the catalogue, an in-process
run on the packaged samples with its reports written, and refusals with the reason."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kestrel_cli.main import app
from kestrel_strategies import strategies

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def test_the_catalogue_lists_every_strategy_with_its_parameter_space() -> None:
    result = runner.invoke(app, ["strategies", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [s["name"] for s in listed] == list(strategies())
    assert len(listed) >= 15
    sma = next(s for s in listed if s["name"] == "sma_cross")
    assert {p["name"] for p in sma["parameters"]} == {"fast", "slow"}
    shown = runner.invoke(app, ["strategies", "show", "sma_cross"])
    assert shown.exit_code == 0 and json.loads(shown.output)["name"] == "sma_cross"
    assert runner.invoke(app, ["strategies", "show", "nope"], env=WIDE).exit_code == 2


def test_a_backtest_runs_in_process_on_the_samples_and_writes_its_reports(tmp_path: Path) -> None:
    reports = [tmp_path / f"sma.{suffix}" for suffix in ("html", "pdf", "xlsx", "pine")]
    args = ["backtest", "run", "--strategy", "sma_cross", "--symbols", "SP500", "--source", "sample"]
    args += ["--param", "fast=10", "--param", "slow=50", "--start", "2005-01-01", "--end", "2019-01-01"]
    for path in reports:
        args += ["--report", str(path)]
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    assert "total_return" in result.output or "total return" in result.output
    for path in reports:
        assert path.exists() and path.stat().st_size > 0, path
    assert "//@version=5" in reports[-1].read_text()
    assert reports[1].read_bytes().startswith(b"%PDF")


def test_bad_runs_are_refused_with_the_reason() -> None:
    base = ["backtest", "run", "--symbols", "SP500", "--source", "sample"]
    result = runner.invoke(app, [*base, "--strategy", "sma_cross", "--param", "slow=900"], env=WIDE)
    assert result.exit_code == 2 and "refused" in result.output and "slow" in result.output
    result = runner.invoke(app, [*base, "--strategy", "nope"], env=WIDE)
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(app, [*base, "--strategy", "sma_cross", "--source", "web"], env=WIDE)
    assert result.exit_code == 2
