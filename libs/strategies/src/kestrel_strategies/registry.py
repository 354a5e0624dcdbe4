"""The catalogue: every module of ``kestrel_strategies.catalogue`` that defines ``STRATEGY``.

Adding a strategy is adding one module there (and its tests); nothing else lists strategies.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache

from kestrel_strategies import catalogue
from kestrel_strategies.strategy import Strategy, StrategyDef


class UnknownStrategyError(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown strategy {name!r}; the catalogue has {', '.join(known)}")


@cache
def strategies() -> Mapping[str, StrategyDef]:
    """Name -> definition, sorted by name."""
    found: dict[str, StrategyDef] = {}
    for module in pkgutil.iter_modules(catalogue.__path__):
        definition = getattr(importlib.import_module(f"{catalogue.__name__}.{module.name}"), "STRATEGY", None)
        if not isinstance(definition, StrategyDef):
            continue
        if definition.name in found:
            raise ValueError(f"two catalogue modules define strategy {definition.name!r}")
        found[definition.name] = definition
    return dict(sorted(found.items()))


def get(name: str) -> StrategyDef:
    catalogue_ = strategies()
    if name not in catalogue_:
        raise UnknownStrategyError(name, list(catalogue_))
    return catalogue_[name]


def build(name: str, params: Mapping[str, object] | None = None) -> Strategy:
    """The named strategy bound to ``params`` (defaults for the rest); ParameterError if they do not fit."""
    return get(name).bind(params)
