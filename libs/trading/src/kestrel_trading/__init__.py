"""Trading logic shared by the live services and the backtester (pure: no Kafka, Redis, SQL or HTTP).

Modules: domain (Side, Bar, Fill), instruments (exchange filters), sizing, risk (pre-trade checks),
orders (the order state machine), paper (the paper fill model), portfolio (positions, cash, P&L).
"""
