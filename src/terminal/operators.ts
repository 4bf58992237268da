/**
 * Terminal side of the operator messages (docs/protocol-operators.md): operator sign-on (901),
 * sign-off (902), supervisor approval (903), password change (904) and management (905), each
 * MAC'ed under the session MAC key, passwords sent as ISO 9564 format 0 blocks under the session
 * PIN key with the account field of src/operators/pin-block.ts. The terminal must be signed on.
 *
 * The functions resolve with the host's answer (any response code) and reject only on transport
 * errors or bad arguments (TerminalError BAD_ARGUMENT, NOT_SIGNED_ON...).
 */
import { wipe } from '../crypto/cipher.js';
import { buildPinBlock, encryptPinBlock } from '../crypto/pinblock.js';
import { OPERATOR_CODE_MEANINGS, isPermission, normaliseOperatorNo, operatorPan, securityControl, type OperatorPermission } from '../operators/index.js';
import type { TerminalClient } from './client.js';
import type { HostOperatorRecord } from './operator-table.js';
import type { CupFieldValues, TerminalResponse } from './client-types.js';
import { TerminalError } from './errors.js';
import { describeResponseCode, isKnownResponseCode } from './response-codes.js';

export const OPERATOR_NETWORK_CODES = { signOn: '901', signOff: '902', approval: '903', passwordChange: '904', manage: '905', download: '906' } as const;

export interface OperatorAnswer {
  /** Field 39 ('' when absent). */
  responseCode: string;
  approved: boolean;
  /** What the code means, including qiandao's Q codes. */
  meaning: string;
  /** The response MAC verified under the session MAC key (false when absent or wrong). */
  macValid: boolean;
  /** Field 63 of the answer (operator number), when present. */
  operatorNo: string | null;
  /** Sign-on and password change: the operator's permissions from field 62. */
  permissions: string[];
}

export function describeOperatorCode(code: string): string {
  return OPERATOR_CODE_MEANINGS[code] ?? (isKnownResponseCode(code) ? describeResponseCode(code) : `unknown response code ${code}`);
}

function operatorNoArg(raw: string): string {
  const n = normaliseOperatorNo(raw);
  if (n === null) throw new TerminalError('BAD_ARGUMENT', 'operator number must be two digits 00-99');
  return n;
}

/** The encrypted password block for `operatorNo` at this terminal (format 0, session PIK). */
export function passwordBlock(client: TerminalClient, operatorNo: string, password: string): Buffer {
  const keys = client.workingKeys;
  if (keys === null) throw new TerminalError('NOT_SIGNED_ON', 'the terminal must be signed on first (no PIN key)');
  if (typeof password !== 'string' || !/^[0-9]{4,12}$/.test(password)) throw new TerminalError('BAD_ARGUMENT', 'password must be 4 to 12 digits');
  const clear = buildPinBlock({ format: 0, pin: password, pan: operatorPan(client.terminalNo, operatorNo) });
  try {
    return encryptPinBlock(keys.pik, clear);
  } finally {
    wipe(clear);
  }
}

function base(client: TerminalClient, code: string, operatorNo: string): CupFieldValues {
  return { 41: client.terminalNo, 42: client.merchantNo, 60: { 1: '00', 2: client.batchNo, 3: code }, 63: operatorNo };
}

function withPassword(client: TerminalClient, fields: CupFieldValues, operatorNo: string, password: string): CupFieldValues {
  const pik = client.workingKeys?.pik;
  return { ...fields, 52: passwordBlock(client, operatorNo, password), 53: securityControl(pik?.length ?? 16) };
}

function answer(client: TerminalClient, rsp: TerminalResponse): OperatorAnswer {
  const m = rsp.message;
  const code = m.get(39) ?? '';
  let perms: string[] = [];
  let op: string | null = null;
  try {
    op = m.get(63)?.trim() ?? null;
    const f62 = m.get(62);
    if (f62 !== undefined) perms = f62.toString('latin1').split(',').filter((p) => p !== '');
  } catch {
    // malformed optional fields: left empty
  }
  return {
    responseCode: code,
    approved: code === '00',
    meaning: describeOperatorCode(code),
    macValid: client.verifyResponseMac(rsp),
    operatorNo: op,
    permissions: perms,
  };
}

/** Operator sign-on (0800 / 901). */
export async function operatorSignOn(client: TerminalClient, operatorNo: string, password: string): Promise<OperatorAnswer> {
  const op = operatorNoArg(operatorNo);
  const rsp = await client.request('0800', withPassword(client, base(client, OPERATOR_NETWORK_CODES.signOn, op), op, password), { mac: true });
  return answer(client, rsp);
}

/** Operator sign-off (0820 / 902). */
export async function operatorSignOff(client: TerminalClient, operatorNo: string): Promise<OperatorAnswer> {
  const op = operatorNoArg(operatorNo);
  const rsp = await client.request('0820', base(client, OPERATOR_NETWORK_CODES.signOff, op), { mac: true });
  return answer(client, rsp);
}

