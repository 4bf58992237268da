-- The PAN fingerprint key (FPK, HMAC-SHA-256) under the LMK, created on first use
-- (src/transactions/pan-fingerprint.ts). Journal entries, issuer cards, risk observations and
-- settlement records match cards by the fingerprint it makes. Stored like every other key block,
-- so an LMK rotation (`qiandao lmk rewrap`) re-wraps it and the fingerprints stay the same.
CREATE TABLE pan_fingerprint_keys (
  id         integer PRIMARY KEY CHECK (id = 1),
  key_block  text NOT NULL CHECK (key_block <> ''),
  key_kcv    text NOT NULL CHECK (key_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
