"""Decimal <-> wire string for prices, quantities, fees and money (see proto/kestrel/v1/common.proto).

Wire format: a canonical plain decimal string, `-?digits(.digits)?`. No exponent, no "+", no spaces,
no NaN or Infinity. `to_wire` writes the shortest form — no trailing fractional zeros, no leading
zeros, no "-0" — so two strings are equal exactly when the values are ("1.50" and "1.5" never both
appear). `from_wire` accepts any plain decimal, canonical or not, and nothing else.

Floats are refused outright: `Decimal(0.1)` is 0.1000000000000000055511151231257827..., and a float
reaching an order means the precision was already lost upstream.
"""

from __future__ import annotations

import re
from decimal import Decimal

_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_NON_FINITE = {"nan", "snan", "inf", "infinity"}
# Longer strings are not prices or quantities; refusing them bounds parsing work on hostile input
# (both directions enforce it, so whatever to_wire writes from_wire reads back).
MAX_WIRE_LENGTH = 100


def to_wire(value: Decimal | int) -> str:
    """The canonical plain string of an exact number. TypeError for floats, ValueError for NaN/inf."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(
            f"to_wire takes Decimal or int, not {type(value).__name__}: "
            "build the Decimal from a string, a float cannot hold decimal prices exactly"
        )
    if isinstance(value, int):
        value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{value} has no decimal wire form")
    # Built from the digit tuple rather than normalize()/format(), which round to the context's
    # precision (28 digits by default) and would silently change long values.
    sign, digit_tuple, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # only NaN/inf have a str exponent; kept for the type checker
        raise ValueError(f"{value} has no decimal wire form")
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    if exponent >= 0:
        text = digits + "0" * exponent
    else:
        digits = digits.rjust(-exponent + 1, "0")
        whole, fraction = digits[:exponent], digits[exponent:].rstrip("0")
        text = f"{whole}.{fraction}" if fraction else whole
    text = f"-{text}" if sign else text
    if len(text) > MAX_WIRE_LENGTH:
        raise ValueError(f"{value} needs {len(text)} characters as a plain decimal, over {MAX_WIRE_LENGTH}")
    return text


def to_wire_optional(value: Decimal | int | None) -> str:
    """`to_wire`, with None written as "" (the "not set" value of optional decimal fields)."""
    return "" if value is None else to_wire(value)


def from_wire(text: str) -> Decimal:
    """Parse a plain decimal string; ValueError naming the problem for anything else."""
    if not isinstance(text, str):
        raise TypeError(f"from_wire takes str, not {type(text).__name__}")
    if len(text) > MAX_WIRE_LENGTH:
        raise ValueError(f"decimal string of {len(text)} characters exceeds {MAX_WIRE_LENGTH}")
    if not _PLAIN.fullmatch(text):
        if not text:
            raise ValueError("empty decimal string (the field is not set)")
        if text.strip().lstrip("+-").lower() in _NON_FINITE:
            raise ValueError(f"{text!r}: NaN and Infinity are not allowed in decimal fields")
        raise ValueError(
            f"{text!r} is not a plain decimal (expected digits, optional '-' and '.', no exponent)"
        )
    return Decimal(text)


def from_wire_optional(text: str) -> Decimal | None:
    """`from_wire`, with "" read as None (the "not set" value of optional decimal fields)."""
    return None if text == "" else from_wire(text)
