/**
 * Password rules (PCI DSS v4 8.3.6, 8.3.7, 8.3.9): at least 12 characters with letters and
 * digits, not one of the last four, changed at least every 90 days. The one-time initial password
 * must be changed at first sign-in (8.3.5).
 */
import { randomInt } from 'node:crypto';
import { verifyPassword } from '../../crypto/password.js';

export const MIN_PASSWORD_LENGTH = 12;
/** Upper bound so a huge body cannot make scrypt work on megabytes. */
export const MAX_PASSWORD_LENGTH = 128;
export const PASSWORD_MAX_AGE_DAYS = 90;

export interface PolicyViolation {
  code: 'password_too_short' | 'password_too_long' | 'password_needs_letters_and_digits' | 'password_contains_username' | 'password_reused';
  detail: string;
}

/** Check the composition rules; null when the password is acceptable. */
export function checkPasswordRules(password: string, username: string): PolicyViolation | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    return { code: 'password_too_short', detail: `passwords must be at least ${MIN_PASSWORD_LENGTH} characters` };
  }
  if ([...password].length > MAX_PASSWORD_LENGTH) {
    return { code: 'password_too_long', detail: `passwords must be at most ${MAX_PASSWORD_LENGTH} characters` };
  }
  if (!/\p{L}/u.test(password) || !/\p{Nd}/u.test(password)) {
    return { code: 'password_needs_letters_and_digits', detail: 'passwords must contain both letters and digits' };
  }
  if (password.toLowerCase().includes(username.toLowerCase())) {
    return { code: 'password_contains_username', detail: 'passwords must not contain the username' };
  }
  return null;
}

/** True when `password` matches any of the stored hashes (the last four). */
export async function isReused(password: string, history: readonly string[]): Promise<boolean> {
  for (const h of history) {
    if (await verifyPassword(password, h)) return true;
  }
  return false;
}

export function passwordExpired(changedAt: Date, now: Date, maxAgeDays = PASSWORD_MAX_AGE_DAYS): boolean {
  return now.getTime() - changedAt.getTime() >= maxAgeDays * 86_400_000;
}

const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random one-time password: 20 characters from an unambiguous alphabet, letters and digits. */
export function initialPassword(): string {
  for (;;) {
    let p = '';
    for (let i = 0; i < 20; i++) p += ALPHABET[randomInt(ALPHABET.length)];
    if (/[A-Za-z]/.test(p) && /[0-9]/.test(p)) return p;
  }
}
