-- Back-office users of the management API (src/console/), to PCI DSS v4 requirement 8:
-- unique user IDs (8.2.1), scrypt password hashes and the last four kept for the reuse check
-- (8.3.2, 8.3.7), lockout counters (8.3.4), TOTP secrets encrypted under an HSM data key
-- (8.4.2, 3.5), sessions stored only as SHA-256 of their bearer token (8.2.8 idle timeout), and
-- access reviews (7.2.4). Times are written by the application (its clock), in UTC.

CREATE TABLE console_users (
  username               text PRIMARY KEY CHECK (username ~ '^[a-z][a-z0-9._-]{2,63}$'),
  role                   text NOT NULL CHECK (role IN ('platform-admin', 'merchant-admin', 'auditor')),
  status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason        text CHECK (length(disabled_reason) BETWEEN 1 AND 200),
  password_hash          text NOT NULL,
  password_changed_at    timestamptz NOT NULL,
  must_change_password   boolean NOT NULL DEFAULT true,
  failed_attempts        integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  locked_until           timestamptz,
  last_sign_in_at        timestamptz,
  last_activity_at       timestamptz,
  created_at             timestamptz NOT NULL,
  created_by             text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 200),
  updated_at             timestamptz NOT NULL
);

-- Which merchants a merchant administrator may manage.
CREATE TABLE console_user_merchants (
  username    text NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  merchant_no text NOT NULL REFERENCES merchants (merchant_no),
  PRIMARY KEY (username, merchant_no)
);

-- The last four password hashes of each user (the current one included).
CREATE TABLE console_password_history (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL
);
CREATE INDEX console_password_history_user ON console_password_history (username, id);

-- TOTP (RFC 6238) secrets, AES-CBC under the console data key (console_keys), never in clear.
-- last_step: the last time step accepted, so a code cannot be replayed.
CREATE TABLE console_totp (
  username    text PRIMARY KEY REFERENCES console_users (username) ON DELETE CASCADE,
  secret_enc  text NOT NULL CHECK (secret_enc ~ '^[0-9a-f]+$'),
  iv          text NOT NULL CHECK (iv ~ '^[0-9a-f]{32}$'),
  last_step   bigint NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL
);

-- HSM keys the console uses, as LMK-wrapped key blocks.
CREATE TABLE console_keys (
  name       text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 50),
  key_block  text NOT NULL,
  kcv        text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Sessions: only the SHA-256 of the opaque bearer token is stored.
-- scope 'password-change': signed in with an expired or one-time password; only a change is allowed.
CREATE TABLE console_sessions (
  token_hash   text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  username     text NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
  scope        text NOT NULL CHECK (scope IN ('full', 'password-change')),
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  origin       text CHECK (length(origin) BETWEEN 1 AND 200)
);
CREATE INDEX console_sessions_user ON console_sessions (username);

-- Access reviews (PCI DSS 7.2.4): who reviewed, when, what was changed; one due every six months.
CREATE TABLE console_access_reviews (
  id          bigserial PRIMARY KEY,
  reviewed_by text NOT NULL CHECK (length(reviewed_by) BETWEEN 1 AND 200),
  reviewed_at timestamptz NOT NULL,
  notes       text NOT NULL CHECK (length(notes) <= 4000),
  changes     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(changes) = 'array'),
  accounts    integer NOT NULL CHECK (accounts >= 0)
);
