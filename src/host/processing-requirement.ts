/**
 * The processing-requirement nibble of a response header: what the terminal should do next.
 *
 * - 3 (sign on again): the terminal's working keys are older than keyLifetimeSeconds, it never
 *   signed on, or a rekey was requested — except on a sign-on response (the keys are fresh).
 * - 1 (download parameters): parameters changed since the terminal last downloaded them.
 * - 0 otherwise, on refusals, and on a sign-off response.
 * Sign on again wins over download parameters: without valid keys the terminal cannot transact.
 *
 * The terminal in the result is the row the request was authorised with, or on a sign-on response
 * (freshKeys) the row as the sign-on's own statement left it; either carries the parameter
 * versions, so no further read is made.
 */
import { ProcessingRequirement } from '../framing/index.js';
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
  // The row read when the request was authorised (or written by the sign-on) carries both
  // parameter versions: no further read. A change made while this request is being handled shows
  // on the terminal's next response.
  return t.paramsVersion > t.paramsDownloadedVersion ? ProcessingRequirement.DownloadParameters : ProcessingRequirement.None;
}
