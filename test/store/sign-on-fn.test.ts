/**
 * The one-round-trip sign-on (qd_sign_on, migrations/003_sign_on.sql) through issueKeys, the
 * grouping of concurrent calls into one statement (src/store/batch.ts), the joined
 * merchant/terminal look-up and batched connection-state updates — on PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import {
  addMerchant,
  addTerminal,
  listEvents,
  listKeyGenerations,
  requireTerminal,
  rotateKeys,
  setMerchantStatus,
  setTerminalParameters,
  setTerminalStatus,
  type TerminalRef,
} from '../../src/store/index.js';
import { issueKeys, type IssueKeysInput } from '../../src/store/keys.js';
import { getTerminalAndMerchant, setConnections } from '../../src/store/terminals.js';
import { describeBackends, merchantNo } from './helpers.js';

const hex = (n: number) => n.toString(16).toUpperCase().padStart(6, '0');

function input(ref: TerminalRef, i: number, extra: Partial<IssueKeysInput> = {}): IssueKeysInput {
  return {
    ...ref,
    scheme: '003',
    blocks: { pik: `S10096P0TE00E0000PIK${i}`, mak: `S10096M3TC00E0000MAK${i}` },
    kcvs: { pik: hex(i), mak: hex(i + 0x100000) },
    operatorNo: '01',
    address: `10.2.2.${i % 250}:5000`,
    ...extra,
  };
}

let terminalSeq = 0;
async function newTerminal(db: Db, m?: string): Promise<TerminalRef> {
  const merchant = m ?? merchantNo();
  if (m === undefined) await addMerchant(db, { merchantNo: merchant, name: 'Sign-on fn', mcc: '5411' });
  terminalSeq += 1;
  const terminalNo = `S${String(terminalSeq).padStart(7, '0')}`;
  await addTerminal(db, { merchantNo: merchant, terminalNo, tmkBlock: 'S10096K0TB00E0000TMK', tmkKcv: 'ABCDEF' });
  return { merchantNo: merchant, terminalNo };
}

/** A Db that counts the statements sent through it (the batching must send fewer than the calls). */
function counting(db: Db): { db: Db; count: () => number } {
  let n = 0;
  const wrapped: Db = {
    kind: db.kind,
    schema: db.schema,
    query: (sql, params) => {
      n += 1;
      return db.query(sql, params);
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
  return { db: wrapped, count: () => n };
}

async function currentGenerations(db: Db, ref: TerminalRef): Promise<number[]> {
  return (await listKeyGenerations(db, ref, 1000)).filter((g) => g.supersededAt === null).map((g) => g.generation);
}

describeBackends('sign-on in one statement', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('issues keys, stamps the terminal and appends keys.rotated with the audit columns', async () => {
    const ref = await newTerminal(db);
    await setTerminalParameters(db, ref, { host: '10.0.0.1' });
    const r = await issueKeys(db, {
      ...input(ref, 1, { scheme: '004', blocks: { pik: 'P', mak: 'M', tdk: 'T' }, kcvs: { pik: '0000AA', mak: '0000BB', tdk: '0000CC' } }),
      requireActive: true,
      actor: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
      origin: '10.2.2.1:5000',
      resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
    });
    if (r.outcome !== 'issued') throw new Error(`unexpected outcome ${r.outcome}`);
    expect(r.generation).toBe(1);
    expect(r.paramsVersion).toBe(1);
    expect(r.paramsDownloadedVersion).toBe(0);
    const t = await requireTerminal(db, ref);
    expect(t).toMatchObject({ keyGeneration: 1, lastSignOnOperator: '01', lastAddress: '10.2.2.1:5000', rekeyRequested: false });
    expect(t.keysIssuedAt?.getTime()).toBe(r.issuedAt.getTime());
    expect(t.lastSignOnAt?.getTime()).toBe(r.issuedAt.getTime());
    const [e] = await listEvents(db, { ...ref, type: 'keys.rotated' });
    expect(e).toMatchObject({
      ok: true,
      operatorNo: '01',
      actor: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
      origin: '10.2.2.1:5000',
      resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
      detail: { generation: 1, scheme: '004', pikKcv: '0000AA', makKcv: '0000BB', tdkKcv: '0000CC', address: '10.2.2.1:5000' },
    });
  });

  it('requireActive refuses a disabled terminal or an inactive merchant under the lock and writes nothing', async () => {
    const disabled = await newTerminal(db);
    await setTerminalStatus(db, disabled, 'disabled');
    expect(await issueKeys(db, { ...input(disabled, 1), requireActive: true })).toEqual({ outcome: 'terminal-inactive', status: 'disabled' });

    const suspended = await newTerminal(db);
    await setMerchantStatus(db, suspended.merchantNo, 'suspended');
    expect(await issueKeys(db, { ...input(suspended, 1), requireActive: true })).toEqual({ outcome: 'merchant-inactive', status: 'suspended' });

    for (const ref of [disabled, suspended]) {
      expect((await requireTerminal(db, ref)).keyGeneration).toBe(0);
      expect(await listKeyGenerations(db, ref)).toHaveLength(0);
      expect(await listEvents(db, { ...ref, type: 'keys.rotated' })).toHaveLength(0);
    }
    // Without requireActive (rotateKeys) status is the caller's policy.
    expect(await rotateKeys(db, input(disabled, 2))).toBe(1);
    expect(await issueKeys(db, input({ merchantNo: '000000000000000', terminalNo: '00000000' }, 1))).toEqual({ outcome: 'not-found' });
  });

  it('groups concurrent calls into few statements; each caller gets its own result', async () => {
    const refs = await Promise.all(Array.from({ length: 8 }, () => newTerminal(db)));
    const c = counting(db);
    // 8 terminals x 5 sign-ons, interleaved, all at once.
    const calls = Array.from({ length: 40 }, (_, i) => ({ ref: refs[i % 8]!, i }));
    const results = await Promise.all(calls.map(({ ref, i }) => issueKeys(c.db, { ...input(ref, i + 1), requireActive: true })));
    expect(c.count()).toBeLessThan(10);
    for (const [k, ref] of refs.entries()) {
      const mine = results.filter((_, i) => i % 8 === k).map((r) => (r.outcome === 'issued' ? r.generation : -1));
      expect([...mine].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
      expect((await requireTerminal(db, ref)).keyGeneration).toBe(5);
      expect(await currentGenerations(db, ref)).toEqual([5]);
      // Each caller's generation carries that caller's blocks.
      const gens = await listKeyGenerations(db, ref);
      for (const [j, call] of calls.entries()) {
        if (call.ref !== ref) continue;
        const r = results[j]!;
        if (r.outcome !== 'issued') throw new Error('not issued');
        expect(gens.find((g) => g.generation === r.generation)?.pikBlock).toBe(`S10096P0TE00E0000PIK${call.i + 1}`);
      }
    }
  });

  it('a bad input in a batch fails only its own call', async () => {
    const a = await newTerminal(db);
    const b = await newTerminal(db);
    const settled = await Promise.allSettled([
      issueKeys(db, input(a, 1)),
      // A TDK without scheme 004 violates key_generations_tdk_scheme.
      issueKeys(db, input(b, 2, { blocks: { pik: 'P', mak: 'M', tdk: 'T' }, kcvs: { pik: '0000AA', mak: '0000BB', tdk: '0000CC' } })),
      issueKeys(db, input(a, 3)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ reason: 'CONSTRAINT' });
    expect((await requireTerminal(db, a)).keyGeneration).toBe(2);
    expect((await requireTerminal(db, b)).keyGeneration).toBe(0);
    expect(await listEvents(db, { ...b })).toHaveLength(0);
  });

  it('issueKeys inside a transaction runs on that transaction and rolls back with it', async () => {
    const ref = await newTerminal(db);
    await expect(
      db.transaction(async (tx) => {
        const r = await issueKeys(tx, input(ref, 1));
        expect(r).toMatchObject({ outcome: 'issued', generation: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await requireTerminal(db, ref)).keyGeneration).toBe(0);
    expect(await listEvents(db, { ...ref })).toHaveLength(0);
  });

  it('getTerminalAndMerchant: concurrent look-ups are grouped and answered per caller', async () => {
    const ref = await newTerminal(db);
    const other = await newTerminal(db);
    const c = counting(db);
    const [found, wrongMerchant, unknownMerchant, unknownTerminal] = await Promise.all([
      getTerminalAndMerchant(c.db, ref),
      getTerminalAndMerchant(c.db, { merchantNo: other.merchantNo, terminalNo: ref.terminalNo }),
      getTerminalAndMerchant(c.db, { merchantNo: '999999999999999', terminalNo: ref.terminalNo }),
      getTerminalAndMerchant(c.db, { merchantNo: ref.merchantNo, terminalNo: 'ZZZZZZZZ' }),
    ]);
    expect(c.count()).toBe(1);
    expect(found.merchant?.merchantNo).toBe(ref.merchantNo);
    expect(found.merchant?.status).toBe('active');
    expect(found.terminal).toMatchObject({ ...ref, status: 'active', tmkKcv: 'ABCDEF', keyGeneration: 0 });
    expect(wrongMerchant).toMatchObject({ merchant: { merchantNo: other.merchantNo }, terminal: null });
    expect(unknownMerchant).toEqual({ merchant: null, terminal: null });
    expect(unknownTerminal.terminal).toBeNull();
    expect(unknownTerminal.merchant?.merchantNo).toBe(ref.merchantNo);
    // Alone (a batch of one) gives the same answer.
    expect(await getTerminalAndMerchant(db, ref)).toEqual(found);
  });

  it('setConnections updates several terminals in one statement, keeping last_address when none is given', async () => {
    const a = await newTerminal(db);
    const b = await newTerminal(db);
    expect(await setConnections(db, [{ ...a, state: 'online', address: '10.3.3.3:1' }, { ...b, state: 'online', address: '10.3.3.4:2' }])).toBe(2);
    expect(
      await setConnections(db, [
        { ...a, state: 'offline' },
        { ...b, state: 'online', address: '10.3.3.5:3' },
        { merchantNo: '000000000000000', terminalNo: '00000000', state: 'offline' },
      ]),
    ).toBe(2);
    expect(await requireTerminal(db, a)).toMatchObject({ connectionState: 'offline', lastAddress: '10.3.3.3:1' });
    expect(await requireTerminal(db, b)).toMatchObject({ connectionState: 'online', lastAddress: '10.3.3.5:3' });
    expect(await setConnections(db, [])).toBe(0);
    await expect(setConnections(db, [{ ...a, state: 'sideways' as 'online' }])).rejects.toMatchObject({ reason: 'CONSTRAINT' });
  });
});

it('PostgreSQL pool size must be a positive integer (refused before connecting)', async () => {
  const { PostgresDb } = await import('../../src/store/postgres.js');
  for (const max of [0, -1, 2.5, Number.NaN]) {
    await expect(PostgresDb.open({ url: 'postgres://nobody@127.0.0.1:1/none', max })).rejects.toMatchObject({ reason: 'CONSTRAINT' });
  }
});
