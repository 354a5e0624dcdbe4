"""Which instruments a deployment trades, and their exchange filters: one catalogue risk and
execution both read, so an order risk sized always passes execution's filter check.

Loaded from a JSON file (``KESTREL_INSTRUMENTS_FILE``) of the form::

    {"default": {"tick_size": "0.01", "step_size": "0.001", "min_qty": "0.001",
                 "max_qty": "100000", "min_notional": "10"},
     "symbols": {"BTC/USDT": {"tick_size": "0.01", ...}}}

A symbol not listed gets ``default`` when there is one; with no default it is unknown (risk rejects
it as RISK_REASON_UNKNOWN_SYMBOL, execution as EXECUTION_REASON_UNKNOWN_SYMBOL). Values are
decimal strings, never floats, so "0.1" stays exactly 0.1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kestrel_trading.instruments import Instrument

_FIELDS = ("tick_size", "step_size", "min_qty", "max_qty", "min_notional")

# Fine enough for every bundled sample (equity indices near 1e3-1e4, FX near 1): ticks of 1e-5,
# lots of 1e-4, a 10 (quote currency) minimum notional like Binance's USDT pairs.
DEFAULT_FILTERS: Mapping[str, str] = {
    "tick_size": "0.00001",
    "step_size": "0.0001",
    "min_qty": "0.0001",
    "max_qty": "1000000",
    "min_notional": "10",
}


_MAX_DEFAULTED = 10_000


class CatalogError(ValueError):
    """The instruments file is unreadable or names a bad filter value."""


@dataclass(frozen=True, slots=True)
class InstrumentCatalog:
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    default: Mapping[str, str] | None = None
    # Instruments made from `default`, by symbol: building one parses and validates every filter,
    # which the order path would otherwise pay several times per order.
    _defaulted: dict[str, Instrument] = field(default_factory=dict, init=False, repr=False, compare=False)

    def get(self, symbol: str) -> Instrument | None:
        """The symbol's instrument, the default's filters under its name, or None when unknown."""
        found = self.instruments.get(symbol) or self._defaulted.get(symbol)
        if found is not None or self.default is None:
            return found
        made = _instrument(symbol, self.default)
        if len(self._defaulted) < _MAX_DEFAULTED:  # bounded: symbols arrive from the outside
            self._defaulted[symbol] = made
        return made

    @classmethod
    def builtin(cls) -> InstrumentCatalog:
        """Every symbol trades with DEFAULT_FILTERS (the demo and tests)."""
        return cls({}, DEFAULT_FILTERS)

    @classmethod
    def from_file(cls, path: str | Path) -> InstrumentCatalog:
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CatalogError(f"cannot read instruments file {path}: {exc}") from exc
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "instruments") -> InstrumentCatalog:
        if not isinstance(raw, dict):
            raise CatalogError(f"{source}: expected an object with 'default' and/or 'symbols'")
        default = raw.get("default")
        if default is not None:
            _instrument("default", default, source)  # validate once, up front
        symbols = raw.get("symbols", {})
        if not isinstance(symbols, dict):
            raise CatalogError(f"{source}: 'symbols' must map symbol -> filters")
        instruments = {name: _instrument(name, spec, source) for name, spec in symbols.items()}
        return cls(instruments, default)


def load_catalog(path: str | None) -> InstrumentCatalog:
    """The catalogue a service runs with: the file when one is configured, else the builtin."""
    return InstrumentCatalog.from_file(path) if path else InstrumentCatalog.builtin()


def _instrument(symbol: str, spec: Any, source: str = "instruments") -> Instrument:
    if not isinstance(spec, Mapping):
        raise CatalogError(f"{source}: filters of {symbol} must be an object")
    missing = [name for name in _FIELDS if name not in spec]
    if missing:
        raise CatalogError(f"{source}: {symbol} lacks {', '.join(missing)}")
    try:
        values = {name: Decimal(str(spec[name])) for name in _FIELDS}
        return Instrument(symbol=symbol, **values)
    except (InvalidOperation, ValueError) as exc:
        raise CatalogError(f"{source}: {symbol}: {exc}") from exc
