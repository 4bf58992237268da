import { describe, expect, it } from 'vitest';
import { buildPinBlock } from '../../src/crypto/pinblock.js';
import {
  OperatorPolicyError,
  checkPassword,
  effectivePermissions,
  mayManage,
  normaliseOperatorNo,
  operatorAccountField,
  operatorPan,
  passwordLengths,
  roleFor,
  securityControl,
} from '../../src/operators/index.js';

describe('operator numbers and passwords', () => {
  it('normalises the forms terminals send in field 63', () => {
    expect(normaliseOperatorNo('01')).toBe('01');
    expect(normaliseOperatorNo('01 ')).toBe('01');
    expect(normaliseOperatorNo('001')).toBe('01');
    expect(normaliseOperatorNo('099')).toBe('99');
    for (const bad of ['1', '100', 'AB', '', ' ', '1a', undefined, null]) expect(normaliseOperatorNo(bad)).toBeNull();
  });

  it('applies the UnionPay lengths: 00 six digits, 99 eight, cashiers 4-6 (configurable)', () => {
    expect(passwordLengths('00')).toEqual({ min: 6, max: 6 });
    expect(passwordLengths('99')).toEqual({ min: 8, max: 8 });
    expect(passwordLengths('42')).toEqual({ min: 4, max: 6 });
    expect(passwordLengths('42', { cashierMin: 6, cashierMax: 6 })).toEqual({ min: 6, max: 6 });
    expect(() => checkPassword('00', '12345')).toThrow(OperatorPolicyError);
    expect(() => checkPassword('00', '123456')).not.toThrow();
    expect(() => checkPassword('99', '1234567')).toThrow(/8 digits/);
    expect(() => checkPassword('01', '123')).toThrow(/4 to 6 digits/);
    expect(() => checkPassword('01', '12a4')).toThrow(OperatorPolicyError);
    expect(() => checkPassword('01', '1234', { cashierMin: 6, cashierMax: 6 })).toThrow(/6 digits/);
    try {
      checkPassword('01', '98');
    } catch (e) {
      expect((e as Error).message).not.toContain('98');
    }
  });

  it('fixes the roles of 00 and 99 and keeps them from cashiers', () => {
    expect(roleFor('00')).toBe('supervisor');
    expect(roleFor('99')).toBe('admin');
    expect(roleFor('05')).toBe('cashier');
    expect(roleFor('05', 'senior-cashier')).toBe('senior-cashier');
    expect(() => roleFor('00', 'cashier')).toThrow(OperatorPolicyError);
    expect(() => roleFor('05', 'supervisor')).toThrow(/operator 00 only/);
    expect(() => roleFor('05', 'Bad Role')).toThrow(OperatorPolicyError);
  });

  it('lets 99 manage everyone but itself and other managers only cashiers', () => {
    expect(mayManage('99', '00')).toBe(true);
    expect(mayManage('99', '99')).toBe(false);
    expect(mayManage('00', '01')).toBe(true);
    expect(mayManage('00', '99')).toBe(false);
    expect(mayManage('00', '00')).toBe(false);
    expect(mayManage('03', '04')).toBe(true);
  });

  it('combines role permissions with grants and revokes', () => {
    expect(effectivePermissions(['sale', 'balance'], [{ permission: 'refund', effect: 'grant' }, { permission: 'sale', effect: 'revoke' }])).toEqual(['balance', 'refund']);
  });
});

describe('the password PIN block', () => {
  it('derives the account field from terminal and operator numbers', () => {
    expect(operatorAccountField('12345678', '01')).toBe('001234567801');
    // Letters become their ASCII code modulo 10: T = 84 -> 4.
    expect(operatorAccountField('T1230001', '99')).toBe('004123000199');
    expect(operatorPan('12345678', '01')).toBe('0012345678010');
  });

  it('builds the ISO 9564 format 0 block over that account field (worked by hand)', () => {
    // PIN field 04 1234 FFFFFFFFFF, account field 0000 001234567801: XOR = 041234EDCBA987FE.
    const block = buildPinBlock({ format: 0, pin: '1234', pan: operatorPan('12345678', '01') });
    expect(block.toString('hex').toUpperCase()).toBe('041234EDCBA987FE');
  });

  it('states format 0 and the key length in field 53', () => {
    expect(securityControl(16)).toBe('2600000000000000');
    expect(securityControl(8)).toBe('2000000000000000');
  });
});
