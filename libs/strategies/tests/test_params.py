"""Parameter spaces: coercion from JSON and CLI text, bounds, constraints, every problem reported."""

from __future__ import annotations

import pytest

from kestrel_strategies import ParameterError, UnknownStrategyError, build, get, strategies


def test_defaults_fill_what_is_not_given_and_text_is_coerced() -> None:
    strategy = build("sma_cross", {"fast": "5"})
    assert strategy.params == {"fast": 5, "slow": 50}
    assert strategy.strategy_id == 'sma_cross:{"fast":5,"slow":50}'


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"fast": 60, "slow": 50}, "constraint fast < slow fails"),
        ({"fast": 1}, "fast=1 is outside [2, 200]"),
        ({"fast": 2.5}, "fast=2.5 is not an integer"),
        ({"fast": "ten"}, "fast='ten' is not a number"),
        ({"fast": "nan"}, "is not a finite number"),
        ({"fast": True}, "is a boolean"),
        ({"fastt": 3}, "unknown parameter 'fastt'"),
    ],
)
def test_bad_parameters_say_why(params: dict[str, object], problem: str) -> None:
    with pytest.raises(ParameterError, match="invalid parameters for sma_cross") as caught:
        build("sma_cross", params)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ParameterError) as caught:
        build("rsi_reversion", {"period": 0, "lower": 99, "bogus": 1})
    assert len(caught.value.problems) == 3


def test_text_parameters_refuse_what_cannot_name_a_model() -> None:
    assert build("ml_threshold", {"alias": "challenger"}).params["alias"] == "challenger"
    for bad in ("", "a b", "x" * 101, "../etc", "live\x00"):
        with pytest.raises(ParameterError, match="does not match"):
            build("ml_threshold", {"alias": bad})


def test_unknown_strategy_names_the_catalogue() -> None:
    with pytest.raises(UnknownStrategyError, match="sma_cross"):
        get("sma_crosss")


def test_the_catalogue_covers_every_family_with_at_least_fifteen_strategies() -> None:
    catalogue = strategies()
    assert len(catalogue) >= 15
    assert {d.family for d in catalogue.values()} >= {
        "trend",
        "momentum",
        "mean_reversion",
        "volatility",
        "ml",
    }
    for definition in catalogue.values():
        described = definition.describe()
        assert described["name"] == definition.name
        for param in described["parameters"]:
            assert param["description"]
            if param["type"] in ("int", "float"):
                assert param["low"] <= param["default"] <= param["high"]
