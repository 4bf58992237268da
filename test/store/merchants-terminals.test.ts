import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  addMerchant,
  addTerminal,
  getMerchant,
  getTerminal,
  listMerchants,
  listTerminals,
  markAllOffline,
  markParamsDownloaded,
  recordStatus,
  requestRekey,
  requireMerchant,
  requireTerminal,
  setBatchNo,
  setConnection,
  setMerchantStatus,
  setTerminalStatus,
  setTerminalTmk,
  StoreError,
  updateMerchant,
  updateTerminalInfo,
  type Db,
  type MerchantStatus,
  type TerminalStatus,
} from '../../src/store/index.js';
import { describeBackends, merchantNo } from './helpers.js';

async function reason(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  return (e as StoreError).reason;
}

describeBackends('merchants and terminals', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('adds, reads and lists merchants (camelCase, defaults, UTC instants)', async () => {
    const no = merchantNo();
    const before = Date.now();
    const m = await addMerchant(db, { merchantNo: no, name: '千岛便利店', mcc: '5411' });
    expect(m).toMatchObject({ merchantNo: no, name: '千岛便利店', mcc: '5411', timeZone: 'Asia/Shanghai', status: 'active' });
    expect(m.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(m.createdAt.getTime() - before)).toBeLessThan(60_000);
    expect(await getMerchant(db, no)).toEqual(m);
    expect(await getMerchant(db, '000000000000000')).toBeNull();
    await expect(requireMerchant(db, '000000000000000')).rejects.toMatchObject({ reason: 'NOT_FOUND' });

    const other = merchantNo();
    await addMerchant(db, { merchantNo: other, name: 'Closed', mcc: '5812', timeZone: 'Europe/Berlin', status: 'closed' });
    const all = await listMerchants(db);
    expect(all.map((x) => x.merchantNo)).toEqual(expect.arrayContaining([no, other]));
    expect(all.map((x) => x.merchantNo)).toEqual([...all.map((x) => x.merchantNo)].sort());
    expect((await listMerchants(db, { status: 'closed' })).map((x) => x.merchantNo)).toEqual([other]);
  });

  it('changes merchant status and details; updatedAt moves', async () => {
    const no = merchantNo();
    const m = await addMerchant(db, { merchantNo: no, name: 'A', mcc: '5411' });
    const s = await setMerchantStatus(db, no, 'suspended');
    expect(s.status).toBe('suspended');
    expect(s.updatedAt.getTime()).toBeGreaterThanOrEqual(m.updatedAt.getTime());
    const u = await updateMerchant(db, no, { name: 'B', timeZone: 'Asia/Urumqi' });
    expect(u).toMatchObject({ name: 'B', mcc: '5411', timeZone: 'Asia/Urumqi', status: 'suspended' });
    expect(await reason(setMerchantStatus(db, '000000000000000', 'active'))).toBe('NOT_FOUND');
  });

  it('typed merchant errors: duplicate, bad status, bad formats, unknown time zone', async () => {
    const no = merchantNo();
    await addMerchant(db, { merchantNo: no, name: 'Dup', mcc: '5411' });
    const dup = await addMerchant(db, { merchantNo: no, name: 'Dup', mcc: '5411' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(StoreError);
    expect(dup).toMatchObject({ reason: 'DUPLICATE', code: '23505', table: 'merchants', constraint: 'merchants_pkey' });
    expect((dup as Error).message).not.toContain(no);

    expect(await reason(setMerchantStatus(db, no, 'bogus' as MerchantStatus))).toBe('CONSTRAINT');
    expect(await reason(addMerchant(db, { merchantNo: merchantNo(), name: 'x', mcc: '5411', status: 'open' as MerchantStatus }))).toBe(
      'CONSTRAINT',
    );
    expect(await reason(addMerchant(db, { merchantNo: '12345', name: 'Short', mcc: '5411' }))).toBe('CONSTRAINT');
    expect(await reason(addMerchant(db, { merchantNo: merchantNo(), name: 'Bad MCC', mcc: '54A1' }))).toBe('CONSTRAINT');
    expect(await reason(addMerchant(db, { merchantNo: merchantNo(), name: 'TZ', mcc: '5411', timeZone: 'Mars/Olympus' }))).toBe(
      'CONSTRAINT',
    );
  });

  it('adds terminals with defaults; terminal numbers are unique per merchant only', async () => {
    const a = merchantNo();
    const b = merchantNo();
    await addMerchant(db, { merchantNo: a, name: 'A', mcc: '5411' });
    await addMerchant(db, { merchantNo: b, name: 'B', mcc: '5411' });
    const t = await addTerminal(db, { merchantNo: a, terminalNo: '10000001', model: 'A920', serial: 'SN1' });
    expect(t).toMatchObject({
      merchantNo: a,
      terminalNo: '10000001',
      model: 'A920',
      serial: 'SN1',
      status: 'active',
      tmkBlock: null,
      tmkKcv: null,
      batchNo: '000001',
      keyGeneration: 0,
      keysIssuedAt: null,
      lastSignOnAt: null,
      lastSignOnOperator: null,
      lastStatus: null,
      lastStatusAt: null,
      connectionState: 'offline',
      lastAddress: null,
      paramsVersion: 0,
      paramsDownloadedVersion: 0,
      rekeyRequested: false,
    });
    // Same terminal number under another merchant is fine.
    await addTerminal(db, { merchantNo: b, terminalNo: '10000001' });
    expect(await getTerminal(db, { merchantNo: a, terminalNo: '10000001' })).toEqual(t);
    expect(await getTerminal(db, { merchantNo: a, terminalNo: '99999999' })).toBeNull();
    await expect(requireTerminal(db, { merchantNo: a, terminalNo: '99999999' })).rejects.toMatchObject({ reason: 'NOT_FOUND' });

    await addTerminal(db, { merchantNo: a, terminalNo: '10000002', status: 'disabled' });
    expect((await listTerminals(db, { merchantNo: a })).map((x) => x.terminalNo)).toEqual(['10000001', '10000002']);
    expect((await listTerminals(db, { merchantNo: a, status: 'disabled' })).map((x) => x.terminalNo)).toEqual(['10000002']);
    expect((await listTerminals(db, { merchantNo: a, limit: 1, offset: 1 })).map((x) => x.terminalNo)).toEqual(['10000002']);
  });

  it('typed terminal errors: duplicate, unknown merchant, bad status, bad formats', async () => {
    const a = merchantNo();
    await addMerchant(db, { merchantNo: a, name: 'A', mcc: '5411' });
    await addTerminal(db, { merchantNo: a, terminalNo: '20000001' });
    expect(await reason(addTerminal(db, { merchantNo: a, terminalNo: '20000001' }))).toBe('DUPLICATE');

    const fk = await addTerminal(db, { merchantNo: '000000000000000', terminalNo: '20000001' }).catch((e: unknown) => e);
    expect(fk).toMatchObject({ reason: 'CONSTRAINT', code: '23503', constraint: 'terminals_merchant_no_fkey' });

    const ref = { merchantNo: a, terminalNo: '20000001' };
    expect(await reason(setTerminalStatus(db, ref, 'broken' as TerminalStatus))).toBe('CONSTRAINT');
    expect(await reason(addTerminal(db, { merchantNo: a, terminalNo: '123' }))).toBe('CONSTRAINT');
    expect(await reason(addTerminal(db, { merchantNo: a, terminalNo: '20000009', batchNo: '12' }))).toBe('CONSTRAINT');
    // A TMK block without its check value is refused.
    expect(await reason(addTerminal(db, { merchantNo: a, terminalNo: '20000010', tmkBlock: 'S0009...' }))).toBe('CONSTRAINT');
    expect(await reason(setTerminalStatus(db, { merchantNo: a, terminalNo: '29999999' }, 'disabled'))).toBe('NOT_FOUND');
  });

  it('terminal state updates', async () => {
    const a = merchantNo();
    await addMerchant(db, { merchantNo: a, name: 'A', mcc: '5411' });
    const ref = { merchantNo: a, terminalNo: '30000001' };
    await addTerminal(db, ref);

    expect((await setTerminalStatus(db, ref, 'disabled')).status).toBe('disabled');
    expect((await updateTerminalInfo(db, ref, { serial: 'SN-9' })).serial).toBe('SN-9');
    const info = await updateTerminalInfo(db, ref, { model: 'X990', serial: null });
    expect(info).toMatchObject({ model: 'X990', serial: null });

    const tmk = await setTerminalTmk(db, ref, { block: 'S10096B0TN00E0000ABCDEF', kcv: 'A1B2C3' });
    expect(tmk).toMatchObject({ tmkBlock: 'S10096B0TN00E0000ABCDEF', tmkKcv: 'A1B2C3', rekeyRequested: true });

    const st = await recordStatus(db, ref, { paper: 'ok', battery: 87, apps: ['pay'] });
    expect(st.lastStatus).toEqual({ paper: 'ok', battery: 87, apps: ['pay'] });
    expect(st.lastStatusAt).toBeInstanceOf(Date);

    const on = await setConnection(db, ref, 'online', '10.0.0.5:50123');
    expect(on).toMatchObject({ connectionState: 'online', lastAddress: '10.0.0.5:50123' });
    const off = await setConnection(db, ref, 'offline');
    expect(off).toMatchObject({ connectionState: 'offline', lastAddress: '10.0.0.5:50123' });
    await setConnection(db, ref, 'online');
    expect(await markAllOffline(db)).toBeGreaterThanOrEqual(1);
    expect((await requireTerminal(db, ref)).connectionState).toBe('offline');

    expect((await setBatchNo(db, ref, '000042')).batchNo).toBe('000042');
    expect((await requestRekey(db, ref)).rekeyRequested).toBe(true);
    expect((await listTerminals(db, { merchantNo: a, rekeyRequested: true })).length).toBe(1);

    // No parameters yet: a download confirmation cannot run ahead of paramsVersion.
    expect((await markParamsDownloaded(db, ref, 5)).paramsDownloadedVersion).toBe(0);
    expect(await reason(recordStatus(db, { merchantNo: a, terminalNo: '39999999' }, {}))).toBe('NOT_FOUND');
  });
});
