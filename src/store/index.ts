export type { Db, DbKind, QueryResult } from './db.js';
export { StoreError, isStoreError, toStoreError, type StoreErrorReason } from './errors.js';
export { openStore, dropSchema, type OpenStoreOptions } from './open.js';
export { PgliteDb, type PgliteOptions } from './pglite.js';
export { PostgresDb, type PostgresOptions } from './postgres.js';
export {
  migrate,
  loadMigrations,
  migrationChecksum,
  DEFAULT_MIGRATIONS_DIR,
  type MigrateResult,
  type MigrationFile,
} from './migrate.js';
export {
  addMerchant,
  getMerchant,
  requireMerchant,
  listMerchants,
  setMerchantStatus,
  updateMerchant,
  type Merchant,
  type MerchantStatus,
  type NewMerchant,
  type MerchantPatch,
  type ListMerchantsOptions,
} from './merchants.js';
export {
  addTerminal,
  getTerminal,
  requireTerminal,
  listTerminals,
  setTerminalStatus,
  updateTerminalInfo,
  setTerminalTmk,
  requestRekey,
  recordStatus,
  setConnection,
  markAllOffline,
  markParamsDownloaded,
  setBatchNo,
  getTerminalAndMerchant,
  setConnections,
  type TerminalAndMerchant,
  type ConnectionUpdate,
  type Terminal,
  type TerminalRef,
  type TerminalStatus,
  type ConnectionState,
  type NewTerminal,
  type ListTerminalsOptions,
} from './terminals.js';
export {
  rotateKeys,
  issueKeys,
  currentAndGraceKeys,
  getKeyGeneration,
  listKeyGenerations,
  type KeyScheme,
  type KeyGeneration,
  type RotateKeysInput,
  type IssueKeysInput,
  type IssueKeysResult,
  type CurrentAndGraceKeys,
} from './keys.js';
export { appendEvent, listEvents, type StoreEvent, type NewEvent, type ListEventsOptions } from './events.js';
export {
  setMerchantParameters,
  getMerchantParameters,
  setTerminalParameters,
  getTerminalParameters,
  effectiveParameters,
  type Parameters,
  type ParameterPatch,
  type ParameterDocument,
  type EffectiveParameters,
} from './parameters.js';
