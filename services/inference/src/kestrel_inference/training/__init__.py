"""The first model: LightGBM on the feature catalogue, honest labels and split, registered in MLflow.

result = run_training(TrainingConfig(symbols=("SP500", "NASDAQ"), reference="SP500"))
"""

from kestrel_inference.training.errors import TrainingError
from kestrel_inference.training.job import TrainingConfig, TrainingResult, run_training

__all__ = ["TrainingConfig", "TrainingError", "TrainingResult", "run_training"]
