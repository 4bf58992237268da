-- Issuer simulator (src/issuer/simulator.ts, docs/issuer.md): the card issuer behind the `Issuer`
-- interface. Test cards, their PIN verification values, balances and a ledger of postings.
--
-- Invariant: issuer_cards.balance = SUM(issuer_postings.amount) of the card (checked by
-- `checkIssuerLedger`). Available funds = balance − active holds (pre-authorisations).
-- No clear PAN, PIN, key or track data is stored: cards are keyed by the HSM's PAN fingerprint,
-- keys are LMK-wrapped key blocks, PINs exist only as Visa PVVs.

-- The issuer's keys: the ZPK PIN blocks arrive under, and the PVK pair PVVs are computed with.
-- One row, created on the simulator's first open.
CREATE TABLE issuer_keys (
  id         integer PRIMARY KEY CHECK (id = 1),
  zpk_block  text NOT NULL CHECK (zpk_block <> ''),
  zpk_kcv    text NOT NULL CHECK (zpk_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  pvk_block  text NOT NULL CHECK (pvk_block <> ''),
  pvk_kcv    text NOT NULL CHECK (pvk_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  -- PIN verification key index written into new cards' PVVs (one decimal digit).
  pvki       integer NOT NULL DEFAULT 1 CHECK (pvki BETWEEN 0 AND 9),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE issuer_cards (
  card_id         text PRIMARY KEY CHECK (card_id ~ '^card_[0-9a-f]{12}$'),
  pan_fingerprint text NOT NULL UNIQUE CHECK (pan_fingerprint ~ '^[0-9a-f]{64}$'),
  masked_pan      text NOT NULL CHECK (masked_pan ~ '^[0-9*]{12,19}$'),
  expiry          text NOT NULL CHECK (expiry ~ '^[0-9]{2}(0[1-9]|1[0-2])$'),
  service_code    text NOT NULL CHECK (service_code ~ '^[0-9]{3}$'),
  -- Card without a PIN: both NULL.
  pvki            integer CHECK (pvki BETWEEN 0 AND 9),
  pvv             text CHECK (pvv ~ '^[0-9]{4}$'),
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'stolen', 'blocked')),
  currency        text NOT NULL DEFAULT '156' CHECK (currency ~ '^[0-9]{3}$'),
  -- Ledger balance in minor units (= sum of the card's postings); may go below zero only by a
  -- reversal of a credit.
  balance         bigint NOT NULL DEFAULT 0,
  -- Debits allowed per issuer day (minor units); NULL = no limit.
  daily_limit     bigint CHECK (daily_limit >= 0),
  -- Consecutive wrong PINs; 3 blocks PIN use (75) until `card unblock`; reset on a right PIN.
  pin_tries       integer NOT NULL DEFAULT 0 CHECK (pin_tries >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT issuer_cards_pin_pair CHECK ((pvki IS NULL) = (pvv IS NULL))
);

CREATE TRIGGER issuer_cards_updated_at BEFORE UPDATE ON issuer_cards
  FOR EACH ROW EXECUTE FUNCTION qd_set_updated_at();

-- Every request the issuer answered (and reversal tombstones), keyed by the acquirer reference:
-- a retransmission finds its row and gets the same answer without a second posting.
-- request_key = acquirer_id|merchant_no|terminal_no|rrn|stan.
CREATE TABLE issuer_requests (
  request_key     text PRIMARY KEY CHECK (length(request_key) BETWEEN 1 AND 300),
  acquirer_id     text NOT NULL,
  merchant_no     text NOT NULL,
  terminal_no     text NOT NULL,
  rrn             text NOT NULL,
  stan            text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('purchase', 'balance', 'preauth', 'preauth-completion', 'refund',
                                                'void', 'preauth-void', 'completion-void')),
  card_id         text REFERENCES issuer_cards (card_id),
  -- sha256 of what the request asked (kind, PAN fingerprint, amount, currency, original); NULL
  -- for a tombstone (a reversal that arrived before its original).
  content_hash    text CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  response_code   text CHECK (response_code ~ '^[0-9A-Z]{2}$'),
  auth_code       text CHECK (auth_code ~ '^[0-9A-Z]{6}$'),
  amount          bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
  balance_after   bigint,
  reason          text,
  -- What the request changed, for void / completion / reversal.
  posting_id      bigint,
  hold_id         bigint,
  original_key    text,
  received_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  reversed_at     timestamptz,
  reversal_reason text
);

CREATE INDEX issuer_requests_rrn ON issuer_requests (acquirer_id, merchant_no, terminal_no, rrn);
CREATE INDEX issuer_requests_card ON issuer_requests (card_id, created_at);

-- Pre-authorisation holds: reduce available funds until completed (captured) or released.
CREATE TABLE issuer_holds (
  id          bigserial PRIMARY KEY,
  card_id     text NOT NULL REFERENCES issuer_cards (card_id),
  request_key text NOT NULL UNIQUE,
  amount      bigint NOT NULL CHECK (amount > 0),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'captured', 'released')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX issuer_holds_card ON issuer_holds (card_id, status);

CREATE TRIGGER issuer_holds_updated_at BEFORE UPDATE ON issuer_holds
  FOR EACH ROW EXECUTE FUNCTION qd_set_updated_at();

-- The ledger. One posting per request at most (request_key UNIQUE: a retried request never posts
-- twice); a void or reversal posting names the posting it undoes (reverses UNIQUE: undone once).
-- Administrative postings (opening balance, adjustments) have request_key 'admin:<id>'.
CREATE TABLE issuer_postings (
  id          bigserial PRIMARY KEY,
  card_id     text NOT NULL REFERENCES issuer_cards (card_id),
  amount      bigint NOT NULL CHECK (amount <> 0),
  kind        text NOT NULL CHECK (kind IN ('deposit', 'adjustment', 'purchase', 'refund', 'void', 'completion',
                                            'completion-void', 'reversal')),
  request_key text NOT NULL UNIQUE,
  reverses    bigint UNIQUE REFERENCES issuer_postings (id),
  posted_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX issuer_postings_card ON issuer_postings (card_id, posted_at);

-- The ledger is append-only: a mistake is corrected by a new posting.
CREATE FUNCTION qd_issuer_postings_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'issuer_postings is append-only: % refused', TG_OP
    USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'issuer_postings_append_only';
END
$$;

CREATE TRIGGER issuer_postings_no_update_delete BEFORE UPDATE OR DELETE ON issuer_postings
  FOR EACH ROW EXECUTE FUNCTION qd_issuer_postings_append_only();
