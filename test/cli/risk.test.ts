import { beforeAll, describe, expect, it } from 'vitest';
import { riskCommands } from '../../src/cli/commands/risk/index.js';
import { commands } from '../../src/cli/registry.js';
import { listEvents, type Db } from '../../src/store/index.js';
import { createRiskEngine } from '../../src/risk/index.js';
import { CLI_BACKENDS, cliStore } from './cli-store.js';
import { runCli } from './run-cli.js';

// Until src/cli/registry.ts lists riskCommands, add them to the live command list the CLI reads.
for (const c of riskCommands) if (!commands.includes(c)) commands.push(c);

const M = '898110070119001';

for (const backend of CLI_BACKENDS) {
  describe.skipIf(!backend.enabled)(`risk and alerts commands on ${backend.name}`, () => {
    const store = cliStore(backend, 'risk');
    const cli = (...args: string[]) => runCli([...args, ...store.args]);
    // PGlite allows one process at a time on a data directory: open it only between CLI runs.
    const withDb = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
      const db = await store.open();
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };

    beforeAll(async () => {
        const add = await cli('merchant', 'add', '--merchant', M, '--name', 'Risk Shop', '--mcc', '5411', '--tz', 'Europe/Berlin');
      expect(add.code, add.stderr).toBe(0);
    });

    it('risk rules list shows the built-in defaults, for a merchant too', async () => {
      const r = await cli('risk', 'rules', 'list');
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^RULE\s+KIND\s+ON\s+OUTCOME\s+CODE\s+SOURCE\s+PARAMS$/);
      expect(lines.find((l) => l.startsWith('trading-window '))).toMatch(/trading-window\s+on\s+decline\s+58\s+builtin\s+start=08:00 end=21:00 channels=card$/);
      expect(lines.find((l) => l.startsWith('velocity-card-count '))).toMatch(/velocity\s+on\s+decline\s+61\s+builtin\s+key=card windowSeconds=600 maxCount=5/);
      expect(lines.find((l) => l.startsWith('sign-on-failures '))).toMatch(/sign-on-failures\s+on\s+alert\s+-\s+builtin/);
      const json = await cli('risk', 'rules', 'list', '--merchant', M, '--json');
      expect(json.code, json.stderr).toBe(0);
      const rules = JSON.parse(json.stdout) as { id: string; source: string; stage: string }[];
      expect(rules.map((x) => x.id)).toContain('card-then-qr');
      expect(rules.every((x) => x.source === 'builtin')).toBe(true);
      const stored = await cli('risk', 'rules', 'list', '--stored');
      expect(stored.stdout).toBe('no stored overrides: the built-in defaults apply\n');
    });

    it('risk rules set / reset: a merchant override that the engine then applies', async () => {
      const set = await cli('risk', 'rules', 'set', '--merchant', M, '--id', 'trading-window', '--params', '{"start":"06:30"}');
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toBe(`rule trading-window for merchant ${M}: trading-window, enabled, decline (response 58), start=06:30 end=21:00 channels=card\n`);
      const code = await cli('risk', 'rules', 'set', '--merchant', M, '--id', 'trading-window', '--response-code', '57', '--json');
      expect(code.code, code.stderr).toBe(0);
      expect(JSON.parse(code.stdout)).toMatchObject({ id: 'trading-window', responseCode: '57', params: { start: '06:30' }, source: 'merchant' });

      // The engine reads the override: 06:45 Berlin (CEST, UTC+2) on 2026-06-15 = 04:45Z is inside now; 06:29 is not.
      await withDb(async (db) => {
        const engine = createRiskEngine({ cacheMs: 0 });
        const tx = (iso: string) => ({
          merchantNo: M, terminalNo: '30000001', operatorNo: '01', channel: 'card' as const, kind: 'purchase',
          amount: 100, cardFingerprint: 'fp-cli', at: new Date(iso), reference: `cli-${iso}`,
        });
        expect((await engine.evaluate(db, tx('2026-06-15T04:45:00Z'))).outcome).toBe('allow');
        expect(await engine.evaluate(db, tx('2026-06-15T04:29:00Z'))).toMatchObject({ outcome: 'decline', responseCode: '57' });
        await engine.evaluate(db, tx('2026-06-15T04:28:00Z'));
        const events = await listEvents(db, { type: 'risk.rule.set' });
        expect(events[0]).toMatchObject({ merchantNo: M, resource: `risk-rule:${M}/trading-window` });
        expect(events[0]?.actor).toMatch(/^cli:/);
      });

      const firings = await cli('risk', 'firings', '--reference', 'cli-2026-06-15T04:29:00Z');
      expect(firings.code, firings.stderr).toBe(0);
      expect(firings.stdout.split('\n')[0]).toMatch(/^AT\s+REFERENCE\s+TERMINAL\s+RULE\s+OUTCOME\s+CODE\s+REASON$/);
      expect(firings.stdout.split('\n')[1]).toMatch(
        new RegExp(`^2026-06-15T04:29:00.000Z\\s+cli-2026-06-15T04:29:00Z\\s+${M}/30000001\\s+trading-window\\s+decline\\s+57\\s+local time 06:29:00 \\(Europe/Berlin\\) is outside trading hours 06:30-21:00$`),
      );
      const byMerchant = await cli('risk', 'firings', '--merchant', M, '--json', '--limit', '1');
      expect(JSON.parse(byMerchant.stdout)).toMatchObject([{ reference: 'cli-2026-06-15T04:28:00Z', ruleId: 'trading-window' }]);
      expect((await cli('risk', 'firings', '--rule', 'nope')).stdout).toBe('no firings\n');

      const stored = await cli('risk', 'rules', 'list', '--stored');
      expect(stored.stdout).toContain(`${M}  trading-window`);
      expect(stored.stdout).toContain('{"params":{"start":"06:30"},"responseCode":"57"}');

      const all = await cli('risk', 'rules', 'set', '--all-merchants', '--id', 'card-then-qr', '--disable');
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toMatch(/^rule card-then-qr for all merchants: card-then-qr, disabled, flag, seconds=120\n$/);
      const newRule = await cli('risk', 'rules', 'set', '--merchant', M, '--id', 'qr-burst', '--kind', 'velocity', '--params', '{"key":"terminal","windowSeconds":60,"maxCount":3,"channels":["qr"]}', '--outcome', 'decline');
      expect(newRule.code, newRule.stderr).toBe(0);
      expect(newRule.stdout).toContain('decline (response 61)');

      const reset1 = await cli('risk', 'rules', 'reset', '--merchant', M, '--id', 'trading-window');
      expect(reset1).toMatchObject({ code: 0, stdout: `1 override removed for merchant ${M}\n` });
      const again = await cli('risk', 'rules', 'reset', '--merchant', M, '--id', 'trading-window');
      expect(again).toMatchObject({ code: 2, stderr: `qiandao: rule trading-window has no override for merchant ${M}\n` });
      const reset2 = await cli('risk', 'rules', 'reset', '--all-merchants');
      expect(reset2.stdout).toBe('1 override removed for all merchants\n');
      const list = await cli('risk', 'rules', 'list', '--merchant', M);
      expect(list.stdout.split('\n').find((l) => l.startsWith('trading-window '))).toContain('builtin');
      expect(list.stdout.split('\n').find((l) => l.startsWith('qr-burst '))).toMatch(/velocity\s+on\s+decline\s+61\s+merchant/);
    });

    it('risk prune removes observations older than --keep-hours', async () => {
      await withDb(async (db) => {
        const engine = createRiskEngine();
        const base = { merchantNo: M, terminalNo: '30000002', operatorNo: null, channel: 'qr' as const, kind: 'qr-purchase', amount: 1, cardFingerprint: null };
        await engine.record(db, { ...base, at: new Date(Date.now() - 49 * 3_600_000), reference: 'old-1' }, 'approved');
        await engine.record(db, { ...base, at: new Date(Date.now() - 47 * 3_600_000), reference: 'new-1' }, 'approved');
      });
      const r = await cli('risk', 'prune');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^1 observation older than \S+ removed\n$/);
      await withDb(async (db) => {
        const left = await db.query<{ reference: string }>(`SELECT reference FROM risk_observations WHERE terminal_no = '30000002'`);
        expect(left.rows).toEqual([{ reference: 'new-1' }]);
      });
      expect((await cli('risk', 'prune', '--keep-hours', '0')).stderr).toBe("qiandao: --keep-hours must be a whole number of hours, at least 1, got '0'\n");
    });

    it('rejects bad input with exit 2 and a clear message', async () => {
      const cases: [string[], string][] = [
        [['risk', 'rules', 'set', '--id', 'trading-window', '--params', '{}'], 'qiandao: give --merchant M, or --all-merchants to change the rule for every merchant\n'],
        [['risk', 'rules', 'set', '--merchant', M, '--id', 'trading-window', '--params', '{"start":"8am"}'], 'qiandao: rule trading-window: start must be a local time HH:MM or HH:MM:SS before 24:00\n'],
        [['risk', 'rules', 'set', '--merchant', M, '--id', 'trading-window', '--params', '{oops'], ''],
        [['risk', 'rules', 'set', '--merchant', M, '--id', 'trading-window', '--outcome', 'allow'], 'qiandao: rule trading-window: outcome must be one of flag, review, decline\n'],
        [['risk', 'rules', 'set', '--merchant', M, '--id', 'trading-window'], 'qiandao: nothing to set: give --params, --outcome, --response-code, --enable/--disable, --kind or --rule\n'],
        [['risk', 'rules', 'set', '--merchant', '898110070119999', '--id', 'trading-window', '--disable'], 'qiandao: merchant 898110070119999 not found\n'],
        [['risk', 'rules', 'list', '--merchant', '123'], "qiandao: --merchant must be 15 letters or digits (field 42), got '123' (3 characters)\n"],
        [['alerts', 'ack', '--id', 'x1'], "qiandao: --id must be an alert number, got 'x1'\n"],
        [['alerts', 'ack', '--id', '999999'], 'qiandao: alert 999999 not found\n'],
        [['alerts', 'list', '--severity', 'loud'], "qiandao: --severity must be one of info, warning, critical, got 'loud'\n"],
        [['alerts', 'list', '--limit', '0'], "qiandao: --limit must be a number from 1 to 10000, got '0'\n"],
      ];
      for (const [args, stderr] of cases) {
        const r = await cli(...args);
        expect(r.code, args.join(' ')).toBe(2);
        if (stderr !== '') expect(r.stderr, args.join(' ')).toBe(stderr);
        else expect(r.stderr).toMatch(/^qiandao: --params is not valid JSON/);
      }
    });

    it('alerts list / ack', async () => {
      const none = await cli('alerts', 'list', '--open');
      expect(none.stdout).toBe('no open alerts\n');
      // A terminal sign-on at 23:00 Berlin time, judged by the monitor (`alerts scan`).
      await withDb(async (db) => {
        await db.query(
          `INSERT INTO events (at, type, merchant_no, terminal_no, ok, detail) VALUES ($1, 'keys.rotated', $2, '30000001', true, '{"address":"10.1.1.1:4000"}')`,
          [new Date('2026-06-15T21:00:00Z'), M],
        );
      });
      const scan = await cli('alerts', 'scan');
      expect(scan.code, scan.stderr).toBe(0);
      expect(scan.stdout).toMatch(/^1 event judged, 1 alert raised\n  \d+  warning  sign-on-outside-hours  terminal 30000001 /);
      expect((await cli('alerts', 'scan')).stdout).toBe('0 events judged, 0 alerts raised\n');
      const list = await cli('alerts', 'list', '--open');
      expect(list.code, list.stderr).toBe(0);
      const lines = list.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID\s+RAISED\s+SEVERITY\s+KIND\s+ACK\s+SUMMARY$/);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/warning\s+sign-on-outside-hours\s+-\s+terminal 30000001 of merchant 898110070119001 signed on at 23:00:00 local \(Europe\/Berlin\)/);
      const id = lines[1]!.split(/\s+/)[0]!;
      const ack = await cli('alerts', 'ack', '--id', id, '--by', 'user:alice');
      expect(ack.code, ack.stderr).toBe(0);
      expect(ack.stdout).toMatch(new RegExp(`^alert ${id} acknowledged by user:alice \\(sign-on-outside-hours: `));
      const twice = await cli('alerts', 'ack', '--id', id);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toMatch(new RegExp(`^qiandao: alert ${id} was acknowledged by user:alice at 20\\d\\d-`));
      expect((await cli('alerts', 'list', '--open')).stdout).toBe('no open alerts\n');
      const json = await cli('alerts', 'list', '--json', '--merchant', M);
      expect(JSON.parse(json.stdout)).toMatchObject([{ id, kind: 'sign-on-outside-hours', acknowledgedBy: 'user:alice' }]);
    });
  });
}
