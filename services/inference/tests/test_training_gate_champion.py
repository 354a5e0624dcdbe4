"""The gate's champion lookup: only "no such model" and "no such alias" mean nobody to beat; a
registry that fails is an error, never an unopposed promotion."""

from __future__ import annotations

from typing import Any, cast

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.tracking import MlflowClient

from kestrel_inference.training.errors import TrainingError
from kestrel_inference.training.gate_run import current_champion


class Failing:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def get_model_version_by_alias(self, _name: str, _alias: str) -> Any:
        raise self.exc


def _client(message: str, code: int) -> MlflowClient:
    return cast(MlflowClient, Failing(MlflowException(message, error_code=code)))


def test_a_missing_model_or_alias_means_no_champion() -> None:
    missing_model = _client("Registered Model with name=x not found", RESOURCE_DOES_NOT_EXIST)
    assert current_champion(missing_model, "x", "live") is None
    missing_alias = _client("Registered model alias live not found.", INVALID_PARAMETER_VALUE)
    assert current_champion(missing_alias, "x", "live") is None


def test_a_failing_registry_is_an_error_not_an_empty_seat() -> None:
    down = _client("API request to http://127.0.0.1:9/... failed", INTERNAL_ERROR)
    with pytest.raises(TrainingError, match=r"cannot read the champion x@live"):
        current_champion(down, "x", "live")
    other = _client("Invalid value for parameter 'name'", INVALID_PARAMETER_VALUE)
    with pytest.raises(TrainingError):
        current_champion(other, "x", "live")
