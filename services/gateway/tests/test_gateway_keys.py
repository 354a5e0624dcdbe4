"""Key format, hashing and role rules (pure)."""

from __future__ import annotations

import hashlib

import pytest

from kestrel_gateway.keys import KeyFormatError, Role, generate_key, parse_key, permits, secret_matches


def test_a_generated_key_parses_back_to_its_id_and_a_secret_whose_sha256_is_stored() -> None:
    issued = generate_key()
    parsed = parse_key(issued.key)
    assert issued.key.startswith(f"kst_{issued.key_id}_")
    assert parsed.key_id == issued.key_id
    assert issued.key_hash == hashlib.sha256(parsed.secret.encode()).hexdigest()
    assert parsed.secret not in issued.key_hash


def test_keys_are_random_and_the_secret_carries_256_bits() -> None:
    keys = {generate_key().key for _ in range(50)}
    assert len(keys) == 50
    assert len(parse_key(next(iter(keys))).secret) == 43  # 32 bytes in unpadded base64url


@pytest.mark.parametrize(
    "text",
    [
        "",
        "kst_",
        "abc_0123456789ab_" + "A" * 43,  # wrong prefix
        "kst_0123456789AB_" + "A" * 43,  # upper-case id
        "kst_0123456789a_" + "A" * 43,  # short id
        "kst_0123456789ab_" + "A" * 42,  # short secret
        "kst_0123456789ab_" + "A" * 42 + "!",  # not base64url
    ],
)
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_key(text)


def test_secret_matches_only_the_right_secret() -> None:
    issued = generate_key()
    secret = parse_key(issued.key).secret
    assert secret_matches(secret, issued.key_hash)
    assert not secret_matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), issued.key_hash)


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.TRADER, False),
        (Role.VIEWER, Role.ADMIN, False),
        (Role.TRADER, Role.VIEWER, True),
        (Role.TRADER, Role.TRADER, True),
        (Role.TRADER, Role.ADMIN, False),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.ADMIN, Role.TRADER, True),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_each_role_permits_itself_and_the_weaker_ones(granted: Role, required: Role, allowed: bool) -> None:
    assert permits(granted, required) is allowed
