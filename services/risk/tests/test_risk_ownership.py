"""Which strategies' signals an account trades (KESTREL_RISK_STRATEGIES)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kestrel_risk.ownership import StrategyFilter
from kestrel_risk.settings import RiskSettings

SMA = 'sma_cross:{"fast":10,"slow":50}'


def test_no_entries_owns_every_strategy() -> None:
    everything = StrategyFilter.parse(" , ")
    assert everything.everything and everything.owns(SMA) and everything.owns("")


def test_a_name_owns_every_parameter_set_a_full_id_only_its_own() -> None:
    only = StrategyFilter.parse(f"rsi_reversion, {SMA}, kestrel-direction")
    assert only.names == {"rsi_reversion", SMA, "kestrel-direction"}
    assert only.owns('rsi_reversion:{"period":14}') and only.owns("rsi_reversion:{}")
    assert only.owns(SMA) and not only.owns('sma_cross:{"fast":5,"slow":50}')
    assert only.owns("kestrel-direction") and not only.owns("macd:{}") and not only.owns("")
    assert not only.owns("rsi_reversion_v2:{}"), "a name matches the whole name, not a prefix"


def test_commas_inside_a_full_id_do_not_split_it() -> None:
    assert StrategyFilter.parse(f"{SMA},macd").names == {SMA, "macd"}


def test_settings_refuse_an_unbalanced_list_and_expose_the_filter() -> None:
    with pytest.raises(ValidationError, match="unbalanced braces"):
        RiskSettings(risk_strategies='sma_cross:{"fast":10')
    assert RiskSettings(risk_strategies="macd").strategy_filter().names == {"macd"}
    assert RiskSettings().strategy_filter().everything
