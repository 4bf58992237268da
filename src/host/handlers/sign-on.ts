/**
 * Terminal sign-on: 0800, 60.1 = 00, 60.3 = 001 / 003 / 004 -> 0810 with fresh working keys in
 * field 62, each encrypted (ECB) under the terminal master key and followed by a 4-byte check value.
 *
 * | 60.3 | field 62 |
 * |---|---|
 * | 001 | PIK(8) KCV(4) MAK(8) KCV(4) — 24 bytes |
 * | 003 | PIK(16) KCV(4) MAK(8) 00×8 KCV(4) — 40 bytes |
 * | 004 | as 003, then TDK(16) KCV(4) — 60 bytes |
 *
 * Keys are generated in the HSM and leave it only encrypted under the TMK; the store receives the
 * LMK-wrapped blocks (issueKeys: one statement that locks the terminal row, re-checks terminal and
 * merchant status, bumps the key generation and appends the `keys.rotated` event). Database work
 * per sign-on: the authorisation read (merchant joined with terminal, which also brings the TMK
 * block) and that one call. The response is built only after the call has committed.
 */
import type { ExportedKey, KeySpec, WrappedKey } from '../../crypto/hsm/hsm.js';
import { toHex } from '../../crypto/cipher.js';
import type { KeyScheme } from '../../store/index.js';
import { issueKeys } from '../../store/keys.js';
import { authorize } from '../authorize.js';
import type { HandlerResult, HostContext, HostRequest } from '../context.js';
import { localTimeFields } from '../local-time.js';
import { refuse } from '../refusal.js';
import { ResponseCode } from '../response-codes.js';
import { safeText, startResponse } from '../response.js';
import { terminalTmk } from '../tmk.js';

const EVENT = 'sign-on.refused';

interface SchemeKeys {
  pik: KeySpec;
  mak: KeySpec;
  tdk: KeySpec | null;
}

const SCHEMES: Record<KeyScheme, SchemeKeys> = {
  '001': { pik: { usage: 'PIK', algorithm: 'tdes', length: 8 }, mak: { usage: 'MAK', algorithm: 'tdes', length: 8 }, tdk: null },
  '003': { pik: { usage: 'PIK', algorithm: 'tdes', length: 16 }, mak: { usage: 'MAK', algorithm: 'tdes', length: 8 }, tdk: null },
  '004': {
    pik: { usage: 'PIK', algorithm: 'tdes', length: 16 },
    mak: { usage: 'MAK', algorithm: 'tdes', length: 8 },
    tdk: { usage: 'TDK', algorithm: 'tdes', length: 16 },
  },
};

function generate(ctx: HostContext, spec: KeySpec | null): Promise<WrappedKey | null> {
  return spec === null ? Promise.resolve(null) : ctx.hsm.generateKey(spec);
}

export function isSignOnScheme(code: string | undefined): code is KeyScheme {
  return code === '001' || code === '003' || code === '004';
}

/** Field 62 for `scheme` from the exported keys. */
export function buildKeyField(scheme: KeyScheme, pik: ExportedKey, mak: ExportedKey, tdk: ExportedKey | null): Buffer {
  const parts: Buffer[] = [pik.cryptogram, pik.kcv, mak.cryptogram];
  if (scheme !== '001') parts.push(Buffer.alloc(16 - mak.cryptogram.length));
  parts.push(mak.kcv);
  if (scheme === '004' && tdk !== null) parts.push(tdk.cryptogram, tdk.kcv);
  return Buffer.concat(parts);
}

