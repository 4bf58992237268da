/** A running host on a fresh store, with a merchant and terminals whose clear TMK the test knows. */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Hsm, WrappedKey } from '../../src/crypto/hsm/hsm.js';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { xor } from '../../src/crypto/cipher.js';
import { startHost, type HostOptions, type RunningHost } from '../../src/host/index.js';
import { addMerchant, addTerminal, type Db } from '../../src/store/index.js';
import { merchantNo as newMerchantNo, type Backend } from '../store/helpers.js';

/** Two clear components of the test TMK; the TMK is their XOR. */
export const TMK_COMPONENTS = [
  Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'),
  Buffer.from('1F1F1F1F0E0E0E0E2A2A2A2A15151515', 'hex'),
] as const;
export const CLEAR_TMK = xor(TMK_COMPONENTS[0], TMK_COMPONENTS[1]);

export interface Fixture {
  db: Db;
  hsm: SoftHsm;
  tmk: WrappedKey;
  host: RunningHost;
  merchantNo: string;
  /** Active terminal with the TMK loaded. */
  terminalNo: string;
  /** Log lines written by the host (JSON). */
  logs: string[];
  close(): Promise<void>;
}

let terminalCounter = 0;
export function newTerminalNo(): string {
  terminalCounter += 1;
  return `T${String(process.pid % 1000).padStart(3, '0')}${String(terminalCounter).padStart(4, '0')}`;
}

/** Add an active terminal with the test TMK under `merchantNo`. */
export async function addKeyedTerminal(db: Db, tmk: WrappedKey, merchantNo: string, terminalNo = newTerminalNo()): Promise<string> {
  await addTerminal(db, { merchantNo, terminalNo, tmkBlock: tmk.block, tmkKcv: tmk.kcv });
  return terminalNo;
}

export async function startFixture(
  backend: Backend,
  options: Partial<Omit<HostOptions, 'db' | 'logger'>> & { wrapHsm?: (hsm: Hsm) => Hsm } = {},
): Promise<Fixture> {
  const db = await backend.open();
  const hsm = await SoftHsm.open({ lmkHex: randomBytes(32).toString('hex') });
  const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [...TMK_COMPONENTS]);
  const merchantNo = newMerchantNo();
  await addMerchant(db, { merchantNo, name: 'Test shop', mcc: '5411' });
  const terminalNo = await addKeyedTerminal(db, tmk, merchantNo);
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) });
  const { wrapHsm, ...hostOptions } = options;
  const host = await startHost({ port: 0, idleTimeoutMs: 0, ...hostOptions, db, hsm: wrapHsm ? wrapHsm(hsm) : hsm, logger });
  return {
    db,
    hsm,
    tmk,
    host,
    merchantNo,
    terminalNo,
    logs,
    async close() {
      try {
        await host.close();
      } finally {
        await hsm.close();
        await backend.dispose(db);
      }
    },
  };
}

/** An Hsm whose generateKey waits `ms` first (keeps a sign-on in flight). */
export function slowHsm(hsm: Hsm, ms: number): Hsm {
  return new Proxy(hsm, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (prop === 'generateKey') {
        return async (...args: Parameters<Hsm['generateKey']>) => {
          await new Promise((r) => setTimeout(r, ms));
          return target.generateKey(...args);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
