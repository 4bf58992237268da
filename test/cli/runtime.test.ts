/**
 * Runtime commands against a real host in this process: PGlite in memory, SoftHsm with a fixed
 * LMK, one merchant and 21 terminals whose TMK is formed from known components.
 *
 * The commands run through the real `main()` and the real command registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { combineComponents } from '../../src/crypto/components.js';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { startHost, type RunningHost } from '../../src/host/index.js';
import { addMerchant, addTerminal, openStore, setTerminalTmk, type Db } from '../../src/store/index.js';
import { startHostService } from '../../src/cli/commands/host.js';
import { openIssuerSimulator } from '../../src/issuer/index.js';
import { setRule } from '../../src/risk/index.js';
import { addOperator } from '../../src/store/operators.js';
import { tradeTerminal } from '../../src/terminal/index.js';
import { operatorSignOn } from '../../src/terminal/operators.js';
import { selfSignedCert } from '../helpers/self-signed-cert.js';
import { TerminalClient } from '../../src/terminal/index.js';
import { percentile, progressLine, runLimited, simTerminalNo, ttyProgress } from '../../src/terminal/sim/index.js';
import { runCli } from './run-cli.js';


const LMK = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const MID = '898110070110001';
const C1 = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
const C2 = Buffer.from('3131313131313131FEFEFEFEFEFEFEFE', 'hex');
const TIDS = ['12345678', ...Array.from({ length: 20 }, (_, i) => simTerminalNo('1000', i))];
const silent = pino({ level: 'silent' });

let db: Db;
let hsm: SoftHsm;
let host: RunningHost;
let dir: string;
let tmkFile: string;
let tmkHex: string;

beforeAll(async () => {
  db = await openStore({ dataDir: 'memory://' });
  hsm = await SoftHsm.open({ lmkHex: LMK, env: {}, logger: { warn: () => undefined } });
  await addMerchant(db, { merchantNo: MID, name: 'runtime test shop', mcc: '5411', timeZone: 'Asia/Shanghai' });
  const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [Buffer.from(C1), Buffer.from(C2)]);
  for (const terminalNo of TIDS) {
    await addTerminal(db, { merchantNo: MID, terminalNo, model: 'test' });
    await setTerminalTmk(db, { merchantNo: MID, terminalNo }, { block: tmk.block, kcv: tmk.kcv });
  }
  tmkHex = combineComponents([C1, C2], { alg: 'tdes' }).toString('hex').toUpperCase();
  dir = mkdtempSync(join(tmpdir(), 'qiandao-runtime-'));
  tmkFile = join(dir, 'tmk.hex');
  writeFileSync(tmkFile, tmkHex + '\n');
  host = await startHost({ port: 0, db, hsm, logger: silent });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await db?.close();
  await hsm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const signOnArgs = (over: Record<string, string> = {}): string[] => {
  const o: Record<string, string> = { host: '127.0.0.1', port: String(host.port), tid: '12345678', mid: MID, 'tmk-file': tmkFile, ...over };
  return ['terminal', 'sign-on', ...Object.entries(o).flatMap(([k, v]) => [`--${k}`, v])];
};

describe('qiandao terminal sign-on', () => {
  it('signs on and prints response, batch, verified check values, host time', async () => {
    const r = await runCli(signOnArgs());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/terminal 12345678 \(merchant 898110070110001\) signed on/);
    expect(r.stdout).toMatch(/response +00 approved/);
    expect(r.stdout).toMatch(/batch +\d{6}/);
    expect(r.stdout).toMatch(/PIK [0-9A-F]{8} {2}MAK [0-9A-F]{8} {2}TDK [0-9A-F]{8} {2}\(verified\)/);
    expect(r.stdout).toMatch(/host time +\d{4}-\d\d-\d\dT/);
    expect(r.stdout).toMatch(/processing req\. \d \(\w+\)/);
  });

  it('prints JSON with --json and supports scheme 001 (no TDK)', async () => {
    const r = await runCli([...signOnArgs({ scheme: '001' }), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { ok: boolean; responseCode: string; kcvs: { pik: string; mak: string; tdk?: string } };
    expect(j.ok).toBe(true);
    expect(j.responseCode).toBe('00');
    expect(j.kcvs.pik).toMatch(/^[0-9A-F]{8}$/);
    expect(j.kcvs.tdk).toBeUndefined();
  });

  it('exits 1 with 97 on stderr for a terminal the host does not know', async () => {
    const r = await runCli(signOnArgs({ tid: '99999999' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sign-on refused: 97 /);
    expect(r.stdout).toBe('');
  });

  it('exits 2 on a missing, non-hex or wrong-length TMK file and on a bad tid', async () => {
    const missing = await runCli(signOnArgs({ 'tmk-file': join(dir, 'nope.hex') }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --tmk-file .*no such file/);

    const bad = join(dir, 'bad.hex');
    writeFileSync(bad, 'not hex at all');
    const notHex = await runCli(signOnArgs({ 'tmk-file': bad }));
    expect(notHex.code).toBe(2);
    expect(notHex.stderr).toMatch(/not hex digits/);

    const short = join(dir, 'short.hex');
    writeFileSync(short, '0123456789ABCDEF01');
    const wrongLength = await runCli(signOnArgs({ 'tmk-file': short }));
    expect(wrongLength.code).toBe(2);
    expect(wrongLength.stderr).toMatch(/8, 16 or 24 bytes/);

    const tid = await runCli(signOnArgs({ tid: '1234567' }));
    expect(tid.code).toBe(2);
    expect(tid.stderr).toMatch(/--tid must be 8 characters/);

    const noPort = await runCli(['terminal', 'sign-on', '--tid', '12345678', '--mid', MID, '--tmk-file', tmkFile]);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toMatch(/--port is required/);
  });

  it('reports connection refused clearly, exit 1', async () => {
    const r = await runCli(signOnArgs({ port: String(await closedPort()) }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connection refused \(is the host running\?/);
  });
});

describe('qiandao sim signon', () => {
  const simArgs = (over: Record<string, string> = {}): string[] => {
    const o: Record<string, string> = {
      host: '127.0.0.1',
      port: String(host.port),
      mid: MID,
      'tid-prefix': '1000',
      terminals: '20',
      concurrency: '5',
      'tmk-file': tmkFile,
      ...over,
    };
    return ['sim', 'signon', ...Object.entries(o).flatMap(([k, v]) => [`--${k}`, v])];
  };

  it('signs 20 terminals on, 5 at a time, and prints the summary', async () => {
    const r = await runCli(simArgs());
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/sign-ons +20 succeeded, 0 failed of 20 \(concurrency 5\)/);
    expect(r.stdout).toMatch(/throughput +[\d.]+ sign-ons\/s/);
    expect(r.stdout).toMatch(/latency \(ms\) +p50 [\d.]+ {2}p95 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+/);
    expect(r.stdout).not.toMatch(/failures/);
  }, 60_000);

  it('--json summary; exits 1 and counts failures by response code', async () => {
    const ok = await runCli([...simArgs({ terminals: '3', concurrency: '2' }), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const j = JSON.parse(ok.stdout) as { succeeded: number; failures: Record<string, number>; latencyMs: { p50: number } };
    expect(j.succeeded).toBe(3);
    expect(j.failures).toEqual({});
    expect(j.latencyMs.p50).toBeGreaterThan(0);

    // Terminals 20000001..20000003 are not provisioned: 97 from the host.
    const r = await runCli(simArgs({ 'tid-prefix': '2000', terminals: '3', concurrency: '3' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/0 succeeded, 3 failed/);
    expect(r.stdout).toMatch(/97 .* 3/);
    expect(r.stderr).toMatch(/3 of 3 sign-ons failed/);
  }, 60_000);

  it('counts connection failures by reason', async () => {
    const r = await runCli(simArgs({ port: String(await closedPort()), terminals: '2', concurrency: '2' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CONNECT_FAILED +2/);
    expect(r.stderr).toMatch(/2 of 2 sign-ons failed .*ECONNREFUSED|2 of 2 sign-ons failed/);
  });

  it('rejects bad input with exit 2', async () => {
    expect((await runCli(simArgs({ terminals: '0' }))).code).toBe(2);
    expect((await runCli(simArgs({ concurrency: 'x' }))).code).toBe(2);
    expect((await runCli(simArgs({ 'tid-prefix': '1234567', terminals: '10' }))).stderr).toMatch(/do not fit/);
    expect((await runCli(simArgs({ scheme: '002' }))).code).toBe(2);
  });
});

describe('simulator helpers', () => {
  it('percentile (nearest rank), terminal numbering, progress line', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 95)).toBe(95);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
    expect(simTerminalNo('1000', 0)).toBe('10000001');
    expect(simTerminalNo('', 41)).toBe('00000042');
    expect(() => simTerminalNo('1234567', 9)).toThrow(RangeError);
    expect(progressLine(5, 10, 1, 10)).toBe('[#####.....]  5/10  failed 1');
  });

  it('ttyProgress draws on a TTY only', () => {
    let tty = '';
    const fakeTty = { isTTY: true, write: (s: string) => ((tty += s), true) } as unknown as NodeJS.WriteStream;
    const p = ttyProgress(fakeTty);
    p.update(2, 2, 0);
    p.end();
    expect(tty).toBe('\r' + progressLine(2, 2, 0) + '\n');
    let pipe = '';
    const fakePipe = { isTTY: false, write: (s: string) => ((pipe += s), true) } as unknown as NodeJS.WriteStream;
    const q = ttyProgress(fakePipe);
    q.update(1, 1, 0);
    q.end();
    expect(pipe).toBe('');
  });

  it('runLimited never runs more than the limit at once and keeps order', async () => {
    let running = 0;
    let peak = 0;
    const out = await runLimited(25, 4, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return i * 2;
    });
    expect(peak).toBe(4);
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
  });
});

describe('host start/stop (startHostService)', () => {
  it('starts on port 0 with a migrated store, serves a sign-on and stops gracefully', async () => {
    const svc = await startHostService({ port: 0, pgliteDir: 'memory://', lmkHex: LMK, env: {} }, silent);
    try {
      expect(svc.port).toBeGreaterThan(0);
      await addMerchant(svc.db, { merchantNo: MID, name: 'svc shop', mcc: '5411' });
      const tmk = await svc.hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [Buffer.from(C1), Buffer.from(C2)]);
      await addTerminal(svc.db, { merchantNo: MID, terminalNo: '12345678' });
      await setTerminalTmk(svc.db, { merchantNo: MID, terminalNo: '12345678' }, { block: tmk.block, kcv: tmk.kcv });
      const client = new TerminalClient({
        host: '127.0.0.1',
        port: svc.port,
        terminalNo: '12345678',
        merchantNo: MID,
        tmk: Buffer.from(tmkHex, 'hex'),
        reconnect: false,
      });
      try {
        await client.connect();
        expect((await client.signOn()).responseCode).toBe('00');
        // The service's default issuer is the simulator and risk rules are on: a cashier and a
        // test card make an approved purchase (the shop trades around the clock for the test).
        await addOperator(svc.db, { merchantNo: MID, operatorNo: '01', name: 'Cashier', password: '2468', mustChangePassword: false }, { actor: 'test' });
        await setRule(svc.db, { scope: MID, ruleId: 'trading-window', patch: { enabled: false }, actor: 'test' });
        const issuer = await openIssuerSimulator({ db: svc.db, hsm: svc.hsm });
        const { pan, card } = await issuer.addCard({ pin: '1357', balance: 5000 });
        expect((await operatorSignOn(client, '01', '2468')).responseCode).toBe('00');
        const bought = await tradeTerminal(client).purchase({ card: { pan, expiry: card.expiry }, amount: 1200, pin: '1357' });
        expect(bought.responseCode).toBe('00');
        expect((await issuer.getCard(card.cardId))?.balance).toBe(3800);
      } finally {
        await client.close();
      }
    } finally {
      await svc.stop();
      await svc.stop(); // idempotent
    }
    // The port is free again: nothing accepts connections.
    const late = await runCli(signOnArgs({ port: String(svc.port) }));
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/connection refused/);
  }, 60_000);

  it('serves TLS with --tls-cert/--tls-key; terminal sign-on --tls-ca signs on, without it cannot', async () => {
    const { cert, key, certFile } = selfSignedCert(dir);
    const tls = { cert, key };
    const svc = await startHostService({ port: 0, pgliteDir: 'memory://', lmkHex: LMK, env: {}, tls }, silent);
    try {
      await addMerchant(svc.db, { merchantNo: MID, name: 'tls shop', mcc: '5411' });
      const tmk = await svc.hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [Buffer.from(C1), Buffer.from(C2)]);
      await addTerminal(svc.db, { merchantNo: MID, terminalNo: '12345678', tmkBlock: tmk.block, tmkKcv: tmk.kcv });
      const ok = await runCli([...signOnArgs({ port: String(svc.port) }), '--tls-ca', certFile]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/response\s+00 approved/);
      const untrusted = await runCli(signOnArgs({ port: String(svc.port), timeout: '5' }));
      expect(untrusted.code).toBe(1);
      const missing = await runCli([...signOnArgs({ port: String(svc.port) }), '--tls-ca', join(dir, 'nope.pem')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/cannot read --tls-ca/);
    } finally {
      await svc.stop();
    }
  }, 60_000);

  it('refuses to start without an LMK unless --dev-lmk, and generates one with it', async () => {
    const data = mkdtempSync(join(tmpdir(), 'qiandao-hoststart-'));
    try {
      await expect(startHostService({ port: 0, dataDir: data, pgliteDir: 'memory://', env: {} }, silent)).rejects.toThrow(/no LMK configured/);
      const svc = await startHostService({ port: 0, dataDir: data, pgliteDir: 'memory://', devLmk: true, env: {} }, silent);
      expect(svc.port).toBeGreaterThan(0);
      await svc.stop();
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 60_000);

  it('host start rejects bad options with exit 2', async () => {
    const r = await runCli(['host', 'start', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be/);
    const k = await runCli(['host', 'start', '--key-lifetime', '0']);
    expect(k.code).toBe(2);
    const l = await runCli(['host', 'start', '--log-level', 'loud']);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/--log-level must be one of/);
    const i = await runCli(['host', 'start', '--issuer', 'visa']);
    expect(i.code).toBe(2);
    expect(i.stderr).toMatch(/--issuer must be simulator or none/);
    const rk = await runCli(['host', 'start', '--risk', 'maybe']);
    expect(rk.code).toBe(2);
  });
});
