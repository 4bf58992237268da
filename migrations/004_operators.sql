-- POS operators per merchant (UnionPay numbering): 00 supervisor, 01-98 cashiers, 99 system
-- administrator. Passwords are kept only as scrypt hashes (src/crypto/password.ts). Roles and
-- permissions are data: role_permissions is seeded with the defaults and can be edited; per-operator
-- grants and revokes override the role. Operator sessions record who is signed on at which terminal;
-- supervisor approvals are single-use permissions for one terminal. Times are written by the
-- application (its clock), in UTC. See docs/protocol-operators.md.

CREATE TABLE operator_permissions (
  permission  text PRIMARY KEY CHECK (permission ~ '^[a-z][a-z-]{1,39}$'),
  description text NOT NULL
);

INSERT INTO operator_permissions (permission, description) VALUES
  ('sale', 'purchase (consumption)'),
  ('balance', 'balance enquiry'),
  ('void', 'void of a purchase or pre-authorisation completion'),
  ('refund', 'refund (return)'),
  ('settle', 'settlement and batch upload'),
  ('manage-operators', 'add, disable, reset and re-permission operators'),
  ('reprint', 'reprint a slip'),
  ('preauth', 'pre-authorisation and its completion');

CREATE TABLE operator_roles (
  role        text PRIMARY KEY CHECK (role ~ '^[a-z][a-z0-9-]{1,39}$'),
  description text NOT NULL
);

INSERT INTO operator_roles (role, description) VALUES
  ('supervisor', 'operator 00: approves, manages cashiers'),
  ('cashier', 'operators 01-98'),
  ('admin', 'operator 99: system administrator');

CREATE TABLE role_permissions (
  role       text NOT NULL REFERENCES operator_roles (role),
  permission text NOT NULL REFERENCES operator_permissions (permission),
  PRIMARY KEY (role, permission)
);

INSERT INTO role_permissions (role, permission) VALUES
  ('supervisor', 'sale'), ('supervisor', 'balance'), ('supervisor', 'void'), ('supervisor', 'refund'),
  ('supervisor', 'settle'), ('supervisor', 'manage-operators'), ('supervisor', 'reprint'), ('supervisor', 'preauth'),
  ('cashier', 'sale'), ('cashier', 'balance'), ('cashier', 'reprint'),
  ('admin', 'manage-operators');

CREATE TABLE operators (
  merchant_no          text NOT NULL REFERENCES merchants (merchant_no),
  operator_no          text NOT NULL CHECK (operator_no ~ '^[0-9]{2}$'),
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  role                 text NOT NULL REFERENCES operator_roles (role),
  status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  password_hash        text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  failed_attempts      integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  locked_until         timestamptz,
  must_change_password boolean NOT NULL DEFAULT true,
  password_changed_at  timestamptz NOT NULL,
  created_by           text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 200),
  changed_by           text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 200),
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (merchant_no, operator_no),
  -- 00 is always the supervisor and 99 the administrator; cashiers (01-98) take any other role.
  CONSTRAINT operators_supervisor_role CHECK ((operator_no = '00') = (role = 'supervisor')),
  CONSTRAINT operators_admin_role CHECK ((operator_no = '99') = (role = 'admin'))
);

-- Per-operator overrides of the role: grant adds a permission, revoke removes one.
CREATE TABLE operator_grants (
  merchant_no text NOT NULL,
  operator_no text NOT NULL,
  permission  text NOT NULL REFERENCES operator_permissions (permission),
  effect      text NOT NULL CHECK (effect IN ('grant', 'revoke')),
  granted_by  text NOT NULL CHECK (length(granted_by) BETWEEN 1 AND 200),
  granted_at  timestamptz NOT NULL,
  PRIMARY KEY (merchant_no, operator_no, permission),
  FOREIGN KEY (merchant_no, operator_no) REFERENCES operators (merchant_no, operator_no)
);

-- Who is signed on at a terminal. At most one open session (ended_at IS NULL) per terminal.
CREATE TABLE operator_sessions (
  id             bigserial PRIMARY KEY,
  merchant_no    text NOT NULL,
  terminal_no    text NOT NULL,
  operator_no    text NOT NULL,
  signed_on_at   timestamptz NOT NULL,
  last_activity  timestamptz NOT NULL,
  ended_at       timestamptz,
  end_reason     text CHECK (end_reason IN ('sign-off', 'terminal-sign-off', 'settlement', 'idle', 'replaced', 'disabled', 'locked')),
  FOREIGN KEY (merchant_no, terminal_no) REFERENCES terminals (merchant_no, terminal_no),
  FOREIGN KEY (merchant_no, operator_no) REFERENCES operators (merchant_no, operator_no),
  CONSTRAINT operator_sessions_end_pair CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);

CREATE UNIQUE INDEX operator_sessions_one_open
  ON operator_sessions (merchant_no, terminal_no) WHERE ended_at IS NULL;
CREATE INDEX operator_sessions_operator ON operator_sessions (merchant_no, operator_no, id);

-- A supervisor's single-use approval of one permission at one terminal.
CREATE TABLE operator_approvals (
  id          bigserial PRIMARY KEY,
  merchant_no text NOT NULL,
  terminal_no text NOT NULL,
  permission  text NOT NULL REFERENCES operator_permissions (permission),
  approved_by text NOT NULL CHECK (approved_by ~ '^[0-9]{2}$'),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  used_by     text CHECK (used_by ~ '^[0-9]{2}$'),
  FOREIGN KEY (merchant_no, terminal_no) REFERENCES terminals (merchant_no, terminal_no),
  FOREIGN KEY (merchant_no, approved_by) REFERENCES operators (merchant_no, operator_no),
  CONSTRAINT operator_approvals_expiry CHECK (expires_at > created_at),
  CONSTRAINT operator_approvals_use_pair CHECK ((used_at IS NULL) = (used_by IS NULL))
);

CREATE INDEX operator_approvals_pending
  ON operator_approvals (merchant_no, terminal_no, permission) WHERE used_at IS NULL;
