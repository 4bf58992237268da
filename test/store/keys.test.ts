import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  addMerchant,
  addTerminal,
  currentAndGraceKeys,
  getKeyGeneration,
  listEvents,
  listKeyGenerations,
  openStore,
  requestRekey,
  requireTerminal,
  rotateKeys,
  type Db,
  type RotateKeysInput,
  type TerminalRef,
} from '../../src/store/index.js';
import { DATABASE_URL, describeBackends, merchantNo } from './helpers.js';

const hex = (n: number, width = 6) => n.toString(16).toUpperCase().padStart(width, '0');

function input(ref: TerminalRef, i: number, extra: Partial<RotateKeysInput> = {}): RotateKeysInput {
  return {
    ...ref,
    scheme: '003',
    blocks: { pik: `S10096P0TE00E0000PIK${i}`, mak: `S10096M3TC00E0000MAK${i}` },
    kcvs: { pik: hex(i), mak: hex(i + 0x100000) },
    operatorNo: '001',
    address: `10.1.1.${i % 250}:4000`,
    ...extra,
  };
}

async function newTerminal(db: Db, terminalNo = '50000001'): Promise<TerminalRef> {
  const m = merchantNo();
  await addMerchant(db, { merchantNo: m, name: 'Keys', mcc: '5411' });
  await addTerminal(db, { merchantNo: m, terminalNo, tmkBlock: 'S10096K0TB00E0000TMK', tmkKcv: 'ABCDEF' });
  return { merchantNo: m, terminalNo };
}

