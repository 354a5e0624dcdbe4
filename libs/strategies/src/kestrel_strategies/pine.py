"""TradingView Pine Script v5 export of a catalogue strategy.

Each catalogue module declares its rule's Pine body next to its Python rule (``StrategyDef.pine``).
``pine_script`` wraps the body in what every strategy shares: the ``strategy(...)`` declaration (capital,
percent-of-equity sizing, commission, slippage), one ``input.*`` per parameter of the strategy's
space at the bound values, the reference symbol (``request.security``) for strategies that read one,
Kestrel's event codes and comparison band, the warm-up gate, and the order logic that turns events
into positions as ``positions.step`` does.

A body is Pine statements at global scope. It reads its parameters by their names, ``ref_close``
when the strategy reads a reference, the helpers ``above(a, b, scale)`` / ``below(a, b, scale)`` and
the event constants; it assigns ``event`` (``LONG``, ``SHORT``, ``FLAT``, ``EXIT_LONG``,
``EXIT_SHORT`` or ``NONE``), and ``weight`` too when the strategy sizes its positions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from kestrel_strategies.params import Param, ParamValue

if TYPE_CHECKING:  # strategy.py imports this module for PineUnsupported
    from kestrel_strategies.strategy import Strategy

# TradingView ticker a reference-reading strategy starts from; the user picks another in the inputs.
DEFAULT_REFERENCE = "SP:SPX"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names the wrapper defines or Pine reserves: a parameter with one of them would shadow it.
_RESERVED = frozenset(
    (
        "and",
        "or",
        "not",
        "if",
        "else",
        "for",
        "to",
        "by",
        "while",
        "switch",
        "var",
        "varip",
        "import",
        "export",
        "method",
        "type",
        "true",
        "false",
        "na",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "time",
        "bar_index",
        "strategy",
        "ta",
        "math",
        "input",
        "request",
        "timeframe",
        "syminfo",
        "str",
        "array",
        "map",
        "matrix",
        "color",
        "plot",
        "runtime",
        "barmerge",
        "currency",
        "event",
        "weight",
        "ref_close",
        "ref_symbol",
        "long_only",
        "warmup",
        "position_qty",
        "LONG",
        "SHORT",
        "FLAT",
        "EXIT_LONG",
        "EXIT_SHORT",
        "NONE",
        "CMP_EPS",
        "above",
        "below",
    )
)


class PineExportError(ValueError):
    """The strategy cannot be exported to Pine; the message says why."""


@dataclass(frozen=True)
class PineUnsupported:
    """Declared by a strategy that has no Pine equivalent, with the reason the export gives."""

    reason: str


def pine_script(
    strategy: Strategy,
    *,
    initial_capital: Decimal = Decimal(10_000),
    commission_percent: Decimal = Decimal("0.1"),
    slippage_ticks: int = 0,
    percent_of_equity: Decimal = Decimal(10),
    long_only: bool = True,
    reference_symbol: str = DEFAULT_REFERENCE,
    notes: Sequence[str] = (),
) -> str:
    """The strategy, at its bound parameters, as a TradingView ``//@version=5`` strategy script.

    ``percent_of_equity`` is the size of a whole position (Kestrel's sizing fraction, in percent);
    a strategy with a weight holds ``weight`` of it. ``notes`` become comment lines of the header.
    """
    definition = strategy.definition
    body = definition.pine
    if body is None:
        raise PineExportError(
            f"strategy {definition.name} declares no Pine body: add pine=... to its catalogue module "
            "(or pine=PineUnsupported(reason))"
        )
    if isinstance(body, PineUnsupported):
        raise PineExportError(f"strategy {definition.name} cannot be exported to Pine: {body.reason}")
    _check_properties(initial_capital, commission_percent, slippage_ticks, percent_of_equity)
    weighted = definition.weight is not None
    lines = [
        f"// Kestrel strategy {definition.name}, exported to TradingView Pine Script v5.",
        f"// {_one_line(definition.summary)}",
        f"// strategy_id: {_one_line(strategy.strategy_id)}",
        "// Decisions are taken on a bar's close and fill from the next bar's open, as in Kestrel.",
        *(f"// {_one_line(note)}" for note in notes),
        "//@version=5",
        _declaration(definition.name, initial_capital, commission_percent, slippage_ticks, percent_of_equity),
        "",
        "// Parameters (the values this script was exported with are the defaults)",
        *(_input(param, strategy.params[param.name]) for param in definition.space.params),
        f"long_only = input.bool({_bool(long_only)}, {_string('long only')}, group={_string('Kestrel')}, "
        f"tooltip={_string('A short signal closes a long instead of opening a short.')})",
        f"warmup = input.int({strategy.warmup}, {_string('warm-up bars')}, minval=1, "
        f"group={_string('Kestrel')}, tooltip={_string(_WARMUP_TIP)})",
    ]
    if strategy.needs_reference:
        lines += [
            f"ref_symbol = input.symbol({_string(reference_symbol)}, {_string('reference symbol')}, "
            f"group={_string('Kestrel')})",
            "// gaps_on: a bar without a reference bar reads na and decides nothing, as in Kestrel.",
            "ref_close = request.security(ref_symbol, timeframe.period, close, gaps=barmerge.gaps_on, "
            "lookahead=barmerge.lookahead_off)",
        ]
    if weighted:
        lines.append(f"EQUITY_PERCENT = {_number(percent_of_equity)}")
    lines += ["", _PRELUDE, "// Rule", body.strip("\n"), "", _epilogue(weighted)]
    return "\n".join(lines).rstrip("\n") + "\n"


_WARMUP_TIP = "Kestrel decides nothing before its indicators' replay window (at the exported values) is full."

_PRELUDE = """\
strategy.risk.allow_entry_in(long_only ? strategy.direction.long : strategy.direction.all)

// Kestrel's event codes: entries and FLAT set the position, an exit clears only its own side.
int LONG = 1
int SHORT = -1
int FLAT = 0
int EXIT_LONG = 2
int EXIT_SHORT = -2
int NONE = na
// Comparisons allow Kestrel's relative band, so a flat market compares the same way; false on na.
CMP_EPS = 1e-9
above(a, b, scale) => a - b > CMP_EPS * math.abs(scale)
below(a, b, scale) => b - a > CMP_EPS * math.abs(scale)
"""


def _epilogue(weighted: bool) -> str:
    gate = "bar_index + 1 >= warmup" + (" and not na(weight)" if weighted else "")
    qty = ", qty=position_qty" if weighted else ""
    sizing = (
        "// The weight sizes a position once, on the bar it begins (a held position is not resized).\n"
        "position_qty = math.max(weight, 0) * EQUITY_PERCENT / 100 * strategy.equity / close\n"
        if weighted
        else ""
    )
    return f"""\
// Orders: the event of this bar's close, filled from the next bar's open.
decision = {gate} ? event : NONE
{sizing}if decision == LONG
    strategy.entry("Long", strategy.long{qty})
else if decision == SHORT
    if long_only
        strategy.close("Long", comment="short signal, long only")
    else
        strategy.entry("Short", strategy.short{qty})
else if decision == FLAT
    strategy.close_all(comment="flat")
else if decision == EXIT_LONG
    strategy.close("Long", comment="exit long")
else if decision == EXIT_SHORT
    strategy.close("Short", comment="exit short")
"""


def _declaration(name: str, capital: Decimal, commission: Decimal, slippage: int, percent: Decimal) -> str:
    args = [
        _string(f"Kestrel {name}"),
        f"shorttitle={_string(name)}",
        "overlay=true",
        f"initial_capital={_number(capital)}",
        "default_qty_type=strategy.percent_of_equity",
        f"default_qty_value={_number(percent)}",
        "commission_type=strategy.commission.percent",
        f"commission_value={_number(commission)}",
        f"slippage={slippage}",
        "pyramiding=0",
        "process_orders_on_close=false",
        "calc_on_every_tick=false",
    ]
    return f"strategy({', '.join(args)})"


def _check_properties(capital: Decimal, commission: Decimal, slippage: int, percent: Decimal) -> None:
    problems = []
    if not (capital.is_finite() and capital > 0):
        problems.append(f"initial_capital must be > 0, got {capital}")
    if not (commission.is_finite() and 0 <= commission < 100):
        problems.append(f"commission_percent must be in [0, 100), got {commission}")
    if slippage < 0:
        problems.append(f"slippage_ticks must be >= 0, got {slippage}")
    if not (percent.is_finite() and 0 < percent <= 100):
        problems.append(f"percent_of_equity must be in (0, 100], got {percent}")
    if problems:
        raise PineExportError("; ".join(problems))


def _input(param: Param, value: ParamValue) -> str:
    if not _IDENTIFIER.fullmatch(param.name) or param.name in _RESERVED:
        raise PineExportError(f"parameter {param.name!r} is not usable as a Pine variable name")
    title, tip = _string(param.name), _string(_one_line(param.description))
    if param.kind == "int":
        assert param.low is not None and param.high is not None  # numeric params have bounds
        bounds = f"minval={int(param.low)}, maxval={int(param.high)}"
        return f"{param.name} = input.int({int(value)}, {title}, {bounds}, tooltip={tip})"
    if param.kind == "float":
        assert param.low is not None and param.high is not None
        bounds = f"minval={_float(param.low)}, maxval={_float(param.high)}"
        step = f", step={_float(param.step)}" if param.step is not None else ""
        return f"{param.name} = input.float({_float(float(value))}, {title}, {bounds}{step}, tooltip={tip})"
    options = f", options=[{', '.join(_string(c) for c in param.choices)}]" if param.kind == "choice" else ""
    return f"{param.name} = input.string({_string(str(value))}, {title}{options}, tooltip={tip})"


def _string(text: str) -> str:
    """A Pine string literal (double-quoted, backslash escapes)."""
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _one_line(text: str) -> str:
    # A newline in a comment or a string would end it and start a line of code.
    return " ".join(text.split())


def _float(x: float) -> str:
    text = repr(float(x))
    return text if "e" not in text else f"{x:.20f}".rstrip("0")


def _number(x: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (Pine reads plain decimal literals)."""
    return format(x.normalize(), "f")


def _bool(flag: bool) -> str:
    return "true" if flag else "false"
