/** JSON schemas shared by the routes (validation and the OpenAPI document). */
export const MERCHANT_NO = { type: 'string', pattern: '^[0-9A-Za-z]{15}$', description: 'Merchant number (field 42), 15 letters or digits' } as const;
export const TERMINAL_NO = { type: 'string', pattern: '^[0-9A-Za-z]{8}$', description: 'Terminal number (field 41), 8 letters or digits' } as const;
export const USERNAME = { type: 'string', pattern: '^[a-z][a-z0-9._-]{2,63}$', description: 'Unique user ID' } as const;
export const ROLE = { type: 'string', enum: ['platform-admin', 'merchant-admin', 'auditor'] } as const;
const DATE = { type: 'string', format: 'date-time' } as const;
const NULLABLE_DATE = { type: ['string', 'null'], format: 'date-time' } as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', description: 'Machine-readable error code' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
  required: ['type', 'title', 'status', 'code'],
  additionalProperties: true,
} as const;

export const userSchema = {
  $id: 'User',
  type: 'object',
  properties: {
    username: { type: 'string' },
    role: ROLE,
    status: { type: 'string', enum: ['active', 'disabled'] },
    disabledReason: { type: ['string', 'null'] },
    merchants: { type: 'array', items: { type: 'string' } },
    passwordChangedAt: DATE,
    mustChangePassword: { type: 'boolean' },
    failedAttempts: { type: 'integer' },
    lockedUntil: NULLABLE_DATE,
    lastSignInAt: NULLABLE_DATE,
    lastActivityAt: NULLABLE_DATE,
    createdAt: DATE,
    createdBy: { type: 'string' },
    updatedAt: DATE,
  },
} as const;

export const merchantSchema = {
  $id: 'Merchant',
  type: 'object',
  properties: {
    merchantNo: { type: 'string' },
    name: { type: 'string' },
    mcc: { type: 'string' },
    timeZone: { type: 'string' },
    status: { type: 'string', enum: ['active', 'suspended', 'closed'] },
    createdAt: DATE,
    updatedAt: DATE,
  },
} as const;

/** A terminal as the console shows it: no key blocks. */
export const terminalSchema = {
  $id: 'Terminal',
  type: 'object',
  properties: {
    merchantNo: { type: 'string' },
    terminalNo: { type: 'string' },
    model: { type: ['string', 'null'] },
    serial: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['active', 'disabled'] },
    tmkLoaded: { type: 'boolean' },
    tmkKcv: { type: ['string', 'null'] },
    batchNo: { type: 'string' },
    keyGeneration: { type: 'integer' },
    keysIssuedAt: NULLABLE_DATE,
    lastSignOnAt: NULLABLE_DATE,
    lastSignOnOperator: { type: ['string', 'null'] },
    lastStatus: {},
    lastStatusAt: NULLABLE_DATE,
    connectionState: { type: 'string', enum: ['offline', 'online'] },
    lastAddress: { type: ['string', 'null'] },
    paramsVersion: { type: 'integer' },
    paramsDownloadedVersion: { type: 'integer' },
    rekeyRequested: { type: 'boolean' },
    createdAt: DATE,
    updatedAt: DATE,
  },
} as const;

export const eventSchema = {
  $id: 'AuditEvent',
  type: 'object',
  properties: {
    id: { type: 'string' },
    at: DATE,
    type: { type: 'string' },
    ok: { type: 'boolean' },
    actor: { type: ['string', 'null'] },
    origin: { type: ['string', 'null'] },
    resource: { type: ['string', 'null'] },
    merchantNo: { type: ['string', 'null'] },
    terminalNo: { type: ['string', 'null'] },
    operatorNo: { type: ['string', 'null'] },
    detail: {},
  },
} as const;

export const credentialsSchema = {
  $id: 'IssuedCredentials',
  type: 'object',
  description: 'Shown once: the one-time password must be changed at first sign-in; the URI enrols an authenticator app',
  properties: {
    user: { $ref: 'User#' },
    initialPassword: { type: 'string' },
    totpUri: { type: 'string' },
  },
} as const;

export const SHARED_SCHEMAS = [problemSchema, userSchema, merchantSchema, terminalSchema, eventSchema, credentialsSchema];

/** Standard error responses for a guarded route. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: string }> {
  const out: Record<number, { $ref: string }> = {};
  for (const s of [400, 401, 403, ...statuses]) out[s] = { $ref: 'Problem#' };
  return out;
}

export const SECURITY: { [label: string]: string[] }[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
