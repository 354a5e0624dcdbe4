"""Kestrel backtest service."""
