-- Risk rules, the observations their windows count, rule firings, monitoring alerts.
-- All times are timestamptz (UTC instants); rules convert to the merchant's time zone.
-- Cards are identified only by Hsm.panFingerprint (never a PAN).

-- Rule definitions stored as data. scope '*' applies to every merchant (overriding the built-in
-- defaults with the same rule_id, or adding a rule); a merchant number applies to that merchant
-- only. `rule` is a JSON object: a full definition {kind, params, outcome, responseCode, enabled}
-- or, when a rule with the same id is inherited, a patch of it (params merged key by key).
CREATE TABLE risk_rules (
  scope      text NOT NULL CHECK (scope = '*' OR scope ~ '^[0-9A-Za-z]{15}$'),
  rule_id    text NOT NULL CHECK (rule_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  rule       jsonb NOT NULL CHECK (jsonb_typeof(rule) = 'object'),
  updated_by text CHECK (length(updated_by) BETWEEN 1 AND 200),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, rule_id)
);

-- What RiskEngine.record writes: one row per financial request that reached a result.
-- Velocity and card-then-QR rules query these by key and time.
CREATE TABLE risk_observations (
  id               bigserial PRIMARY KEY,
  at               timestamptz NOT NULL,
  merchant_no      text NOT NULL,
  terminal_no      text NOT NULL,
  operator_no      text,
  card_fingerprint text CHECK (length(card_fingerprint) BETWEEN 1 AND 128),
  channel          text NOT NULL CHECK (channel IN ('card', 'qr')),
  kind             text NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
  amount           bigint NOT NULL CHECK (amount >= 0),
  result           text NOT NULL CHECK (result IN ('approved', 'declined')),
  reference        text NOT NULL CHECK (length(reference) BETWEEN 1 AND 64)
);

CREATE INDEX risk_observations_terminal ON risk_observations (merchant_no, terminal_no, at);
CREATE INDEX risk_observations_operator ON risk_observations (merchant_no, operator_no, at) WHERE operator_no IS NOT NULL;
CREATE INDEX risk_observations_card ON risk_observations (card_fingerprint, at) WHERE card_fingerprint IS NOT NULL;
CREATE INDEX risk_observations_merchant ON risk_observations (merchant_no, channel, at);
CREATE INDEX risk_observations_at ON risk_observations (at);

-- Each rule that fired on a request, with its reason (written by RiskEngine.evaluate).
CREATE TABLE risk_firings (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL,
  reference     text NOT NULL,
  merchant_no   text NOT NULL,
  terminal_no   text NOT NULL,
  rule_id       text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('flag', 'review', 'decline')),
  response_code text CHECK (response_code ~ '^[0-9A-Z]{2}$'),
  reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500)
);

CREATE INDEX risk_firings_reference ON risk_firings (reference);
CREATE INDEX risk_firings_merchant ON risk_firings (merchant_no, at);

-- Alerts for monitoring. dedupe_key (when set) makes raising idempotent: a second alert with the
-- same key is not raised. subject + event_at let the monitor suppress repeats within a window.
CREATE TABLE alerts (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
  severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  merchant_no     text,
  terminal_no     text,
  operator_no     text,
  subject         text,
  summary         text NOT NULL CHECK (length(summary) BETWEEN 1 AND 500),
  detail          jsonb,
  dedupe_key      text UNIQUE,
  event_at        timestamptz,
  raised_at       timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by text CHECK (length(acknowledged_by) BETWEEN 1 AND 200),
  CONSTRAINT alerts_ack_pair CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);

CREATE INDEX alerts_open ON alerts (raised_at) WHERE acknowledged_at IS NULL;
CREATE INDEX alerts_subject ON alerts (kind, subject, event_at);
CREATE INDEX alerts_merchant ON alerts (merchant_no, id);

-- Where each monitor has read the event log up to (events.id).
CREATE TABLE monitor_cursors (
  name       text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
  last_id    bigint NOT NULL DEFAULT 0 CHECK (last_id >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Network hosts each terminal has signed on from (learned by the sign-on monitor).
CREATE TABLE terminal_addresses (
  merchant_no   text NOT NULL,
  terminal_no   text NOT NULL,
  host          text NOT NULL CHECK (length(host) BETWEEN 1 AND 100),
  first_seen_at timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  PRIMARY KEY (merchant_no, terminal_no, host)
);