async function assertConsistent(db: Db, ref: TerminalRef, n: number): Promise<void> {
  const t = await requireTerminal(db, ref);
  expect(t.keyGeneration).toBe(n);
  const gens = await listKeyGenerations(db, ref, 1000);
  expect(gens.map((g) => g.generation).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  const current = gens.filter((g) => g.supersededAt === null);
  expect(current).toHaveLength(1);
  expect(current[0]?.generation).toBe(n);
  expect(t.keysIssuedAt?.getTime()).toBe(current[0]?.createdAt.getTime());
  // Each generation is superseded exactly when the next one was created.
  const byGen = new Map(gens.map((g) => [g.generation, g]));
  for (let g = 1; g < n; g++) {
    expect(byGen.get(g)?.supersededAt?.getTime()).toBe(byGen.get(g + 1)?.createdAt.getTime());
  }
}

describeBackends('working keys', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('rotateKeys issues generation 1, 2, ... and updates the terminal', async () => {
    const ref = await newTerminal(db);
    await requestRekey(db, ref);
    const g1 = await rotateKeys(db, input(ref, 1));
    expect(g1).toBe(1);
    const t = await requireTerminal(db, ref);
    expect(t).toMatchObject({ keyGeneration: 1, rekeyRequested: false, lastSignOnOperator: '001', lastAddress: '10.1.1.1:4000' });
    expect(t.keysIssuedAt).toBeInstanceOf(Date);
    expect(t.lastSignOnAt?.getTime()).toBe(t.keysIssuedAt?.getTime());

    const k1 = await getKeyGeneration(db, ref, 1);
    expect(k1).toMatchObject({
      ...ref,
      generation: 1,
      scheme: '003',
      pikBlock: 'S10096P0TE00E0000PIK1',
      makBlock: 'S10096M3TC00E0000MAK1',
      tdkBlock: null,
      pikKcv: '000001',
      tdkKcv: null,
      supersededAt: null,
    });

    expect(await rotateKeys(db, input(ref, 2, { address: null }))).toBe(2);
    expect((await requireTerminal(db, ref)).lastAddress).toBe('10.1.1.1:4000');
    await assertConsistent(db, ref, 2);

    const events = await listEvents(db, { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo, type: 'keys.rotated' });
    expect(events.map((e) => (e.detail as { generation: number }).generation)).toEqual([2, 1]);
    expect(JSON.stringify(events)).not.toContain('PIK');
  });

  it('scheme 004 carries a TDK; TDK/scheme mismatches and bad input are refused atomically', async () => {
    const ref = await newTerminal(db);
    const g = await rotateKeys(db, input(ref, 1, { scheme: '004', blocks: { pik: 'P', mak: 'M', tdk: 'T' }, kcvs: { pik: '0000AA', mak: '0000BB', tdk: '0000CC' } }));
    expect((await getKeyGeneration(db, ref, g))?.tdkBlock).toBe('T');

    await expect(rotateKeys(db, input(ref, 2, { scheme: '004' }))).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(
      rotateKeys(db, input(ref, 3, { blocks: { pik: 'P', mak: 'M', tdk: 'T' }, kcvs: { pik: '0000AA', mak: '0000BB', tdk: '0000CC' } })),
    ).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(rotateKeys(db, input(ref, 4, { scheme: '002' as '003' }))).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    // Nothing of the failed attempts stuck: counter, generations and events unchanged.
    await assertConsistent(db, ref, 1);
    expect(await listEvents(db, { terminalNo: ref.terminalNo, merchantNo: ref.merchantNo })).toHaveLength(1);
  });

  it('rotateKeys on an unknown terminal → NOT_FOUND', async () => {
    await expect(rotateKeys(db, input({ merchantNo: '000000000000000', terminalNo: '00000000' }, 1))).rejects.toMatchObject({
      reason: 'NOT_FOUND',
    });
  });

  it('20 concurrent rotateKeys on one terminal: counter 20, generations 1..20, exactly one current', async () => {
    const ref = await newTerminal(db);
    const gens = await Promise.all(Array.from({ length: 20 }, (_, i) => rotateKeys(db, input(ref, i + 1))));
    expect([...gens].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await assertConsistent(db, ref, 20);
  });

  it('concurrent rotations of different terminals do not interfere', async () => {
    const refs = await Promise.all([newTerminal(db, '51000001'), newTerminal(db, '51000002'), newTerminal(db, '51000003')]);
    await Promise.all(refs.flatMap((ref) => Array.from({ length: 5 }, (_, i) => rotateKeys(db, input(ref, i + 1)))));
    for (const ref of refs) await assertConsistent(db, ref, 5);
  });

  it('currentAndGraceKeys: current plus the previous generation inside the grace window', async () => {
    const ref = await newTerminal(db);
    expect(await currentAndGraceKeys(db, ref, 60)).toEqual({ current: null, previous: null });

    await rotateKeys(db, input(ref, 1));
    const one = await currentAndGraceKeys(db, ref, 60);
    expect(one.current?.generation).toBe(1);
    expect(one.previous).toBeNull();

    await rotateKeys(db, input(ref, 2));
    await rotateKeys(db, input(ref, 3));
    const three = await currentAndGraceKeys(db, ref, 3600);
    expect(three.current?.generation).toBe(3);
    expect(three.previous?.generation).toBe(2);
    expect(three.previous?.supersededAt).toBeInstanceOf(Date);

    // Grace window over (0 s): only the current generation.
    const none = await currentAndGraceKeys(db, ref, 0);
    expect(none.current?.generation).toBe(3);
    expect(none.previous).toBeNull();

    await expect(currentAndGraceKeys(db, ref, -1)).rejects.toMatchObject({ reason: 'CONSTRAINT' });
  });
});

it.skipIf(!DATABASE_URL)('two processes (separate pools) rotating the same terminal stay consistent', async () => {
  const schema = `qd_test_${process.pid}_keys2p`;
  // Both start at once: schema creation and migrations serialise on advisory locks.
  const [a, b] = await Promise.all([
    openStore({ url: DATABASE_URL, schema, poolSize: 5 }),
    openStore({ url: DATABASE_URL, schema, poolSize: 5 }),
  ]);
  try {
    const ref = await newTerminal(a, '52000001');
    await Promise.all(Array.from({ length: 20 }, (_, i) => rotateKeys(i % 2 ? a : b, input(ref, i + 1))));
    await assertConsistent(b, ref, 20);
  } finally {
    await a.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await a.close();
    await b.close();
  }
});
