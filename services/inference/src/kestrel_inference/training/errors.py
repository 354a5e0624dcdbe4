"""The one error a training run reports to its caller: a clear message, no traceback needed."""


class TrainingError(RuntimeError):
    """Bad input (unknown symbol, too few rows, bad option) or an unreachable dependency."""
