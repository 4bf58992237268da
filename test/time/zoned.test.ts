import fc from 'fast-check';
import { expect, it } from 'vitest';
import { clearZoneCache, isTimeZone, zonedParts, zonedPartsOr } from '../../src/time/zoned.js';

it('follows daylight-saving changes (America/New_York, 8 March 2026: 02:00 EST becomes 03:00 EDT)', () => {
  expect(zonedParts(new Date('2026-03-08T06:59:59Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 8, hour: 1, minute: 59, second: 59 });
  expect(zonedParts(new Date('2026-03-08T07:00:00Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 8, hour: 3, minute: 0, second: 0 });
});

it('crosses the date line of the zone, not of UTC (Asia/Shanghai is UTC+8 all year)', () => {
  expect(zonedParts(new Date('2026-12-31T16:00:00Z'), 'Asia/Shanghai')).toEqual({ year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0 });
});

it('refuses an unknown zone, or falls back when asked to', () => {
  expect(isTimeZone('Mars/Olympus')).toBe(false);
  expect(() => zonedParts(new Date(0), 'Mars/Olympus')).toThrow(RangeError);
  expect(zonedPartsOr(new Date('2026-01-01T00:00:00Z'), 'Mars/Olympus').hour).toBe(8);
});

// The fast path (a cached offset per zone and UTC minute) must agree with Intl everywhere.
const ZONES = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham', 'UTC'];

function viaIntl(at: Date, timeZone: string): Record<string, number> {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const o: Record<string, number> = {};
  for (const p of f.formatToParts(at)) if (p.type !== 'literal') o[p.type] = Number(p.value);
  return { year: o['year']!, month: o['month']!, day: o['day']!, hour: o['hour']! % 24, minute: o['minute']!, second: o['second']! };
}

it('agrees with Intl for any instant and zone, in any order', () => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1890, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom(...ZONES), (ms, zone) => {
      const at = new Date(ms);
      expect(zonedParts(at, zone)).toEqual(viaIntl(at, zone));
    }),
    { numRuns: 3000 },
  );
});

it('agrees with Intl second by second across offset changes, time moving forward (the cached path)', () => {
  clearZoneCache();
  // Across changes: New York spring forward and fall back 2026, Lord Howe's half-hour shift, and
  // Shanghai's local mean time ending on 1901-01-01 (an offset with seconds, so not a whole minute).
  for (const [iso, zone] of [
    ['2026-03-08T06:58:00Z', 'America/New_York'],
    ['2026-11-01T05:58:00Z', 'America/New_York'],
    ['2026-04-04T14:58:00Z', 'Australia/Lord_Howe'],
    ['1900-12-31T15:52:00Z', 'Asia/Shanghai'],
  ] as const) {
    const t0 = Date.parse(iso);
    for (let s = 0; s < 240; s++) {
      const at = new Date(t0 + s * 1000 + 999);
      expect(zonedParts(at, zone), `${at.toISOString()} ${zone}`).toEqual(viaIntl(at, zone));
    }
  }
});

it('throws RangeError for an invalid date, as Intl does', () => {
  expect(() => zonedParts(new Date(Number.NaN), 'Asia/Shanghai')).toThrow(RangeError);
});