/** A supervisor's single-use approval of `permission` for the operator signed on (0800 / 903). */
export async function supervisorApprove(
  client: TerminalClient,
  input: { permission: OperatorPermission; password: string; approverNo?: string },
): Promise<OperatorAnswer> {
  if (!isPermission(input.permission)) throw new TerminalError('BAD_ARGUMENT', `unknown permission ${String(input.permission)}`);
  const op = operatorNoArg(input.approverNo ?? '00');
  const fields = withPassword(client, base(client, OPERATOR_NETWORK_CODES.approval, op), op, input.password);
  const rsp = await client.request('0800', { ...fields, 62: Buffer.from(input.permission, 'ascii') }, { mac: true });
  return answer(client, rsp);
}

/** Change one's own password (0800 / 904); signs the operator on when approved. */
export async function changePassword(client: TerminalClient, operatorNo: string, oldPassword: string, newPassword: string): Promise<OperatorAnswer> {
  const op = operatorNoArg(operatorNo);
  const fields = withPassword(client, base(client, OPERATOR_NETWORK_CODES.passwordChange, op), op, oldPassword);
  const rsp = await client.request('0800', { ...fields, 62: passwordBlock(client, op, newPassword) }, { mac: true });
  return answer(client, rsp);
}

export type ManageCommand =
  | { action: 'add'; name: string; password: string }
  | { action: 'reset'; password: string }
  | { action: 'disable' | 'enable' | 'unlock' }
  | { action: 'grant' | 'revoke'; permission: OperatorPermission }
  | { action: 'role'; role: string };

/** Manage another operator from the terminal (0800 / 905) as the operator signed on. */
export async function manageOperator(client: TerminalClient, targetNo: string, cmd: ManageCommand): Promise<OperatorAnswer> {
  const op = operatorNoArg(targetNo);
  let text: string;
  let fields = base(client, OPERATOR_NETWORK_CODES.manage, op);
  switch (cmd.action) {
    case 'add':
      if (!/^[\x20-\x7e]{1,60}$/.test(cmd.name) || cmd.name.includes(':')) throw new TerminalError('BAD_ARGUMENT', 'name must be 1 to 60 printable ASCII characters');
      text = `add:${cmd.name}`;
      fields = withPassword(client, fields, op, cmd.password);
      break;
    case 'reset':
      text = 'reset';
      fields = withPassword(client, fields, op, cmd.password);
      break;
    case 'grant':
    case 'revoke':
      text = `${cmd.action}:${cmd.permission}`;
      break;
    case 'role':
      text = `role:${cmd.role}`;
      break;
    default:
      text = cmd.action;
  }
  const rsp = await client.request('0800', { ...fields, 62: Buffer.from(text, 'ascii') }, { mac: true });
  return answer(client, rsp);
}

/**
 * Download the merchant's operator list (0800 / 906), page by page: numbers, names, status and
 * permissions, never passwords — the input of OperatorTable.syncFromHost. Rejects with DECLINED
 * when the host refuses a page or its MAC does not verify, BAD_RESPONSE on a malformed page.
 */
export async function downloadOperators(client: TerminalClient, maxPages = 100): Promise<HostOperatorRecord[]> {
  const out: HostOperatorRecord[] = [];
  let from = '00';
  for (let page = 0; page < maxPages; page++) {
    const fields: CupFieldValues = { 41: client.terminalNo, 42: client.merchantNo, 60: { 1: '00', 2: client.batchNo, 3: OPERATOR_NETWORK_CODES.download }, 62: Buffer.from(from, 'ascii') };
    const rsp = await client.request('0800', fields, { mac: true });
    const code = rsp.message.get(39) ?? '';
    if (code !== '00') throw new TerminalError('DECLINED', `operator list download refused: ${code} ${describeOperatorCode(code)}`);
    if (!client.verifyResponseMac(rsp)) throw new TerminalError('DECLINED', 'operator list download: response MAC does not verify');
    const body = rsp.message.get(62) ?? Buffer.alloc(0);
    for (const rec of splitBytes(body, 0x1e)) {
      const [no, status, perms, name] = splitBytes(rec, 0x1f);
      const operatorNo = no?.toString('ascii') ?? '';
      const st = status?.toString('ascii');
      if (!/^[0-9]{2}$/.test(operatorNo) || (st !== 'active' && st !== 'disabled') || name === undefined) {
        throw new TerminalError('BAD_RESPONSE', 'operator list download: malformed record');
      }
      out.push({ operatorNo, status: st, permissions: (perms?.toString('ascii') ?? '').split(',').filter((p) => p !== ''), name: name.toString('utf8') });
    }
    const next = rsp.message.get(63)?.trim() ?? '--';
    if (next === '--') return out;
    if (!/^[0-9]{2}$/.test(next) || next <= from) throw new TerminalError('BAD_RESPONSE', 'operator list download: bad continuation');
    from = next;
  }
  throw new TerminalError('BAD_RESPONSE', 'operator list download: too many pages');
}

function splitBytes(buf: Buffer, sep: number): Buffer[] {
  if (buf.length === 0) return [];
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === sep) {
      parts.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}
