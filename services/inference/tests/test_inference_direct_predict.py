"""`direct_predict` keeps the pyfunc wrapper unless the raw model answers exactly as it does."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from kestrel_inference.model_registry import direct_predict


class Raw:
    def __init__(self, answer: float) -> None:
        self.answer = answer
        self.inputs: list[object] = []

    def predict(self, frame: Any) -> Any:
        self.inputs.append(frame)
        return np.full(len(frame), self.answer)


class Wrapper:
    def __init__(self, raw: object, answer: float = 0.7) -> None:
        self.raw, self.answer = raw, answer

    def get_raw_model(self) -> object:
        if isinstance(self.raw, Exception):
            raise self.raw
        return self.raw

    def predict(self, frame: pd.DataFrame) -> Any:
        return np.full(len(frame), self.answer)


def _chosen(wrapper: Wrapper) -> Any:
    return direct_predict(cast(PyFuncModel, wrapper), ["a", "b"])


def test_the_raw_model_serves_when_it_agrees_with_the_wrapper() -> None:
    raw = Raw(0.7)
    wrapper = Wrapper(raw)
    chosen = _chosen(wrapper)
    assert chosen != wrapper.predict
    assert list(chosen(pd.DataFrame({"a": [1.0], "b": [2.0]}))) == [0.7]
    assert isinstance(raw.inputs[-1], np.ndarray)  # the booster gets the row's values, not a frame


def test_a_raw_model_that_answers_otherwise_keeps_the_wrapper() -> None:
    wrapper = Wrapper(Raw(1.0))  # e.g. class labels where the wrapper gives probabilities
    assert _chosen(wrapper) == wrapper.predict


def test_no_raw_model_keeps_the_wrapper() -> None:
    wrapper = Wrapper(NotImplementedError("this flavour has no raw model"))
    assert _chosen(wrapper) == wrapper.predict