export async function handleSignOn(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const msg = req.message;
  const f60 = msg.get(60);
  const scheme = f60?.[3];
  if (!isSignOnScheme(scheme)) {
    return refuse(ctx, req, { event: EVENT, code: ResponseCode.FunctionNotSupported, reason: `key scheme ${String(scheme)} not supported` });
  }
  const auth = await authorize(ctx, msg);
  if (!auth.ok) return refuse(ctx, req, { event: EVENT, code: auth.code, reason: auth.reason, detail: { scheme } });
  const { terminal, merchant } = auth;
  const tmk = terminalTmk(terminal);
  if (tmk === null) {
    return refuse(ctx, req, { event: EVENT, code: ResponseCode.TerminalNotRegistered, reason: 'no terminal master key loaded', detail: { scheme } });
  }

  const specs = SCHEMES[scheme];
  let pik: WrappedKey;
  let mak: WrappedKey;
  let tdk: WrappedKey | null;
  let pikX: ExportedKey;
  let makX: ExportedKey;
  let tdkX: ExportedKey | null;
  try {
    [pik, mak, tdk] = await Promise.all([ctx.hsm.generateKey(specs.pik), ctx.hsm.generateKey(specs.mak), generate(ctx, specs.tdk)]);
    [pikX, makX, tdkX] = await Promise.all([
      ctx.hsm.exportUnderKek(pik, tmk, 4),
      ctx.hsm.exportUnderKek(mak, tmk, 4),
      tdk === null ? Promise.resolve(null) : ctx.hsm.exportUnderKek(tdk, tmk, 4),
    ]);
  } catch (e) {
    // e.g. a TMK block that is not under this HSM's LMK. CryptoError messages carry no key material.
    const reason = e instanceof Error ? `HSM: ${e.message}` : 'HSM failure';
    return refuse(ctx, req, { event: EVENT, code: ResponseCode.SecurityProcessingFailed, reason, detail: { scheme } });
  }

  const operator = safeText(msg, 63)?.trim();
  const operatorNo = operator !== undefined && operator !== '' ? operator : null;
  const ref = `${terminal.merchantNo}/${terminal.terminalNo}`;
  const issued = await issueKeys(ctx.db, {
    merchantNo: terminal.merchantNo,
    terminalNo: terminal.terminalNo,
    scheme,
    blocks: { pik: pik.block, mak: mak.block, tdk: tdk?.block ?? null },
    kcvs: { pik: toHex(pikX.kcv), mak: toHex(makX.kcv), tdk: tdkX === null ? null : toHex(tdkX.kcv) },
    operatorNo,
    address: req.remoteAddress,
    // Terminal or merchant disabled since the authorisation read: refused under the row lock.
    requireActive: true,
    actor: `terminal:${ref}`,
    origin: req.remoteAddress,
    resource: `terminal:${ref}`,
  });
  switch (issued.outcome) {
    case 'issued':
      break;
    case 'not-found':
      return refuse(ctx, req, { event: EVENT, code: ResponseCode.TerminalNotRegistered, reason: 'terminal not registered', detail: { scheme } });
    case 'merchant-inactive':
      return refuse(ctx, req, { event: EVENT, code: ResponseCode.InvalidMerchant, reason: `merchant ${issued.status}`, detail: { scheme } });
    case 'terminal-inactive':
      return refuse(ctx, req, { event: EVENT, code: ResponseCode.NotPermittedOnTerminal, reason: `terminal ${issued.status}`, detail: { scheme } });
  }
  const { generation } = issued;

  const rsp = startResponse(msg, ResponseCode.Approved);
  const now = localTimeFields(new Date(), merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  if (ctx.acquirerId !== undefined) rsp.set(32, ctx.acquirerId);
  rsp.set(37, ctx.rrn.next());
  rsp.set(60, { 1: '00', 2: terminal.batchNo, 3: scheme });
  rsp.set(62, buildKeyField(scheme, pikX, makX, tdkX));
  req.logger.info(
    { terminalNo: terminal.terminalNo, merchantNo: terminal.merchantNo, scheme, generation, operatorNo },
    'terminal signed on',
  );
  // The terminal as the sign-on left it; processingRequirementFor reads the parameter versions from it.
  const signedOn = {
    ...terminal,
    keyGeneration: generation,
    keysIssuedAt: issued.issuedAt,
    lastSignOnAt: issued.issuedAt,
    lastSignOnOperator: operatorNo,
    lastAddress: req.remoteAddress,
    rekeyRequested: false,
    paramsVersion: issued.paramsVersion,
    paramsDownloadedVersion: issued.paramsDownloadedVersion,
  };
  return { response: rsp, terminal: signedOn, freshKeys: true };
}
