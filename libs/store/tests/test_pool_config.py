"""Pool configuration that needs no server: URL from the environment, settings, JSON encoding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kestrel_store.pool import (
    DEFAULT_DATABASE_URL,
    create_pool,
    database_url_from_env,
    encode_json,
    server_settings,
)


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_DATABASE_URL", "postgresql://u:p@db.internal:5432/k")
    assert database_url_from_env() == "postgresql://u:p@db.internal:5432/k"


@pytest.mark.parametrize("value", [None, ""])
def test_database_url_defaults_to_local_infrastructure(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("KESTREL_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("KESTREL_DATABASE_URL", value)
    assert (
        database_url_from_env()
        == DEFAULT_DATABASE_URL
        == "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel"
    )


def test_server_settings() -> None:
    settings = server_settings("kestrel-risk", 5_000)
    assert settings["statement_timeout"] == "5000"
    assert settings["application_name"] == "kestrel-risk"
    assert settings["timezone"] == "UTC"
    assert int(settings["idle_in_transaction_session_timeout"]) >= 10_000


def test_json_encoding_keeps_decimals_exact() -> None:
    assert encode_json({"qty": Decimal("0.00000001"), "n": [1, "a"]}) == '{"qty":"0.00000001","n":[1,"a"]}'


def test_json_encoding_refuses_unknown_types() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        encode_json({"s": {1}})


@pytest.mark.parametrize(("min_size", "max_size"), [(0, 5), (5, 2)])
async def test_invalid_pool_sizes_are_rejected_before_connecting(min_size: int, max_size: int) -> None:
    with pytest.raises(ValueError, match="min_size"):
        await create_pool("postgresql://nobody@127.0.0.1:1/none", min_size=min_size, max_size=max_size)
