import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inWindow, localTime, parseClock } from '../../src/risk/local-time.js';

describe('merchant local time', () => {
  it('matches plain offset arithmetic in zones without daylight saving', () => {
    // Fixed offsets (IANA): Shanghai +08:00, Kolkata +05:30, Phoenix −07:00, Kathmandu +05:45.
    const zones: [string, number][] = [
      ['Asia/Shanghai', 8 * 3600],
      ['Asia/Kolkata', 5.5 * 3600],
      ['America/Phoenix', -7 * 3600],
      ['Asia/Kathmandu', 5.75 * 3600],
    ];
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2000-01-01T00:00:00Z') / 1000, max: Date.parse('2037-12-31T00:00:00Z') / 1000 }), fc.constantFrom(...zones), (sec, [zone, offset]) => {
        const lt = localTime(new Date(sec * 1000), zone);
        const expected = (((sec + offset) % 86_400) + 86_400) % 86_400;
        expect(lt.secondOfDay).toBe(expected);
        const d = new Date((sec + offset) * 1000).toISOString();
        expect(lt.date).toBe(d.slice(0, 10));
        expect(lt.time).toBe(d.slice(11, 19));
      }),
      { numRuns: 300 },
    );
  });

  it('follows the daylight-saving change (Europe/Berlin, 2026-03-29 02:00 -> 03:00)', () => {
    expect(localTime(new Date('2026-03-29T00:59:59Z'), 'Europe/Berlin').time).toBe('01:59:59');
    expect(localTime(new Date('2026-03-29T01:00:00Z'), 'Europe/Berlin').time).toBe('03:00:00');
    expect(localTime(new Date('2026-10-25T00:59:59Z'), 'Europe/Berlin').time).toBe('02:59:59');
    expect(localTime(new Date('2026-10-25T01:00:00Z'), 'Europe/Berlin').time).toBe('02:00:00');
    expect(localTime(new Date('2026-06-15T23:30:00Z'), 'Asia/Shanghai')).toEqual({ date: '2026-06-16', time: '07:30:00', secondOfDay: 27_000 });
  });

  it('parses clock times and judges windows at their edges', () => {
    expect(parseClock('08:00')).toBe(28_800);
    expect(parseClock('20:59:59')).toBe(75_599);
    expect(parseClock('24:00')).toBe(86_400);
    for (const bad of ['8:00', '24:01', '12:60', '12:00:60', '', 800, null]) expect(parseClock(bad)).toBeUndefined();
    const [s, e] = [28_800, 75_600];
    expect([inWindow(s - 1, s, e), inWindow(s, s, e), inWindow(e - 1, s, e), inWindow(e, s, e)]).toEqual([false, true, true, false]);
    // Overnight 22:00-06:00.
    expect([inWindow(79_199, 79_200, 21_600), inWindow(79_200, 79_200, 21_600), inWindow(21_599, 79_200, 21_600), inWindow(21_600, 79_200, 21_600)]).toEqual([false, true, true, false]);
    expect(inWindow(12_345, 0, 0)).toBe(true);
  });
});
