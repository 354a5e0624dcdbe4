"""A strategy's parameter space: typed parameters with defaults and bounds, and cross-parameter constraints.

The same declaration serves three readers: the API and CLI validate what a user sends against it
(``ParamSpace.validate``), the optimizer searches it (bounds, ``step``, choices), and the catalogue
listing shows it (``ParamSpace.describe``). Values arrive as JSON numbers or as CLI text
(``fast=10``); both are coerced to the declared type, and every problem is reported at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

ParamValue = int | float | str
Params = Mapping[str, ParamValue]
ParamKind = Literal["int", "float", "choice", "text"]
# A text parameter names something (a registered model, an alias): safe in a URL, a log and SQL.
TEXT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


class ParameterError(ValueError):
    """Parameters that do not fit the strategy's space; ``problems`` lists each reason."""

    def __init__(self, strategy: str, problems: list[str]) -> None:
        self.strategy = strategy
        self.problems = tuple(problems)
        super().__init__(f"invalid parameters for {strategy}: " + "; ".join(problems))


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    default: ParamValue
    description: str
    low: float | None = None
    high: float | None = None
    # Granularity the optimizer searches on (ints step by 1 unless told otherwise).
    step: float | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "choice":
            if not self.choices or self.default not in self.choices:
                raise ValueError(f"choice parameter {self.name} needs choices containing its default")
        elif self.kind == "text":
            if not isinstance(self.default, str) or not TEXT_PATTERN.fullmatch(self.default):
                raise ValueError(
                    f"text parameter {self.name} needs a default matching {TEXT_PATTERN.pattern}"
                )
        elif self.low is None or self.high is None or not self.low <= float(self.default) <= self.high:
            raise ValueError(f"parameter {self.name} needs bounds around its default")

    def coerce(self, raw: object) -> ParamValue:
        """The value as the declared type, or ValueError saying why it is not one."""
        if self.kind == "choice":
            text = str(raw)
            if text not in self.choices:
                raise ValueError(f"{self.name}={raw!r} is not one of {list(self.choices)}")
            return text
        if self.kind == "text":
            if not isinstance(raw, str) or not TEXT_PATTERN.fullmatch(raw):
                raise ValueError(f"{self.name}={raw!r} does not match {TEXT_PATTERN.pattern}")
            return raw
        value = _number(self.name, raw, self.kind)
        assert self.low is not None and self.high is not None  # guaranteed by __post_init__
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name}={value} is outside [{_fmt(self.low)}, {_fmt(self.high)}]")
        return value

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind, "default": self.default}
        out["description"] = self.description
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        elif self.kind == "text":
            out["pattern"] = TEXT_PATTERN.pattern
        else:
            out["low"], out["high"] = _fmt(self.low), _fmt(self.high)
            out["step"] = _fmt(self.step) if self.step is not None else (1 if self.kind == "int" else None)
        return out


def _number(name: str, raw: object, kind: ParamKind) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(f"{name}={raw!r} is a boolean, not a number")
    try:
        value = float(raw) if isinstance(raw, str | int | float) else math.nan
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}={raw!r} is not a finite number")
    if kind == "int":
        if value != int(value):
            raise ValueError(f"{name}={raw!r} is not an integer")
        return int(value)
    return value


def _fmt(x: float | None) -> int | float | None:
    return int(x) if x is not None and float(x).is_integer() else x


@dataclass(frozen=True)
class Constraint:
    """A rule across parameters, e.g. ``fast < slow``; ``check`` sees the coerced values."""

    description: str
    check: Callable[[Params], bool]


def less_than(a: str, b: str) -> Constraint:
    return Constraint(f"{a} < {b}", lambda p: float(p[a]) < float(p[b]))


@dataclass(frozen=True)
class ParamSpace:
    params: tuple[Param, ...]
    constraints: tuple[Constraint, ...] = ()

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names in {names}")

    @property
    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def validate(self, strategy: str, raw: Mapping[str, object] | None = None) -> dict[str, ParamValue]:
        """Defaults overridden by ``raw``, coerced and checked; ParameterError lists every problem."""
        given = dict(raw or {})
        known = {p.name: p for p in self.params}
        problems = [f"unknown parameter {name!r}" for name in sorted(set(given) - set(known))]
        values: dict[str, ParamValue] = {}
        for param in self.params:
            try:
                values[param.name] = param.coerce(given.get(param.name, param.default))
            except ValueError as exc:
                problems.append(str(exc))
        if not problems:
            problems = [f"constraint {c.description} fails" for c in self.constraints if not c.check(values)]
        if problems:
            raise ParameterError(strategy, problems)
        return values

    def describe(self) -> dict[str, Any]:
        return {
            "parameters": [p.describe() for p in self.params],
            "constraints": [c.description for c in self.constraints],
        }


def int_param(name: str, default: int, low: int, high: int, description: str) -> Param:
    return Param(name, "int", default, description, float(low), float(high))


def float_param(  # noqa: PLR0917 - read as one declaration: name, default, bounds, text, step
    name: str, default: float, low: float, high: float, description: str, step: float
) -> Param:
    return Param(name, "float", default, description, low, high, step)


def text_param(name: str, default: str, description: str) -> Param:
    return Param(name, "text", default, description)
