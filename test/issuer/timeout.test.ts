/** The host's own time limit on issuer calls. */
import { expect, it } from 'vitest';
import { IssuerUnavailableError, type Issuer, type IssuerRequest } from '../../src/issuer/issuer.js';
import { withIssuerTimeout } from '../../src/issuer/timeout.js';

const request: IssuerRequest = {
  kind: 'purchase',
  reference: { acquirerId: '00000000', merchantNo: '898110070110001', terminalNo: '10000001', rrn: '000000000001', stan: '000001', at: new Date() },
  pan: '6299900000000000018',
  amount: 100,
  currency: '156',
};

function slowIssuer(ms: number | null): Issuer {
  const wait = <T>(v: T): Promise<T> => (ms === null ? new Promise<T>(() => undefined) : new Promise<T>((r) => setTimeout(() => r(v), ms)));
  return {
    pinKey: () => wait({ usage: 'ZPK', algorithm: 'tdes', length: 16, kcv: '000000', block: 'x' }),
    authorize: () => wait({ responseCode: '00', authCode: '123456' }),
    reverse: () => wait({ responseCode: '00' }),
  };
}

it('an issuer that never answers fails with IssuerUnavailableError after the limit', async () => {
  const limited = withIssuerTimeout(slowIssuer(null), 50);
  const t0 = Date.now();
  await expect(limited.authorize(request)).rejects.toBeInstanceOf(IssuerUnavailableError);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  await expect(limited.pinKey()).rejects.toThrow(/did not answer the PIN key request within 50 ms/);
});

it('an answer inside the limit passes through unchanged', async () => {
  const limited = withIssuerTimeout(slowIssuer(5), 1000);
  expect(await limited.authorize(request)).toEqual({ responseCode: '00', authCode: '123456' });
  expect(() => withIssuerTimeout(slowIssuer(5), 0)).toThrow(RangeError);
});
