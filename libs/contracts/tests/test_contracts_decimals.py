"""Decimal wire format: canonical plain strings, exact round trips, no floats, clear errors."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kestrel_contracts.decimals import (
    MAX_WIRE_LENGTH,
    from_wire,
    from_wire_optional,
    to_wire,
    to_wire_optional,
)

CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
PLAIN = r"-?[0-9]{1,25}(\.[0-9]{1,25})?"

# Exact decimals with up to 30 digits and exponents on both sides, built without any rounding.
exact_decimals = st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-30, max_value=30),
)


@given(exact_decimals)
def test_round_trip_is_exact(value: Decimal) -> None:
    assert from_wire(to_wire(value)) == value


@given(exact_decimals)
def test_written_form_is_canonical_plain(value: Decimal) -> None:
    text = to_wire(value)
    assert CANONICAL.fullmatch(text), text
    assert text != "-0"
    assert "e" not in text.lower()


@given(exact_decimals, exact_decimals)
def test_equal_values_have_equal_strings(a: Decimal, b: Decimal) -> None:
    assert (to_wire(a) == to_wire(b)) == (a == b)


@given(st.from_regex(PLAIN, fullmatch=True))
def test_any_plain_string_reads_exactly_and_canonicalises(text: str) -> None:
    value = from_wire(text)
    assert value == Decimal(text)
    assert to_wire(value) == to_wire(from_wire(to_wire(value)))


@given(st.integers(min_value=-(10**40), max_value=10**40))
def test_ints_are_exact(value: int) -> None:
    assert to_wire(value) == str(value)
    assert from_wire(to_wire(value)) == value


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("0.00"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-1.2345E-7"), "-0.00000012345"),
        (Decimal("30000.010"), "30000.01"),
        # 39 significant digits: more than the default context precision, must not be rounded.
        (Decimal("123456789012345678901234567890.123456789"), "123456789012345678901234567890.123456789"),
    ],
)
def test_known_canonical_forms(value: Decimal, wire: str) -> None:
    assert to_wire(value) == wire


@given(st.floats())
def test_floats_are_refused(value: float) -> None:
    with pytest.raises(TypeError, match="float"):
        to_wire(value)  # type: ignore[arg-type]


def test_bools_are_refused() -> None:
    with pytest.raises(TypeError):
        to_wire(True)


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")]
)
def test_non_finite_decimals_have_no_wire_form(value: Decimal) -> None:
    with pytest.raises(ValueError, match="no decimal wire form"):
        to_wire(value)


@pytest.mark.parametrize("text", ["NaN", "nan", "-Infinity", "inf", "+inf", "sNaN"])
def test_non_finite_strings_are_named_as_such(text: str) -> None:
    with pytest.raises(ValueError, match="NaN and Infinity are not allowed"):
        from_wire(text)


@pytest.mark.parametrize(
    "text", ["1e5", "1E-3", ".5", "5.", "+1", " 1", "1 ", "1,000", "0x10", "--1", "1.2.3", "\u0661"]
)
def test_malformed_strings_are_refused_with_the_rule(text: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal"):
        from_wire(text)


@given(st.text())
def test_from_wire_accepts_exactly_the_plain_grammar(text: str) -> None:
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) and len(text) <= MAX_WIRE_LENGTH:
        assert from_wire(text) == Decimal(text)
    else:
        with pytest.raises(ValueError):
            from_wire(text)


def test_empty_string_is_not_a_number_but_is_an_unset_optional() -> None:
    with pytest.raises(ValueError, match="empty"):
        from_wire("")
    assert from_wire_optional("") is None
    assert from_wire_optional("2.5") == Decimal("2.5")
    assert to_wire_optional(None) == ""
    assert to_wire_optional(Decimal("2.50")) == "2.5"


def test_length_is_bounded_both_ways() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        from_wire("1" * (MAX_WIRE_LENGTH + 1))
    with pytest.raises(ValueError, match="over"):
        to_wire(Decimal("1E+200"))
