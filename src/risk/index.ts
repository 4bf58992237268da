/** Risk rules, the sign-on anomaly monitor and monitoring alerts. */
export type { RiskEngine, RiskTransaction, RiskDecision, RiskOutcome, RuleFiring, PaymentChannel } from './types.js';
export { createRiskEngine, strongestOutcome, type DefaultRiskEngine, type RiskEngineOptions, type RiskLogger } from './engine.js';
export { RiskError, type RiskErrorReason } from './errors.js';
export {
  DEFAULT_RULES,
  RULE_KINDS,
  compileRule,
  parsePatch,
  applyPatch,
  type RuleDefinition,
  type RulePatch,
  type RuleOutcome,
  type ResolvedRule,
  type WindowSpec,
  type WindowCounts,
  type WindowKey,
} from './rules/index.js';
export {
  ALL_MERCHANTS,
  listStoredRules,
  resolveRules,
  setRule,
  resetRules,
  type StoredRule,
  type SetRuleInput,
} from './rule-store.js';
export { recordObservation, pruneObservations } from './observations.js';
export { listFirings, type StoredFiring, type ListFiringsOptions } from './firings.js';
export {
  raiseAlert,
  listAlerts,
  getAlert,
  acknowledgeAlert,
  type Alert,
  type AlertSeverity,
  type NewAlert,
  type ListAlertsOptions,
} from './alerts.js';
export {
  runMonitorOnce,
  startMonitor,
  type MonitorOptions,
  type MonitorRunResult,
  type StartMonitorOptions,
  type MonitorHandle,
} from './monitor.js';
export { hostOf } from './address.js';
export { localTime, type LocalTime } from './local-time.js';
