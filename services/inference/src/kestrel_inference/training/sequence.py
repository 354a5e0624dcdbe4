"""``lstm``: a PyTorch LSTM over the last ``window`` feature vectors of a symbol.

Its input is the window laid out as columns (``domain.window_columns``: every feature at t-(N-1),
..., then at t), so it sits behind the same frame-in, probabilities-out interface as the tabular
kinds, and the served model's signature names every lag. Missing values are filled with the training
rows' per-feature median and every feature is standardized with the training rows' mean and standard
deviation: both fitted in ``fit``, so in cross-validation they see the training fold only.

Training is seeded and deterministic on the CPU; a CUDA device is used when one is present (never
required). The fitted network is kept on the CPU, so a model trained on a GPU loads anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from kestrel_inference.domain import window_columns

Probabilities = np.ndarray[Any, np.dtype[np.float64]]
FEW_ROWS = 64  # as kestrel_inference.training.classifiers.FEW_ROWS (not imported: no cycle)
CLIP = 8.0  # standardized values beyond this many deviations are clipped (one bad tick, not a signal)


class _Net(nn.Module):
    def __init__(self, n_features: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            n_features, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        logits: torch.Tensor = self.head(self.drop(out[:, -1, :])).squeeze(-1)
        return logits


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class LstmClassifier:
    window: int = 16
    # Small and strongly regularized: on daily samples a larger or longer-trained net overfits
    # (hidden 32 over 12 epochs: out-of-sample log loss 0.90 against the baseline's 0.685).
    hidden: int = 16
    layers: int = 1
    dropout: float = 0.3
    epochs: int = 6
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 42
    kind: str = field(default="lstm", init=False)
    _names: tuple[str, ...] = field(default=(), init=False, repr=False)
    _median: Any = field(default=None, init=False, repr=False)
    _mean: Any = field(default=None, init=False, repr=False)
    _std: Any = field(default=None, init=False, repr=False)
    _net: _Net | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.window < 1 or self.hidden < 1 or self.layers < 1 or self.epochs < 1 or self.batch_size < 1:
            raise TypeError("window, hidden, layers, epochs and batch_size must be at least 1")
        if not 0.0 <= self.dropout < 1.0 or self.learning_rate <= 0:
            raise TypeError("dropout must be in [0, 1) and learning_rate positive")

    def _sequences(self, features: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float32]]:
        """(rows, window, features), missing filled and standardized by the training statistics."""
        expected = window_columns(self._names, self.window)
        if tuple(features.columns) != expected:
            raise ValueError(
                f"lstm input must be the window columns of its {len(self._names)} features over "
                f"{self.window} bars, got {len(features.columns)} columns"
            )
        x = features.to_numpy(dtype=np.float64).reshape(len(features), self.window, len(self._names))
        x = np.where(np.isnan(x), self._median, x)
        scaled: np.ndarray[Any, np.dtype[np.float32]] = np.clip(
            (x - self._mean) / self._std, -CLIP, CLIP
        ).astype(np.float32)
        return scaled

    def fit(self, features: pd.DataFrame, labels: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        columns = list(features.columns)
        if len(columns) % self.window:
            raise ValueError(f"{len(columns)} columns are not {self.window} lags of the same features")
        self._names = tuple(columns[-(len(columns) // self.window) :])  # lag 0 carries the plain names
        flat = features.to_numpy(dtype=np.float64).reshape(-1, len(self._names))
        # A feature never seen in the training rows is all NaN: 0 after filling, unit scale.
        median = np.nan_to_num(np.nanmedian(np.where(np.isnan(flat).all(axis=0), 0.0, flat), axis=0))
        self._median = median
        filled = np.where(np.isnan(flat), median, flat)
        self._mean = filled.mean(axis=0)
        std = filled.std(axis=0)
        self._std = np.where(std > 1e-12, std, 1.0)
        x = torch.from_numpy(self._sequences(features))
        y = torch.from_numpy(np.asarray(labels, dtype=np.float32))
        torch.manual_seed(self.seed)
        device = _device()
        net = _Net(len(self._names), self.hidden, self.layers, self.dropout).to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss()
        order = torch.Generator().manual_seed(self.seed)
        net.train()
        for _ in range(self.epochs):
            for batch in torch.split(torch.randperm(len(x), generator=order), self.batch_size):
                optimizer.zero_grad()
                loss = loss_fn(net(x[batch].to(device)), y[batch].to(device))
                loss.backward()
                optimizer.step()
        self._net = net.to("cpu").eval()

    def predict_proba(self, features: pd.DataFrame) -> Probabilities:
        if self._net is None:
            raise RuntimeError("the lstm is not fitted")
        threads = torch.get_num_threads()
        if len(features) <= FEW_ROWS:  # a live row: one thread (see LightGbmModel.predict_proba)
            torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                logits = self._net(torch.from_numpy(self._sequences(features)))
        finally:
            torch.set_num_threads(threads)
        p_up = torch.sigmoid(logits).numpy().astype(np.float64)
        return np.column_stack([1.0 - p_up, p_up])

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}
