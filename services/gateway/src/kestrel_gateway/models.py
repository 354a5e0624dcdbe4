"""Request bodies, validated by pydantic. Prices and quantities are decimal STRINGS ("0.5"), never
JSON numbers: a number may already have gone through a binary float in the client, so it is refused
with a 422 rather than silently rounded."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from kestrel_contracts.decimals import from_wire
from kestrel_platform.control import ALL, Action, Mode, RunWindow

__all__ = [
    "BacktestIn",
    "FlattenIn",
    "KillSwitchIn",
    "OrderIn",
    "OrderSide",
    "OrderType",
    "OverrideIn",
    "PositiveDecimal",
    "ProcessControlIn",
    "RunWindowIn",
    "TimeInForce",
]


def _positive_decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "0.25" (JSON numbers may have lost precision)')
    parsed = from_wire(value)  # ValueError naming the problem: exponent, NaN, junk
    if parsed <= 0:
        raise ValueError("must be greater than 0")
    return parsed


PositiveDecimal = Annotated[
    Decimal,
    BeforeValidator(_positive_decimal),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["0.25"]}),
]


def _non_negative(value: Any, bound: Decimal, what: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f'must be a decimal string such as "0.001" ({what})')
    parsed = from_wire(value)
    if not 0 <= parsed < bound:
        raise ValueError(f"must be in [0, {bound})")
    return parsed


def _fraction(value: Any) -> Decimal:
    return _non_negative(value, Decimal("0.1"), "a fraction of notional")


def _fraction_bps(value: Any) -> Decimal:
    return _non_negative(value, Decimal(1000), "basis points")


_FRACTION_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["0.001"]}
)
Symbol = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]
Label = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._:/-]*$")]


class OrderSide(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class TimeInForce(enum.StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class AlgorithmName(enum.StrEnum):
    TWAP = "TWAP"
    ICEBERG = "ICEBERG"


class AlgorithmIn(BaseModel):
    """How execution works the order: TWAP (`slices` children over `duration_s`) or ICEBERG
    (at most `display_quantity` at the venue at once)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: AlgorithmName
    duration_s: Annotated[float, Field(gt=0, le=7 * 86_400)] | None = None
    slices: Annotated[int, Field(ge=2, le=1000)] | None = None
    display_quantity: PositiveDecimal | None = None

    @model_validator(mode="after")
    def _parameters_of_the_algorithm(self) -> AlgorithmIn:
        if self.name is AlgorithmName.TWAP and (self.duration_s is None or self.slices is None):
            raise ValueError("TWAP needs duration_s and slices")
        if self.name is AlgorithmName.ICEBERG and self.display_quantity is None:
            raise ValueError("ICEBERG needs display_quantity")
        return self


class OrderIn(BaseModel):
    """A manual order. Risk checks it like any other and decides asynchronously."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: Symbol
    side: OrderSide
    quantity: PositiveDecimal
    order_type: OrderType = OrderType.MARKET
    limit_price: PositiveDecimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    # None: the gateway's default account (KESTREL_GATEWAY_DEFAULT_ACCOUNT).
    account: Label | None = None
    venue: Label = ""
    timeframe: Label = ""
    strategy_id: Label = "manual"
    # Price the client saw; risk sizes notional checks with it when there is no limit price.
    reference_price: PositiveDecimal | None = None
    # None: one venue order at once; else a parent that execution slices (slippage vs arrival).
    algorithm: AlgorithmIn | None = None

    @model_validator(mode="after")
    def _limit_price_iff_limit(self) -> OrderIn:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a LIMIT order needs limit_price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise ValueError("a MARKET order takes no limit_price")
        return self


class KillSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    engaged: StrictBool
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _reason_not_blank(self) -> KillSwitchIn:
        if not self.reason.strip():
            raise ValueError("reason must not be blank: say why the switch changes")
        return self


class BacktestMode(enum.StrEnum):
    FAST = "fast"
    EXACT = "exact"


ParameterValue = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@/-]+$")]
Timeframe = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[smhdw]$", examples=["1d", "1h"])]


class BacktestIn(BaseModel):
    """A backtest request. Parameters are checked against the strategy's declared space (names,
    types, bounds, constraints) before anything is submitted; numbers are given as strings or JSON
    numbers (they are parameters, not money)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Label = Field(min_length=1, examples=["sma_cross"])
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=50)]
    parameters: Annotated[dict[Label, ParameterValue | int | float], Field(max_length=32)] = {}
    timeframe: Timeframe = "1d"
    start: datetime
    end: datetime
    mode: BacktestMode = BacktestMode.FAST
    initial_cash: PositiveDecimal = Decimal(100_000)
    fee_rate: Annotated[Decimal, BeforeValidator(_fraction), _FRACTION_SCHEMA] = Decimal("0.001")
    slippage_bps: Annotated[Decimal, BeforeValidator(_fraction_bps), _FRACTION_SCHEMA] = Decimal(0)
    sizing_fraction: PositiveDecimal = Decimal("0.1")
    allow_short: StrictBool = False
    reference_symbol: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._:/-]*$")] = ""

    @model_validator(mode="after")
    def _checked(self) -> BacktestIn:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone (e.g. 2020-01-01T00:00:00Z)")
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be distinct")
        if not self.sizing_fraction <= 1:
            raise ValueError("sizing_fraction must be in (0, 1]")
        return self


# The production controller (routes/control.py). Accounts are labels like an order's, but never
# empty; a process's scope may also be "*" (every account). An instrument mode or a flatten always
# names one real account.
Account = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]
Scope = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^(\*|[A-Za-z0-9._:/-]+)$", examples=[ALL, "paper"])
]


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("reason must not be blank: say why")
    return value.strip()


Reason = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_reason)]


def _run_window(value: str) -> str:
    return RunWindow.parse(value).text  # ValueError naming the bad part: a 422 that says what is wrong


class ProcessControlIn(BaseModel):
    """Pause, resume, stop, start or halt a process, for one account or (the default) all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    account: Scope = ALL
    reason: Reason


class RunWindowIn(BaseModel):
    """When a process may run, in UTC: "mon-fri 13:30-20:00", "daily 22:00-06:00", several joined by
    ";". The empty window means always."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: Annotated[
        str, Field(max_length=500, examples=["mon-fri 13:30-20:00"]), AfterValidator(_run_window)
    ]
    reason: Reason


class OverrideIn(BaseModel):
    """What risk lets through for one instrument of one account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Account
    symbol: Symbol
    mode: Mode
    reason: Reason


class FlattenIn(BaseModel):
    """Close the account's positions at market: one symbol (set close-only first), or every one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Account
    symbol: Symbol | None = None
    reason: Reason
