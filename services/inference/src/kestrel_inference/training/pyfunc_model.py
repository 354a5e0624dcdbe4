"""Any model kind as an MLflow pyfunc model: ``predict`` takes the input rows (``window_columns`` of
the feature names) and returns P(up) per row, which is what the inference service scores with.
LightGBM is logged in its own flavour instead (the booster), whose predict already answers that."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel

from kestrel_inference.training.classifiers import Classifier


class ClassifierModel(PythonModel):
    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        return np.asarray(self.classifier.predict_proba(model_input)[:, 1], dtype=np.float64)
