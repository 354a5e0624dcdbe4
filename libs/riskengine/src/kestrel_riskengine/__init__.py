"""An account's decision engine: signals and manual orders -> sized, pre-trade-checked orders.

The risk service runs it against Kafka and Redis; the backtester's exact mode runs the very same
engine bar by bar in one process, so a backtest rejects what live would reject, with the same
reason codes. Pure apart from the ``RiskBook`` state it keeps: no I/O.
"""
