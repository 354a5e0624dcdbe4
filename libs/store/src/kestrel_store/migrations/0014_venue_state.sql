-- What execution knows of the venue's side of each order (kestrel_execution.venue.VenueState):
-- PENDING (stored, not yet answered: a crash may have come between storing and sending), ACKED (the
-- venue has or had it), UNKNOWN (a submit timed out or failed with "status unknown"). Orders that
-- are not ACKED are resolved by asking the venue by client order id before anything is re-sent.
ALTER TABLE trading.orders
    ADD COLUMN venue_state text NOT NULL DEFAULT 'ACKED'
        CHECK (venue_state IN ('PENDING', 'ACKED', 'UNKNOWN'));

CREATE INDEX orders_unresolved_idx ON trading.orders (broker, created_at)
    WHERE venue_state <> 'ACKED' AND status IN ('NEW', 'PARTIALLY_FILLED');
