-- qiandao store: initial schema.
-- All times are timestamptz (UTC instants). Key material is only ever stored as
-- key blocks wrapped under the LMK; clear keys never reach the database.
-- Objects are created unqualified, i.e. in the first schema of search_path.

CREATE FUNCTION qd_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- Merchants (card acceptor identification code, ISO 8583 field 42).
CREATE TABLE merchants (
  merchant_no text PRIMARY KEY CHECK (merchant_no ~ '^[0-9A-Za-z]{15}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  mcc         text NOT NULL CHECK (mcc ~ '^[0-9]{4}$'),
  time_zone   text NOT NULL DEFAULT 'Asia/Shanghai' CHECK (length(time_zone) BETWEEN 1 AND 64),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed', 'suspended')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER merchants_updated_at BEFORE UPDATE ON merchants
  FOR EACH ROW EXECUTE FUNCTION qd_set_updated_at();

-- Terminals (card acceptor terminal identification, field 41), unique within a merchant.
CREATE TABLE terminals (
  merchant_no               text NOT NULL REFERENCES merchants (merchant_no),
  terminal_no               text NOT NULL CHECK (terminal_no ~ '^[0-9A-Za-z]{8}$'),
  model                     text,
  serial                    text,
  status                    text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- Terminal master key as a key block under the LMK, and its check value.
  tmk_block                 text CHECK (tmk_block <> ''),
  tmk_kcv                   text CHECK (tmk_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  batch_no                  text NOT NULL DEFAULT '000001' CHECK (batch_no ~ '^[0-9]{6}$'),
  key_generation            integer NOT NULL DEFAULT 0 CHECK (key_generation >= 0),
  keys_issued_at            timestamptz,
  last_sign_on_at           timestamptz,
  last_sign_on_operator     text,
  last_status               jsonb,
  last_status_at            timestamptz,
  connection_state          text NOT NULL DEFAULT 'offline' CHECK (connection_state IN ('offline', 'online')),
  last_address              text,
  -- params_version: version the terminal should hold (bumped on every merchant or
  -- terminal parameter change); params_downloaded_version: last version it confirmed.
  params_version            integer NOT NULL DEFAULT 0 CHECK (params_version >= 0),
  params_downloaded_version integer NOT NULL DEFAULT 0 CHECK (params_downloaded_version >= 0),
  rekey_requested           boolean NOT NULL DEFAULT false,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_no, terminal_no),
  CONSTRAINT terminals_tmk_pair CHECK ((tmk_block IS NULL) = (tmk_kcv IS NULL))
);

CREATE INDEX terminals_terminal_no ON terminals (terminal_no);

CREATE TRIGGER terminals_updated_at BEFORE UPDATE ON terminals
  FOR EACH ROW EXECUTE FUNCTION qd_set_updated_at();

-- Working keys issued at sign-on, one row per generation. Exactly one current
-- (superseded_at IS NULL) generation per terminal, enforced by a partial unique index.
-- key_scheme (field 60.3): 001 single-length, 003 double-length, 004 double-length with TDK.
CREATE TABLE key_generations (
  merchant_no   text NOT NULL,
  terminal_no   text NOT NULL,
  generation    integer NOT NULL CHECK (generation >= 1),
  key_scheme    text NOT NULL CHECK (key_scheme IN ('001', '003', '004')),
  pik_block     text NOT NULL CHECK (pik_block <> ''),
  mak_block     text NOT NULL CHECK (mak_block <> ''),
  tdk_block     text CHECK (tdk_block <> ''),
  pik_kcv       text NOT NULL CHECK (pik_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  mak_kcv       text NOT NULL CHECK (mak_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  tdk_kcv       text CHECK (tdk_kcv ~ '^[0-9A-Fa-f]{4,16}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  superseded_at timestamptz,
  PRIMARY KEY (merchant_no, terminal_no, generation),
  FOREIGN KEY (merchant_no, terminal_no) REFERENCES terminals (merchant_no, terminal_no),
  CONSTRAINT key_generations_tdk_pair CHECK ((tdk_block IS NULL) = (tdk_kcv IS NULL)),
  CONSTRAINT key_generations_tdk_scheme CHECK ((key_scheme = '004') = (tdk_block IS NOT NULL))
);

CREATE UNIQUE INDEX key_generations_one_current
  ON key_generations (merchant_no, terminal_no) WHERE superseded_at IS NULL;

-- Parameters downloaded to terminals: a flat string->string document per merchant,
-- plus per-terminal overrides (terminal value wins). Each document has its own version.
CREATE TABLE merchant_parameters (
  merchant_no text PRIMARY KEY REFERENCES merchants (merchant_no),
  doc         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(doc) = 'object'),
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE terminal_parameters (
  merchant_no text NOT NULL,
  terminal_no text NOT NULL,
  doc         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(doc) = 'object'),
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_no, terminal_no),
  FOREIGN KEY (merchant_no, terminal_no) REFERENCES terminals (merchant_no, terminal_no)
);

-- Append-only audit log. No foreign keys: events may name unknown merchants or
-- terminals (a refused sign-on from an unregistered terminal is worth recording).
CREATE TABLE events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  type        text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
  merchant_no text,
  terminal_no text,
  operator_no text,
  ok          boolean NOT NULL,
  detail      jsonb
);

CREATE INDEX events_at ON events (at);
CREATE INDEX events_terminal ON events (merchant_no, terminal_no, id);
CREATE INDEX events_type ON events (type, id);

CREATE FUNCTION qd_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events is append-only: % refused', TG_OP
    USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'events_append_only';
END
$$;

CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION qd_events_append_only();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION qd_events_append_only();
