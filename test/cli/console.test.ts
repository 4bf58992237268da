import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { startConsole } from '../../src/console/index.js';
import { base32Decode, totp } from '../../src/console/auth/totp.js';
import type { Db } from '../../src/store/index.js';
import { CLI_BACKENDS, cliStore } from './cli-store.js';
import { runCli } from './run-cli.js';

for (const backend of CLI_BACKENDS) {
  describe.skipIf(!backend.enabled)(`user and console commands on ${backend.name}`, () => {
    const store = cliStore(backend, 'console');
    const cli = (...args: string[]) => runCli([...args, ...store.args]);
    const openDirect = (): Promise<Db> => store.open();

    beforeAll(() => {
      });

    it('user add prints a one-time password and TOTP URI that sign in to the API', async () => {
      const add = await cli('user', 'add', '--username', 'root-admin', '--role', 'platform-admin', '--dev-lmk');
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/^user root-admin added \(platform-admin\)\n/);
      const password = /one-time password: (\S+)/.exec(add.stdout)?.[1];
      const uri = /(otpauth:\/\/totp\/\S+)/.exec(add.stdout)?.[1];
      expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(uri).toBeDefined();
      const secret = base32Decode(new URL(uri!).searchParams.get('secret')!);

      const list = await cli('user', 'list');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/^root-admin\tplatform-admin\tactive\t-\tnever\n$/);
      expect(list.stdout).not.toContain(password!);

      // The API started over the same store and LMK accepts the printed credentials.
      const db = await openDirect();
      const hsm = await SoftHsm.open({ lmkFile: join(store.dir, 'lmk.hex'), env: {} });
      const running = await startConsole({ db, hsm, port: 0 });
      try {
        const r = await fetch(`http://127.0.0.1:${running.port}/api/auth/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'root-admin', password, totp: totp(secret, new Date()) }),
        });
        expect(r.status).toBe(200);
        const body = (await r.json()) as { passwordChangeRequired: boolean };
        expect(body.passwordChangeRequired).toBe(true);
      } finally {
        await running.close();
        await hsm.close();
        await db.close();
      }
    });

    it('refuses bad input with exit code 2', async () => {
      const dup = await cli('user', 'add', '--username', 'root-admin', '--role', 'platform-admin');
      expect(dup.code).toBe(2);
      expect(dup.stderr).toBe('qiandao: user root-admin already exists\n');
      const role = await cli('user', 'add', '--username', 'someone', '--role', 'root');
      expect(role.code).toBe(2);
      expect(role.stderr).toMatch(/--role must be one of platform-admin, merchant-admin, auditor, got 'root'/);
      const name = await cli('user', 'add', '--username', 'Bad Name', '--role', 'auditor');
      expect(name.code).toBe(2);
      expect(name.stderr).toMatch(/--username must be/);
      const missing = await cli('user', 'add', '--role', 'auditor');
      expect(missing.code).toBe(2);
      const scoped = await cli('user', 'add', '--username', 'shop-admin', '--role', 'merchant-admin');
      expect(scoped.code).toBe(2);
      expect(scoped.stderr).toMatch(/needs at least one merchant/);
      const port = await cli('console', 'start', '--port', 'eighty');
      expect(port.code).toBe(2);
      const level = await cli('console', 'start', '--port', '0', '--log-level', 'loud');
      expect(level.code).toBe(2);
    });
  });
}
