"""Pine Script v5 export: every catalogue strategy, compared exactly with its golden script.

Regenerate the golden files after an intended change to a Pine body or to the wrapper with

    KESTREL_UPDATE_GOLDEN=1 .venv/bin/pytest -q libs/strategies/tests/test_pine_golden.py -p no:cacheprovider

and review the diff of ``tests/golden/*.pine`` like code.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from kestrel_strategies import (
    ParamSpace,
    PineExportError,
    PineUnsupported,
    StrategyDef,
    build,
    pine_script,
    strategies,
)
from kestrel_strategies.catalogue import buy_and_hold
from kestrel_strategies.params import int_param

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KESTREL_UPDATE_GOLDEN") == "1"
NAMES = list(strategies())


@pytest.mark.parametrize("name", NAMES)
def test_script_matches_its_golden_file(name: str) -> None:
    script = pine_script(build(name))
    path = GOLDEN / f"{name}.pine"
    if UPDATE:
        path.write_text(script, encoding="utf-8")
    assert path.exists(), f"no golden script for {name}: run with KESTREL_UPDATE_GOLDEN=1"
    assert script == path.read_text(encoding="utf-8")


def test_every_golden_file_belongs_to_a_strategy() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.pine")) == sorted(NAMES)


def test_every_catalogue_strategy_declares_pine_or_a_reason() -> None:
    # A new catalogue module without pine=... fails here, by name, before anyone exports it.
    missing = [name for name, d in strategies().items() if d.pine is None]
    assert missing == []
    for definition in strategies().values():
        if isinstance(definition.pine, PineUnsupported):
            assert definition.pine.reason.strip()


@pytest.mark.parametrize("name", NAMES)
def test_script_is_a_v5_strategy_with_an_input_per_parameter(name: str) -> None:
    strategy = build(name)
    script = pine_script(strategy)
    lines = script.splitlines()
    assert "//@version=5" in lines
    declaration = [line for line in lines if line.startswith("strategy(")]
    assert len(declaration) == 1 and f'"Kestrel {name}"' in declaration[0]
    assert lines.index("//@version=5") < lines.index(declaration[0])
    for param in strategy.definition.space.params:
        pattern = rf"^{param.name} = input\.(int|float|string)\("
        assert any(re.match(pattern, line) for line in lines), f"{name}: no input for {param.name}"
    # Every event the order logic acts on is assigned by the body, and only known Pine namespaces
    # are called (a Python-ism such as np.mean or len( would not compile).
    assert re.search(r"^event = ", script, re.MULTILINE)
    namespaces = {call.split(".")[0] for call in re.findall(r"(?<![\w.])([a-z_]+(?:\.[a-z_]+)+)\(", script)}
    assert namespaces <= {"ta", "math", "input", "strategy", "request", "runtime"}


def test_non_default_parameters_become_the_input_defaults() -> None:
    script = pine_script(build("sma_cross", {"fast": 7, "slow": 63}))
    assert 'fast = input.int(7, "fast"' in script
    assert 'slow = input.int(63, "slow"' in script
    floats = pine_script(build("zscore_reversion", {"entry": 2.75, "exit": 0.25}))
    assert 'entry = input.float(2.75, "entry"' in floats and 'exit = input.float(0.25, "exit"' in floats


def test_strategy_properties_are_filled_in() -> None:
    script = pine_script(
        build("macd"),
        initial_capital=Decimal("25000.50"),
        commission_percent=Decimal("0.075"),
        slippage_ticks=3,
        percent_of_equity=Decimal(40),
        long_only=False,
    )
    declaration = next(line for line in script.splitlines() if line.startswith("strategy("))
    for part in (
        "initial_capital=25000.5",
        "default_qty_type=strategy.percent_of_equity",
        "default_qty_value=40",
        "commission_type=strategy.commission.percent",
        "commission_value=0.075",
        "slippage=3",
    ):
        assert part in declaration
    assert 'long_only = input.bool(false, "long only"' in script
    assert "strategy.risk.allow_entry_in(long_only ? strategy.direction.long" in script


def test_reference_strategies_request_the_reference_symbol() -> None:
    for name in ("dual_momentum", "pairs_spread"):
        script = pine_script(build(name), reference_symbol="NASDAQ:NDX")
        assert 'ref_symbol = input.symbol("NASDAQ:NDX"' in script
        assert "request.security(ref_symbol, timeframe.period, close" in script
        assert "lookahead=barmerge.lookahead_off" in script
    assert "request.security" not in pine_script(build("sma_cross"))


def test_weighted_strategy_sizes_its_entries_by_the_weight() -> None:
    script = pine_script(build("vol_target"), percent_of_equity=Decimal(25))
    assert "EQUITY_PERCENT = 25" in script
    assert 'strategy.entry("Long", strategy.long, qty=position_qty)' in script
    assert "and not na(weight)" in script
    assert "qty=" not in pine_script(build("sma_cross"))


def test_warm_up_is_the_strategy_replay_window() -> None:
    for name, params in (("ema_cross", {}), ("sma_cross", {"fast": 5, "slow": 30})):
        strategy = build(name, params)
        assert f'warmup = input.int({strategy.warmup}, "warm-up bars"' in pine_script(strategy)


def test_ml_threshold_reads_the_probability_from_a_chosen_series() -> None:
    # The model cannot run in Pine: the script takes P(up) from a series the user picks and stops
    # with an error while that series is not a probability (the default, close, is not one).
    script = pine_script(build("ml_threshold", {"upper": 0.6}))
    assert 'p_up = input.source(close, "P(up) series"' in script
    assert "runtime.error(" in script and "p_up < 0 or p_up > 1" in script
    assert 'upper = input.float(0.6, "upper"' in script
    assert 'model = input.string("kestrel-direction", "model"' in script


def _definition(pine: str | PineUnsupported | None, name: str = "no_pine") -> StrategyDef:
    return StrategyDef(
        name=name,
        family="trend",
        summary="test strategy",
        space=ParamSpace((int_param("period", 5, 2, 10, "Bars."),)),
        indicators=buy_and_hold.indicators,
        rule=buy_and_hold.rule,
        pine=pine,
    )


def test_a_strategy_without_pine_is_refused_by_name() -> None:
    with pytest.raises(PineExportError, match="no_pine declares no Pine body"):
        pine_script(_definition(None).bind())


def test_a_strategy_marked_unsupported_is_refused_with_its_reason() -> None:
    definition = _definition(PineUnsupported("needs order-book depth"), "depth")
    with pytest.raises(PineExportError, match="depth cannot be exported to Pine: needs order-book depth"):
        pine_script(definition.bind())


def test_a_parameter_that_would_shadow_a_pine_name_is_refused() -> None:
    definition = StrategyDef(
        name="shadow",
        family="trend",
        summary="s",
        space=ParamSpace((int_param("close", 5, 2, 10, "Bars."),)),
        indicators=buy_and_hold.indicators,
        rule=buy_and_hold.rule,
        pine="event = LONG\n",
    )
    with pytest.raises(PineExportError, match="'close' is not usable"):
        pine_script(definition.bind())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_capital": Decimal(0)}, "initial_capital"),
        ({"percent_of_equity": Decimal(101)}, "percent_of_equity"),
        ({"slippage_ticks": -1}, "slippage_ticks"),
    ],
)
def test_bad_properties_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PineExportError, match=message):
        pine_script(build("sma_cross"), **kwargs)  # type: ignore[arg-type]


def test_text_in_comments_and_strings_cannot_break_out() -> None:
    script = pine_script(build("tsmom"), notes=['run "x"\nstrategy.entry("evil", strategy.long)'])
    assert '// run "x" strategy.entry("evil", strategy.long)' in script.splitlines()
