"""Which signals on ``trading.signals`` an instance of risk decides for its account.

Strategies deployed side by side share the one topic; each risk instance trades one account and
takes only the signals of the strategies it is configured for (``KESTREL_RISK_STRATEGIES``). An
entry names a strategy by its catalogue name (``sma_cross``: any parameters) or by its full
strategy id (``sma_cross:{"fast":10,"slow":50}``: exactly those parameters; a model source's id
is its configured ``KESTREL_STRATEGY_ID``). No entries: every signal is this account's, as when one
strategy drives the loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StrategyFilter:
    names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> StrategyFilter:
        """Comma-separated entries; a full id's JSON may hold commas, so entries split only outside
        braces."""
        entries: list[str] = []
        current: list[str] = []
        depth = 0
        for char in text:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if char == "," and depth == 0:
                entries.append("".join(current))
                current = []
            else:
                current.append(char)
        entries.append("".join(current))
        if depth != 0:
            raise ValueError(f"unbalanced braces in strategy list {text!r}")
        return cls.of(entry.strip() for entry in entries if entry.strip())

    @classmethod
    def of(cls, names: Iterable[str]) -> StrategyFilter:
        return cls(frozenset(names))

    @property
    def everything(self) -> bool:
        return not self.names

    def owns(self, strategy_id: str) -> bool:
        if not self.names:
            return True
        return strategy_id in self.names or strategy_id.partition(":")[0] in self.names
