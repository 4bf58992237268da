/**
 * Reversals end to end over TCP (both stores): after a terminal timeout the 0400 restores the
 * funds exactly once; a 0400 while the original is still in progress gets 96; unknown originals are
 * acknowledged (00) and recorded; an issuer timeout is answered 98 with a stand-in reversal; a
 * reversed void puts its purchase back.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import pino from 'pino';
import { recoverPending } from '../../src/host/recovery.js';
import { listJournal, listReversals } from '../../src/store/journal.js';
import { describeBackends } from '../store/helpers.js';
import { balanceOf, code, newCard, openTill, reversalFields, send, startTxFixture, txFields, type PlasticCard, type Till, type TxFixture, waitFor } from './transactions-kit.js';


describeBackends('transactions: reversal', (backend) => {
  let fx: TxFixture;
  let till: Till;
  let card: PlasticCard;

  beforeEach(async () => {
    fx = await startTxFixture(backend, { issuerTimeoutMs: 8_000 });
    card = await newCard(fx, { balance: 20_000, pin: '1234' });
  });
  afterEach(async () => {
    await till?.close();
    await fx?.close();
  });

  it('restores the funds exactly once after the terminal timed out (0400, 39 = 98)', async () => {
    till = await openTill(fx, '00', fx.host.port, 1_500);
    fx.issuer.setBehaviour({ delayMs: 6_000 }, card.cardId);
    const fields = txFields(till, 'purchase', { card, amount: 4_000 });
    await expect(send(till, 'purchase', fields, '000042')).rejects.toMatchObject({ reason: 'TIMEOUT' });
    const rev = reversalFields(fields, '98', card.pan);
    // Still being processed at the host: 96, nothing undone yet.
    const early = await till.client.request('0400', rev, { mac: true, stan: '000042' });
    expect(code(early)).toBe('96');
    await waitFor(async () => (await listJournal(fx.db, { terminalNo: till.terminalNo }))[0]?.status === 'approved');
    expect(await balanceOf(fx, card)).toBe(16_000);
    fx.issuer.setBehaviour(undefined, card.cardId);
    const r1 = await till.client.request('0400', rev, { mac: true, stan: '000042' });
    expect(code(r1)).toBe('00');
    expect(r1.message.mti).toBe('0410');
    expect(till.client.verifyResponseMac(r1)).toBe(true);
    expect(await balanceOf(fx, card)).toBe(20_000);
    // The terminal did not get the 0410 and sends the reversal again: no second credit.
    const r2 = await till.client.request('0400', rev, { mac: true, stan: '000042' });
    expect(code(r2)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(20_000);
    const [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ status: 'reversed', reversalReason: 'reversal 98' });
    const recs = await listReversals(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo });
    expect(recs.map((r) => r.outcome)).toEqual(['pending', 'reversed', 'already-reversed']);
    const postings = await fx.issuer.postings(card.cardId);
    expect(postings.filter((p) => p.kind === 'reversal')).toHaveLength(1);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('acknowledges the reversal of an unknown original (00) and records it', async () => {
    till = await openTill(fx);
    const fields = txFields(till, 'purchase', { card, amount: 100 });
    const r = await till.client.request('0400', reversalFields(fields, '06', card.pan), { mac: true, stan: '000999' });
    expect(code(r)).toBe('00');
    const recs = await listReversals(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo });
    expect(recs).toMatchObject([{ outcome: 'not-found', reasonCode: '06', stan: '000999' }]);
    expect(await balanceOf(fx, card)).toBe(20_000);
  });

  it('does not undo a declined original, nor an approved one whose amount differs', async () => {
    till = await openTill(fx);
    const declined = txFields(till, 'purchase', { card, amount: 100, cardOptions: { pin: '0000' } });
    expect(code(await send(till, 'purchase', declined, '000010'))).toBe('55');
    expect(code(await till.client.request('0400', reversalFields(declined, '98', card.pan), { mac: true, stan: '000010' }))).toBe('00');
    const ok = txFields(till, 'purchase', { card, amount: 300 });
    expect(code(await send(till, 'purchase', ok, '000011'))).toBe('00');
    const wrong = { ...reversalFields(ok, '98', card.pan), 4: '000000000299' };
    expect(code(await till.client.request('0400', wrong, { mac: true, stan: '000011' }))).toBe('00');
    expect(await balanceOf(fx, card)).toBe(19_700);
    const recs = await listReversals(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo });
    expect(recs.map((r) => r.outcome)).toEqual(['not-approved', 'mismatch']);
  });

  it('answers A0 to a reversal with a bad MAC and undoes nothing', async () => {
    till = await openTill(fx);
    const f = txFields(till, 'purchase', { card, amount: 300 });
    expect(code(await send(till, 'purchase', f, '000020'))).toBe('00');
    const bad = { ...reversalFields(f, '98', card.pan), 64: Buffer.alloc(8, 1) };
    expect(code(await till.client.request('0400', bad, { stan: '000020' }))).toBe('A0');
    expect(await balanceOf(fx, card)).toBe(19_700);
  });

  it('answers 98 when the issuer times out and reverses at the issuer (stand-in); recovery finishes what the link left', async () => {
    await fx.close();
    fx = await startTxFixture(backend, { issuerTimeoutMs: 300 });
    card = await newCard(fx, { balance: 20_000, pin: '1234' });
    till = await openTill(fx);
    // The issuer processes the purchase, but its answer is lost: 98 and a stand-in reversal.
    fx.issuer.setBehaviour({ timeout: 'after-processing' }, card.cardId);
    const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 5_000 }));
    expect(code(rsp)).toBe('98');
    expect(till.client.verifyResponseMac(rsp)).toBe(true);
    // The stand-in reversal was processed too (funds back) but its answer was lost as well: the
    // entry stays pending for recovery.
    expect(await balanceOf(fx, card)).toBe(20_000);
    let [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ status: 'pending' });
    expect(entry?.panCipher).toMatch(/^[0-9a-f]+$/);
    fx.issuer.setBehaviour(undefined, card.cardId);
    const report = await recoverPending({ db: fx.db, hsm: fx.hsm, issuer: fx.issuer, logger: pino({ level: 'silent' }) });
    expect(report).toEqual({ pending: 1, reversed: 1, left: 0 });
    [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ status: 'reversed', responseCode: '96', panCipher: null });
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect((await fx.issuer.postings(card.cardId)).filter((p) => p.kind === 'reversal')).toHaveLength(1);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('answers 98 when the issuer never answers; the 0400 later reverses the entry left pending', async () => {
    await fx.close();
    fx = await startTxFixture(backend, { issuerTimeoutMs: 300 });
    card = await newCard(fx, { balance: 20_000, pin: '1234' });
    till = await openTill(fx);
    fx.issuer.setBehaviour({ timeout: true }, card.cardId);
    // The stand-in reversal meets the same dead link: the entry stays pending, nothing was posted.
    const fields = txFields(till, 'purchase', { card, amount: 5_000 });
    expect(code(await send(till, 'purchase', fields, '000777'))).toBe('98');
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect((await listJournal(fx.db, { terminalNo: till.terminalNo }))[0]?.status).toBe('pending');
    // A retransmission meanwhile: 96, never a second attempt at the issuer.
    expect(code(await send(till, 'purchase', fields, '000777'))).toBe('96');
    // The link is back; the terminal's reversal settles the orphan entry.
    fx.issuer.setBehaviour(undefined, card.cardId);
    expect(code(await till.client.request('0400', reversalFields(fields, '98', card.pan), { mac: true, stan: '000777' }))).toBe('00');
    expect((await listJournal(fx.db, { terminalNo: till.terminalNo }))[0]).toMatchObject({ status: 'reversed', panCipher: null });
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('the periodic sweep reverses an entry left pending once the issuer answers again', async () => {
    await fx.close();
    fx = await startTxFixture(backend, { issuerTimeoutMs: 300, recoveryIntervalMs: 200, recoveryAgeMs: 0 });
    card = await newCard(fx, { balance: 20_000 });
    till = await openTill(fx);
    fx.issuer.setBehaviour({ timeout: true }, card.cardId);
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 5_000, cardOptions: { pin: null } })))).toBe('98');
    expect((await listJournal(fx.db, { terminalNo: till.terminalNo }))[0]?.status).toBe('pending');
    fx.issuer.setBehaviour(undefined, card.cardId);
    await waitFor(async () => (await listJournal(fx.db, { terminalNo: till.terminalNo }))[0]?.status === 'reversed');
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('reversing a void puts the purchase back (approved, debited again)', async () => {
    till = await openTill(fx);
    const p = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 2_000 }));
    expect(code(p)).toBe('00');
    const vf = txFields(till, 'void', { card, amount: 2_000, original: { batchNo: till.client.batchNo, stan: p.message.get(11)! } });
    expect(code(await send(till, 'void', vf, '000300'))).toBe('00');
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect(code(await till.client.request('0400', reversalFields(vf, 'A0', card.pan), { mac: true, stan: '000300' }))).toBe('00');
    expect(await balanceOf(fx, card)).toBe(18_000);
    const rows = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(rows.map((r) => [r.kind, r.status])).toEqual([
      ['purchase', 'approved'],
      ['void', 'reversed'],
    ]);
  });
});
