"""One module per strategy, each defining ``STRATEGY: StrategyDef`` (found by ``registry``)."""
