-- Strategies close positions with EXIT signals (flat), besides BUY/SELL/HOLD: risk records them too.

ALTER TABLE trading.signals DROP CONSTRAINT IF EXISTS signals_action_check;
ALTER TABLE trading.signals ADD CONSTRAINT signals_action_check
    CHECK (action IN ('BUY', 'SELL', 'HOLD', 'EXIT'));
