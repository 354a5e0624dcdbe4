"""The Binance spot (testnet) venue adapter: signed REST, exchange filters, the user data stream."""
