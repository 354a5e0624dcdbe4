"""An engine with round numbers: 100,000 cash, 10% of equity per signal, the builtin instrument filters."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from kestrel_risk.service import build_engine
from kestrel_risk.settings import RiskSettings
from kestrel_riskengine.engine import RiskEngine

EngineFactory = Callable[..., RiskEngine]


def risk_settings(**overrides: Any) -> RiskSettings:
    values: dict[str, Any] = {
        "risk_initial_cash": Decimal(100_000),
        "risk_sizing_fraction": Decimal("0.1"),
        "risk_max_position_notional": Decimal(25_000),
        "risk_max_gross_exposure": Decimal(40_000),
        "risk_max_order_notional": Decimal(25_000),
        "risk_max_orders_per_minute": 30,
        "risk_daily_loss_limit": Decimal(5_000),
        "risk_max_drawdown": Decimal("0.2"),
    }
    values.update(overrides)
    return RiskSettings(**values)


@pytest.fixture
def make_engine() -> EngineFactory:
    def make(**overrides: Any) -> RiskEngine:
        return build_engine(risk_settings(**overrides))

    return make
