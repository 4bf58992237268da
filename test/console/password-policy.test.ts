import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/crypto/password.js';
import { checkPasswordRules, initialPassword, isReused, passwordExpired } from '../../src/console/auth/password-policy.js';

const CHEAP = { logN: 10, r: 8, p: 1 };

describe('password policy (PCI DSS v4 8.3.6, 8.3.7, 8.3.9)', () => {
  it('needs at least 12 characters', () => {
    expect(checkPasswordRules('abcdefghi12', 'alice')?.code).toBe('password_too_short');
    expect(checkPasswordRules('abcdefghij12', 'alice')).toBeNull();
  });

  it('needs letters and digits', () => {
    expect(checkPasswordRules('abcdefghijklmn', 'alice')?.code).toBe('password_needs_letters_and_digits');
    expect(checkPasswordRules('12345678901234', 'alice')?.code).toBe('password_needs_letters_and_digits');
    expect(checkPasswordRules('!!!!!!!!!!!!1a', 'alice')).toBeNull();
  });

  it('refuses the username inside the password and absurd lengths', () => {
    expect(checkPasswordRules('xxAlice2026xx', 'alice')?.code).toBe('password_contains_username');
    expect(checkPasswordRules('a1'.repeat(65), 'alice')?.code).toBe('password_too_long');
  });

  it('counts characters, not UTF-16 units', () => {
    // 11 characters, 22 UTF-16 code units.
    expect(checkPasswordRules('😀😀😀😀😀😀😀😀😀a1', 'alice')?.code).toBe('password_too_short');
  });

  it('detects reuse of any of the stored hashes', async () => {
    const history = await Promise.all(['first-pass-001', 'second-pass-02'].map((p) => hashPassword(p, CHEAP)));
    expect(await isReused('second-pass-02', history)).toBe(true);
    expect(await isReused('third-pass-003', history)).toBe(false);
  });

  it('expires at 90 days', () => {
    const changed = new Date('2026-01-01T00:00:00Z');
    expect(passwordExpired(changed, new Date(changed.getTime() + 90 * 86_400_000 - 1))).toBe(false);
    expect(passwordExpired(changed, new Date(changed.getTime() + 90 * 86_400_000))).toBe(true);
  });

  it('initial passwords satisfy the policy and differ', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = initialPassword();
      expect(checkPasswordRules(p, 'zz-user')).toBeNull();
      seen.add(p);
    }
    expect(seen.size).toBe(50);
  });
});
