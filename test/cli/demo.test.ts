import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

describe('qiandao demo (the npm start job)', () => {
  it('signs a terminal and an operator on and buys with a test card over TCP, twice on the same data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qiandao-demo-'));
    try {
      const first = await runCli(['demo', '--once', '--port', '0', '--data', dir]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/terminal 10000001 signed on: response 00, batch 000001, key generation 1/);
      expect(first.stdout).toMatch(/PIK [0-9A-F]{8} {2}MAK [0-9A-F]{8} {2}TDK [0-9A-F]{8}/);
      expect(first.stdout).toMatch(/echo test: response 00/);
      expect(first.stdout).toMatch(/operator 01 signed on: response 00/);
      expect(first.stdout).toMatch(/purchase 12\.34 CNY: response 00 approved, RRN \d{12}, auth code [0-9A-Z]{6}, card 629990\*+\d{4}/);
      expect(first.stdout).toMatch(/available 987\.66 CNY/);
      // The card number is never printed in full.
      expect(first.stdout).not.toMatch(/\d{16}/);
      expect(first.stderr).toMatch(/DEVELOPMENT LMK/);
      expect(statSync(join(dir, 'lmk.hex')).mode & 0o077).toBe(0);

      // The second run reuses the store and the LMK: the key generation advances, no new LMK.
      const second = await runCli(['demo', '--once', '--port', '0', '--data', dir]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/key generation 2/);
      expect(second.stdout).toMatch(/purchase 12\.34 CNY: response 00 approved/);
      expect(second.stderr).not.toMatch(/DEVELOPMENT LMK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad port with exit 2', async () => {
    const r = await runCli(['demo', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be/);
  });
});
