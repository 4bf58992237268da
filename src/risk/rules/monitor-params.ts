/** Shared parts of the sign-on monitor's rule kinds (evaluated by the monitor, never by evaluate). */
import type { CompiledRule } from './definition.js';
import { oneOfParam } from './definition.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];

export function severityParam(ruleId: string, params: Record<string, unknown>, dflt: AlertSeverity): AlertSeverity {
  return oneOfParam(ruleId, params, 'severity', SEVERITIES) ?? dflt;
}

/** What a monitor kind compiles to for the transaction engine: never applies. */
export const INERT: CompiledRule = { applies: () => false, check: () => null };
