-- Audit trail: the events table becomes the audit log (PCI DSS 10.2): who (actor), from where
-- (origin), on what (resource), besides type, time, outcome and detail.
--
-- Tamper evidence: a sealer links committed events into a hash chain in event_seals, in the order
-- it seals them (seq), each link hashing the event's canonical content with the previous link's
-- hash. Changing or deleting a sealed event, or a seal, breaks the chain at that link
-- (`qiandao audit verify`). Events not yet sealed (the last moments) are reported as such.
-- Sealing is done in batches by one sealer at a time (advisory lock), so appending an event
-- never waits on the chain.

ALTER TABLE events ADD COLUMN actor text CHECK (length(actor) BETWEEN 1 AND 200);
ALTER TABLE events ADD COLUMN origin text CHECK (length(origin) BETWEEN 1 AND 200);
ALTER TABLE events ADD COLUMN resource text CHECK (length(resource) BETWEEN 1 AND 200);

CREATE INDEX events_actor ON events (actor, id);

CREATE TABLE event_seals (
  seq       bigint PRIMARY KEY CHECK (seq >= 1),
  event_id  bigint NOT NULL UNIQUE,
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash      text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  sealed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER event_seals_no_update_delete BEFORE UPDATE OR DELETE ON event_seals
  FOR EACH ROW EXECUTE FUNCTION qd_events_append_only();

CREATE TRIGGER event_seals_no_truncate BEFORE TRUNCATE ON event_seals
  FOR EACH STATEMENT EXECUTE FUNCTION qd_events_append_only();
