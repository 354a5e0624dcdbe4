"""Frozen, validated service settings read from `KESTREL_*` environment variables.

Every service subclasses `ServiceSettings`, adds its own fields (and defaults for `service_name` and
`http_port`), and calls `load_settings(MySettings)` first thing in `__main__`: a bad or missing
variable stops the process before it touches Kafka or the database, with one line per variable.

Nested groups are pydantic models (declare them `frozen=True` too); they are read from
`KESTREL_<FIELD>__<SUBFIELD>` or from `KESTREL_<FIELD>` as JSON.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from typing import Any, TypeVar, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import AliasChoices, AliasPath, BaseModel, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError

__all__ = ["ENV_PREFIX", "ServiceSettings", "SettingsError", "env_var_names", "load_settings"]

ENV_PREFIX = "KESTREL_"
NESTED_DELIMITER = "__"
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})

_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
_HTTP_SCHEMES = frozenset({"http", "https"})
# MLflow accepts a tracking server or a local store; the platform runs a server, tests may use files.
_MLFLOW_SCHEMES = _HTTP_SCHEMES | {"file", "sqlite", "postgresql"}
_MAX_PORT = 65535

T = TypeVar("T", bound=BaseSettings)


class SettingsError(Exception):
    """Settings could not be loaded; `problems` holds (env var, reason) pairs in field order."""

    def __init__(self, settings_name: str, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"invalid configuration for {settings_name}:"]
        lines += [f"  {var}: {reason}" for var, reason in problems]
        super().__init__("\n".join(lines))


def _check_port(value: int, what: str, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if not low <= value <= _MAX_PORT:
        raise ValueError(f"{what} must be between {low} and {_MAX_PORT}, got {value}")
    return value


def _check_url(value: str, schemes: frozenset[str], need_host: bool = True) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"URL scheme must be one of {sorted(schemes)}, got {parts.scheme!r}")
    if need_host and parts.scheme not in {"unix", "file", "sqlite"} and not parts.hostname:
        raise ValueError("URL has no host")
    if port is not None:
        _check_port(port, "URL port")
    return value


def _check_bootstrap(value: str) -> str:
    servers = [item.strip() for item in value.split(",") if item.strip()]
    if not servers:
        raise ValueError("needs at least one host:port")
    for server in servers:
        host, sep, port = server.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{server!r} is not host:port")
        _check_port(int(port), f"port of {server!r}")
    return value


class ServiceSettings(BaseSettings):
    """Settings every service shares. Defaults are the local infrastructure's."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        frozen=True,
        extra="ignore",
        case_sensitive=False,
    )

    service_name: str
    environment: str = "dev"
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int
    otlp_endpoint: str | None = None
    kafka_bootstrap: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    database_url: str = "postgresql://kestrel:kestrel@127.0.0.1:15432/kestrel"
    mlflow_tracking_uri: str = "http://127.0.0.1:15000"
    # Prefix of every Kafka topic and Redis stream (kestrel_contracts.registry reads the same variable),
    # so deployments or test runs can share one broker without seeing each other's messages.
    channel_namespace: str = ""

    @field_validator("service_name", "environment", "http_host")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {sorted(LOG_LEVELS)}")
        return level

    @field_validator("http_port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        return _check_port(value, "port", allow_zero=True)  # 0 = pick a free port (tests)

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_url(cls, value: str | None) -> str | None:
        # Empty means "no exporter", so KESTREL_OTLP_ENDPOINT= in a manifest switches it off.
        if value is None or not value.strip():
            return None
        return _check_url(value.strip(), _HTTP_SCHEMES)

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        return _check_bootstrap(value)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return _check_url(value, _REDIS_SCHEMES)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return _check_url(value, _POSTGRES_SCHEMES)

    @field_validator("mlflow_tracking_uri")
    @classmethod
    def _mlflow_uri(cls, value: str) -> str:
        return _check_url(value, _MLFLOW_SCHEMES)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside `annotation` (also through `X | None`), if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                found = _nested_model(arg)
                if found is not None:
                    return found
    return None


def _alias_names(field: FieldInfo) -> list[str] | None:
    """Env names given by an alias; pydantic-settings does not prefix aliases."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasChoices):
        names: list[str] = []
        for choice in alias.choices:
            first = choice.path[0] if isinstance(choice, AliasPath) else choice
            if isinstance(first, str):
                names.append(first)
        return names
    if isinstance(alias, AliasPath) and isinstance(alias.path[0], str):
        return [alias.path[0]]
    if field.alias is not None:
        return [field.alias]
    return None


def _field_env_names(name: str, field: FieldInfo, prefix: str) -> list[str]:
    return _alias_names(field) or [prefix + name]


def _walk(
    model: type[BaseModel], prefix: str, delimiter: str | None
) -> Iterator[tuple[tuple[str, ...], str]]:
    """(loc, env var name) for every field, nested models included."""
    for name, field in model.model_fields.items():
        for env_name in _field_env_names(name, field, prefix):
            yield (name,), env_name
            nested = _nested_model(field.annotation)
            if nested is not None and delimiter:
                for loc, sub_name in _walk(nested, env_name + delimiter, delimiter):
                    yield (name, *loc), sub_name


def _env_map(cls: type[BaseSettings]) -> dict[tuple[str, ...], str]:
    config = cls.model_config
    prefix = config.get("env_prefix", "") or ""
    delimiter = config.get("env_nested_delimiter")
    mapping: dict[tuple[str, ...], str] = {}
    for loc, env_name in _walk(cls, prefix, delimiter):
        mapping.setdefault(loc, env_name)
    return mapping


def env_var_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable name `cls` reads, upper-cased (nested and aliased ones included).

    For a nested model field both the whole-JSON variable (KESTREL_LIMITS) and its parts
    (KESTREL_LIMITS__MAX_ORDER) are listed, because pydantic-settings accepts both.
    """
    config = cls.model_config
    prefix = config.get("env_prefix", "") or ""
    delimiter = config.get("env_nested_delimiter")
    names = {env_name for _, env_name in _walk(cls, prefix, delimiter)}
    if config.get("case_sensitive", False):
        return names
    return {name.upper() for name in names}


def _env_name_for(loc: tuple[str | int, ...], mapping: dict[tuple[str, ...], str]) -> str:
    parts = tuple(str(part) for part in loc)
    # A list/dict item or an unknown sub-key maps to the closest known variable.
    while parts:
        if parts in mapping:
            return mapping[parts].upper()
        parts = parts[:-1]
    return ".".join(str(part) for part in loc) or "<settings>"


def _reason(error: Any) -> str:
    if error["type"] == "missing":
        return "required but not set"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def load_settings(cls: type[T]) -> T:
    """Read and validate `cls` from the environment, or raise `SettingsError` naming every bad variable."""
    try:
        return cls()
    except ValidationError as exc:
        mapping = _env_map(cls)
        problems = [(_env_name_for(err["loc"], mapping), _reason(err)) for err in exc.errors()]
        raise SettingsError(cls.__name__, problems) from None
    except _SourceError as exc:
        # pydantic-settings fails before validation when a nested/complex value is not valid JSON;
        # its message names the field, not the variable, so translate it.
        match = re.search(r'field "([^"]+)"', str(exc))
        var = _env_name_for((match.group(1),), _env_map(cls)) if match else "<environment>"
        raise SettingsError(cls.__name__, [(var, f"cannot be parsed ({exc.__cause__ or exc})")]) from None


def load_settings_or_exit(cls: type[T]) -> T:
    """`load_settings` for `__main__`: print the problems to stderr and exit with status 2."""
    try:
        return load_settings(cls)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
