"""How execution is asked to work the signal orders risk approves (OrderRequest.algorithm)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from kestrel_contracts.decimals import from_wire, to_wire
from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, ExecutionAlgorithm, OrderRequest


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    name: Literal["immediate", "twap", "iceberg"] = "immediate"
    duration_ns: int = 0
    slices: int = 0
    display_fraction: Decimal = Decimal(1)

    @property
    def is_parent(self) -> bool:
        """Whether the orders become parents that work over time (later signals do not wait)."""
        return self.name != "immediate"

    def apply(self, order: OrderRequest) -> OrderRequest:
        """The order with this plan's algorithm (unchanged for an immediate one)."""
        if self.name == "twap":
            order.algorithm.CopyFrom(
                AlgorithmSpec(
                    algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP,
                    duration_ns=self.duration_ns,
                    slices=self.slices,
                )
            )
        elif self.name == "iceberg":
            display = (from_wire(order.quantity) * self.display_fraction).normalize()
            order.algorithm.CopyFrom(
                AlgorithmSpec(
                    algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_ICEBERG,
                    display_quantity=to_wire(display),
                )
            )
        return order
