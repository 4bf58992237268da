-- Transaction journal, settlements and batch uploads (src/store/journal.ts, src/store/settlement.ts,
-- docs/protocol-transactions.md).
--
-- journal: one row per financial request (purchase, QR purchase, balance, void, refund, pre-auth,
-- pre-auth void, completion, completion void). The row is inserted 'pending' and committed before
-- the issuer is asked; it is made final (approved / declined) durably before the response is
-- sent. A reversal marks its original 'reversed'; an approved void marks its original 'voided'.
-- Pending rows found at host start are reversed with the issuer (src/host/recovery.ts).
--
-- No clear PAN, track, PIN block, key or MAC is stored: cards are keyed by the HSM's PAN
-- fingerprint and shown masked (an encrypted PAN is kept only while an entry is pending); `response` holds only the response fields needed to answer a
-- retransmission (39, 37, 38, 12, 13, 15, 44, 54).

CREATE TABLE journal (
  id              bigserial PRIMARY KEY,
  merchant_no     text NOT NULL,
  terminal_no     text NOT NULL,
  batch_no        text NOT NULL CHECK (batch_no ~ '^[0-9]{6}$'),
  stan            text NOT NULL CHECK (stan ~ '^[0-9]{6}$'),
  -- Merchant-local date the request was received, YYYYMMDD (part of the duplicate key).
  local_date      text NOT NULL CHECK (local_date ~ '^[0-9]{8}$'),
  kind            text NOT NULL CHECK (kind IN ('purchase', 'qr-purchase', 'balance', 'void', 'refund', 'preauth',
                                                'preauth-void', 'preauth-completion', 'completion-void')),
  mti             text NOT NULL CHECK (mti ~ '^[0-9]{4}$'),
  processing_code text NOT NULL CHECK (processing_code ~ '^[0-9]{6}$'),
  amount          bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
  currency        text NOT NULL CHECK (currency ~ '^[0-9]{3}$'),
  channel         text NOT NULL CHECK (channel IN ('card', 'qr')),
  card_class      text NOT NULL DEFAULT 'domestic' CHECK (card_class IN ('domestic', 'foreign')),
  pan_fingerprint text CHECK (pan_fingerprint ~ '^[0-9a-f]{64}$'),
  masked_pan      text CHECK (masked_pan ~ '^[0-9*]{1,19}$'),
  -- While the entry is pending only: the PAN encrypted (TDES-CBC, random IV) under the journal data
  -- key, so that crash recovery can reverse with the issuer; cleared when the entry becomes final.
  pan_cipher      text CHECK (pan_cipher ~ '^[0-9a-f]+$'),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'declined', 'reversed', 'voided')),
  -- Set when the row is final (and kept on reversal / void: what the terminal was told).
  response_code   text CHECK (response_code ~ '^[0-9A-Z]{2}$'),
  auth_code       text CHECK (auth_code ~ '^[0-9A-Z ]{6}$'),
  -- The host's retrieval reference number for this request (field 37 of the response); with
  -- acquirer_id, merchant, terminal and STAN it is the issuer reference.
  rrn             text NOT NULL CHECK (rrn ~ '^[0-9]{12}$'),
  acquirer_id     text NOT NULL,
  original_id     bigint REFERENCES journal (id),
  operator_no     text,
  -- sha256 (hex) of the request content compared on retransmission (docs/protocol-transactions.md).
  content_hash    text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  response        jsonb,
  reason          text,
  reversal_reason text,
  received_at     timestamptz NOT NULL DEFAULT now(),
  finalized_at    timestamptz,
  reversed_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT journal_final_has_code CHECK (status = 'pending' OR response_code IS NOT NULL),
  CONSTRAINT journal_cipher_pending_only CHECK (status = 'pending' OR pan_cipher IS NULL),
  CONSTRAINT journal_unique_request UNIQUE (merchant_no, terminal_no, batch_no, stan, local_date)
);

CREATE INDEX journal_batch ON journal (merchant_no, terminal_no, batch_no);
CREATE INDEX journal_rrn ON journal (merchant_no, rrn);
CREATE INDEX journal_original ON journal (original_id) WHERE original_id IS NOT NULL;
CREATE INDEX journal_pending ON journal (status) WHERE status = 'pending';
CREATE INDEX journal_auth ON journal (merchant_no, auth_code) WHERE kind = 'preauth';

