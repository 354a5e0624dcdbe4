"""The single spot account of the fake exchange: free and locked balance per asset.

Every movement goes through one of the methods here so the account can tell which assets an
operation touched: that is the list an `outboundAccountPosition` event carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from kestrel_testing.fake_binance_rest import RejectedRequestError

INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."


def insufficient_balance() -> RejectedRequestError:
    return RejectedRequestError(400, -2010, INSUFFICIENT_BALANCE)


@dataclass(slots=True)
class Balance:
    free: Decimal
    locked: Decimal


class Account:
    def __init__(self, balances: Mapping[str, str | Decimal]) -> None:
        self._balances = {asset: Balance(Decimal(amount), Decimal(0)) for asset, amount in balances.items()}
        self._changed: list[str] = []
        self.update_time_ms = 0

    def balance(self, asset: str) -> Balance:
        return self._balances.setdefault(asset, Balance(Decimal(0), Decimal(0)))

    def snapshot(self) -> dict[str, Balance]:
        """A copy, so a test can compare before and after."""
        return {asset: Balance(b.free, b.locked) for asset, b in sorted(self._balances.items())}

    def require_free(self, asset: str, amount: Decimal) -> None:
        if self.balance(asset).free < amount:
            raise insufficient_balance()

    def lock(self, asset: str, amount: Decimal) -> None:
        balance = self.balance(asset)
        balance.free -= amount
        balance.locked += amount
        self._touch(asset)

    def unlock(self, asset: str, amount: Decimal) -> None:
        balance = self.balance(asset)
        balance.locked -= amount
        balance.free += amount
        self._touch(asset)

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).locked -= amount
        self._touch(asset)

    def debit(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).free -= amount
        self._touch(asset)

    def credit(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).free += amount
        self._touch(asset)

    def take_changed(self, now_ms: int) -> list[str]:
        """The assets touched since the last call (in first-touched order); stamps the update time."""
        changed, self._changed = self._changed, []
        if changed:
            self.update_time_ms = now_ms
        return changed

    def _touch(self, asset: str) -> None:
        if asset not in self._changed:
            self._changed.append(asset)
