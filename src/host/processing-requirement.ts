/**
 * The processing-requirement nibble of a response header: what the terminal should do next.
 *
 * - 3 (sign on again): the terminal's working keys are older than keyLifetimeSeconds, it never
 *   signed on, or a rekey was requested — except on a sign-on response (the keys are fresh).
 * - 1 (download parameters): parameters changed since the terminal last downloaded them.
 * - 0 otherwise, on refusals, and on a sign-off response.
 * Sign on again wins over download parameters: without valid keys the terminal cannot transact.
 */
import { ProcessingRequirement } from '../framing/index.js';
import { effectiveParameters } from '../store/index.js';
import type { HandlerResult, HostContext } from './context.js';

export async function processingRequirementFor(ctx: HostContext, result: HandlerResult, now: number = Date.now()): Promise<ProcessingRequirement> {
  const t = result.terminal;
  if (t === undefined || result.signedOff === true) return ProcessingRequirement.None;
  if (result.freshKeys !== true) {
    const issued = t.keysIssuedAt?.getTime();
    if (t.rekeyRequested || issued === undefined || now - issued > ctx.keyLifetimeSeconds * 1000) {
      return ProcessingRequirement.SignOnAgain;
    }
  }
  const params = await effectiveParameters(ctx.db, { merchantNo: t.merchantNo, terminalNo: t.terminalNo });
  return params.pending ? ProcessingRequirement.DownloadParameters : ProcessingRequirement.None;
}
