import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  addMerchant,
  addTerminal,
  effectiveParameters,
  getMerchantParameters,
  getTerminalParameters,
  listTerminals,
  markParamsDownloaded,
  setMerchantParameters,
  setTerminalParameters,
  type Db,
} from '../../src/store/index.js';
import { describeBackends, merchantNo } from './helpers.js';

describeBackends('parameters', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('merchant parameters, terminal overrides, versions and download tracking', async () => {
    const m = merchantNo();
    await addMerchant(db, { merchantNo: m, name: 'Params', mcc: '5411' });
    const t1 = { merchantNo: m, terminalNo: '70000001' };
    const t2 = { merchantNo: m, terminalNo: '70000002' };
    await addTerminal(db, t1);
    await addTerminal(db, t2);

    expect(await getMerchantParameters(db, m)).toEqual({ values: {}, version: 0, updatedAt: null });
    const v1 = await setMerchantParameters(db, m, { host: '10.0.0.1', port: '5000', timeout: '60' });
    expect(v1).toMatchObject({ values: { host: '10.0.0.1', port: '5000', timeout: '60' }, version: 1 });
    const v2 = await setMerchantParameters(db, m, { port: '5001', timeout: null });
    expect(v2).toMatchObject({ values: { host: '10.0.0.1', port: '5001' }, version: 2 });
    expect(await getMerchantParameters(db, m)).toEqual(v2);

    const o = await setTerminalParameters(db, t1, { port: '6000', receipt: '2' });
    expect(o).toMatchObject({ values: { port: '6000', receipt: '2' }, version: 1 });
    expect((await getTerminalParameters(db, t2)).version).toBe(0);

    const e1 = await effectiveParameters(db, t1);
    expect(e1).toEqual({ values: { host: '10.0.0.1', port: '6000', receipt: '2' }, version: 3, downloadedVersion: 0, pending: true });
    const e2 = await effectiveParameters(db, t2);
    expect(e2).toEqual({ values: { host: '10.0.0.1', port: '5001' }, version: 2, downloadedVersion: 0, pending: true });

    await markParamsDownloaded(db, t1, 3);
    expect(await effectiveParameters(db, t1)).toMatchObject({ version: 3, downloadedVersion: 3, pending: false });
    // Never backwards.
    expect((await markParamsDownloaded(db, t1, 1)).paramsDownloadedVersion).toBe(3);
    expect((await listTerminals(db, { merchantNo: m, paramsPending: true })).map((t) => t.terminalNo)).toEqual(['70000002']);

    // A merchant change makes every terminal pending again.
    await setMerchantParameters(db, m, { host: '10.0.0.2' });
    expect((await listTerminals(db, { merchantNo: m, paramsPending: true })).length).toBe(2);
    expect((await effectiveParameters(db, t1)).values.host).toBe('10.0.0.2');
  });

  it('typed errors', async () => {
    await expect(setMerchantParameters(db, '000000000000000', { a: 'b' })).rejects.toMatchObject({ reason: 'NOT_FOUND' });
    await expect(setTerminalParameters(db, { merchantNo: '000000000000000', terminalNo: '00000000' }, { a: 'b' })).rejects.toMatchObject({
      reason: 'NOT_FOUND',
    });
    await expect(effectiveParameters(db, { merchantNo: '000000000000000', terminalNo: '00000000' })).rejects.toMatchObject({
      reason: 'NOT_FOUND',
    });
    const m = merchantNo();
    await addMerchant(db, { merchantNo: m, name: 'P', mcc: '5411' });
    await expect(setMerchantParameters(db, m, { n: 5 as unknown as string })).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(setMerchantParameters(db, m, { '': 'x' })).rejects.toMatchObject({ reason: 'CONSTRAINT' });
  });
});