CREATE TRIGGER journal_updated_at BEFORE UPDATE ON journal
  FOR EACH ROW EXECUTE FUNCTION qd_set_updated_at();

-- The journal data key (TDK) under the LMK, created on first use: encrypts pan_cipher.
CREATE TABLE journal_keys (
  id         integer PRIMARY KEY CHECK (id = 1),
  key_block  text NOT NULL CHECK (key_block <> ''),
  key_kcv    text NOT NULL CHECK (key_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Every 0400 received (retransmissions included), with what it did.
CREATE TABLE journal_reversals (
  id            bigserial PRIMARY KEY,
  merchant_no   text NOT NULL,
  terminal_no   text NOT NULL,
  batch_no      text NOT NULL CHECK (batch_no ~ '^[0-9]{6}$'),
  stan          text NOT NULL CHECK (stan ~ '^[0-9]{6}$'),
  amount        bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
  -- Field 39 of the 0400: 98 no reply, A0 MAC error, 06 other.
  reason_code   text NOT NULL CHECK (reason_code ~ '^[0-9A-Z]{2}$'),
  original_id   bigint REFERENCES journal (id),
  -- reversed: the original was undone now; others: nothing to undo.
  outcome       text NOT NULL CHECK (outcome IN ('reversed', 'not-found', 'already-reversed', 'not-approved',
                                                 'voided', 'mismatch', 'pending')),
  rrn           text NOT NULL CHECK (rrn ~ '^[0-9]{12}$'),
  operator_no   text,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX journal_reversals_terminal ON journal_reversals (merchant_no, terminal_no, batch_no, stan);

-- One row per settled batch (0500); closed by the batch-upload end (0320 207 / 202).
CREATE TABLE settlements (
  id              bigserial PRIMARY KEY,
  merchant_no     text NOT NULL,
  terminal_no     text NOT NULL,
  batch_no        text NOT NULL CHECK (batch_no ~ '^[0-9]{6}$'),
  stan            text NOT NULL CHECK (stan ~ '^[0-9]{6}$'),
  operator_no     text,
  -- { domestic: {debitAmount, debitCount, creditAmount, creditCount}, foreign: {...} }
  terminal_totals jsonb NOT NULL,
  host_totals     jsonb NOT NULL,
  domestic_agreed boolean NOT NULL,
  foreign_agreed  boolean NOT NULL,
  -- 60.3 of the batch-upload end (207 / 202) and the N4 count it carried.
  end_code        text CHECK (end_code IN ('202', '207')),
  uploaded_count  integer CHECK (uploaded_count >= 0),
  settled_at      timestamptz NOT NULL DEFAULT now(),
  closed_at       timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT settlements_batch UNIQUE (merchant_no, terminal_no, batch_no)
);

CREATE TRIGGER settlements_updated_at BEFORE UPDATE ON settlements
  FOR EACH ROW EXECUTE FUNCTION qd_set_updated_at();

-- Batch-upload records (0320, 60.3 = 201): PAN as fingerprint + mask only.
CREATE TABLE batch_uploads (
  id              bigserial PRIMARY KEY,
  merchant_no     text NOT NULL,
  terminal_no     text NOT NULL,
  batch_no        text NOT NULL CHECK (batch_no ~ '^[0-9]{6}$'),
  -- STAN of the 0320 that carried the record, and of the uploaded transaction.
  upload_stan     text NOT NULL CHECK (upload_stan ~ '^[0-9]{6}$'),
  record_stan     text NOT NULL CHECK (record_stan ~ '^[0-9]{6}$'),
  card_class      text NOT NULL CHECK (card_class IN ('domestic', 'foreign')),
  pan_fingerprint text CHECK (pan_fingerprint ~ '^[0-9a-f]{64}$'),
  masked_pan      text,
  amount          bigint NOT NULL CHECK (amount >= 0),
  -- The approved journal entry of the batch with this STAN and amount, when there is one.
  journal_id      bigint REFERENCES journal (id),
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX batch_uploads_batch ON batch_uploads (merchant_no, terminal_no, batch_no);
