"""Drift-triggered retraining, decided from Prometheus's answer: past the threshold it trains, below
it it says the largest PSI, and a Prometheus it cannot read is an error, not a silent skip."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kestrel_cli.main import app
from kestrel_cli.retrain import Drift, DriftReadError, RetrainDecision, decide, parse_vector
from kestrel_platform.control import RUNNING, Effective, State


def _answer(values: dict[str, str]) -> bytes:
    result = [{"metric": {"feature": k}, "value": [1.7e9, v]} for k, v in values.items()]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


def test_prometheus_answers_are_read_largest_first_and_bad_ones_refused() -> None:
    readings = parse_vector(_answer({"rsi_14": "0.05", "rv_20": "0.41", "roc_10": "NaN"}))
    assert readings == [Drift("rv_20", 0.41), Drift("rsi_14", 0.05)]  # NaN (no PSI yet) left out
    error = json.dumps({"status": "error", "error": "parse error"}).encode()
    with pytest.raises(DriftReadError, match="refused the query: parse error"):
        parse_vector(error)
    with pytest.raises(DriftReadError, match="not a Prometheus vector answer"):
        parse_vector(b"<html>")


def test_the_decision_names_what_drifted_or_why_not() -> None:
    drifted = decide([Drift("rv_20", 0.41), Drift("rsi_14", 0.3), Drift("x", 0.1)], 0.25)
    assert (
        drifted.retrain and drifted.reason == "2 feature(s) drifted past PSI 0.25: rv_20 0.410, rsi_14 0.300"
    )
    calm = decide([Drift("rv_20", 0.12)], 0.25)
    assert not calm.retrain and "largest PSI is rv_20 0.120" in calm.reason
    assert not decide([], 0.25).retrain and "no PSI series" in decide([], 0.25).reason
    assert decide([Drift("rv_20", 0.12)], 0.25, force=True).retrain


def test_an_unreachable_prometheus_fails_with_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_PROMETHEUS_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["retrain"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "Prometheus unreachable at http://127.0.0.1:9" in result.output


def test_a_paused_retraining_does_not_run_even_when_forced_or_drifted() -> None:
    paused = Effective(State.PAUSED, "retraining is paused: quarter-end freeze")
    decision = decide([Drift("rsi_14", 0.9)], 0.25, force=True, control=paused)
    assert decision == RetrainDecision(False, "retraining is paused: quarter-end freeze")
    assert decide([Drift("rsi_14", 0.9)], 0.25, control=RUNNING).retrain
