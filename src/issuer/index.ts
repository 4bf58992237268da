/** The issuer boundary and the issuer simulator (docs/issuer.md). */
export {
  IssuerLockTimeoutError,
  IssuerUnavailableError,
  type Issuer,
  type IssuerReference,
  type IssuerRequest,
  type IssuerRequestKind,
  type IssuerResult,
  type IssuerReversal,
} from './issuer.js';
export {
  openIssuerSimulator,
  type AddedCard,
  type AdminActor,
  type IssuerBehaviour,
  type IssuerLogger,
  type IssuerSimulator,
  type IssuerSimulatorOptions,
  type NewCard,
} from './simulator.js';
export { CARD_STATUSES, type Card, type CardStatus, type ListCardsOptions } from './cards.js';
export { IssuerError, isIssuerError, type IssuerErrorReason } from './errors.js';
export { enrolPvv, ensureIssuerKeys, type IssuerKeys } from './keys.js';
export { checkIssuerLedger, type LedgerMismatch, type Posting, type PostingKind } from './ledger.js';
export { requestKey } from './requests.js';
export { withIssuerTimeout } from './timeout.js';
