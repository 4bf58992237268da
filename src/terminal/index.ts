/** Terminal side of the UnionPay POS link: sign-on, working keys, echo, reconnect. */
export { TerminalClient, responseMtiOf } from './client.js';
export {
  DEFAULT_HEADER,
  type TerminalClientOptions,
  type TerminalEvents,
  type TerminalResponse,
  type RequestOptions,
  type TerminalHeader,
  type SignOnResult,
  type EchoResult,
  type CupFields,
  type CupMessage,
  type CupFieldValues,
} from './client-types.js';
export { TerminalError, isTerminalError, declined, type TerminalErrorReason, type TerminalErrorOptions } from './errors.js';
export { describeResponseCode, isKnownResponseCode, SIGN_ON_AGAIN_CODES } from './response-codes.js';
export {
  decryptWorkingKeys,
  workingKeyKcvs,
  wipeWorkingKeys,
  isKeyScheme,
  KEY_SCHEMES,
  KEY_BLOCK_LENGTH,
  type KeyScheme,
  type WorkingKeys,
  type WorkingKeyKcvs,
} from './working-keys.js';
export { StanCounter, STAN_MAX } from './stan.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { parseHostTime, formatHostTime } from './host-time.js';
export {
  TradeTerminal,
  tradeTerminal,
  purchase,
  balance,
  voidPurchase,
  refund,
  preauth,
  completion,
  preauthVoid,
  completionVoid,
  qrPurchase,
  settle,
  requireApproved,
  clockStan,
  type TradeKind,
  type TradeResult,
  type TradeOptions,
  type Card,
  type PurchaseInput,
  type BalanceInput,
  type VoidInput,
  type RefundInput,
  type CompletionInput,
  type QrPurchaseInput,
  type SettlementOutcome,
  type PendingReversal,
} from './trade.js';
export { TerminalBatch, nextBatchNo, batchSnapshot, restoreBatch, type BatchRecord, type BatchSnapshot } from './batch.js';
export { downloadParameters, type DownloadedParameters } from './parameters.js';
