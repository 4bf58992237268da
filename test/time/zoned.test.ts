import { expect, it } from 'vitest';
import { isTimeZone, zonedParts, zonedPartsOr } from '../../src/time/zoned.js';

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
