import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField, csvLine } from '../../src/console/csv.js';
import { appendEvent } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { ConsoleFixture, type Account } from './fixture.js';

/** Minimal RFC 4180 parser for checking the export round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('CSV fields (RFC 4180)', () => {
  it('quotes commas, quotes and line breaks; neutralises formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(1)')).toBe("'@SUM(1)");
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
    expect(csvField(new Date('2026-01-02T03:04:05.000Z'))).toBe('2026-01-02T03:04:05.000Z');
    expect(csvField({ a: 1 })).toBe('"{""a"":1}"');
    expect(csvLine(['a', 'b,c'])).toBe('a,"b,c"\r\n');
  });
});

describeBackends('console audit log', (backend) => {
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 10_000, perUser: 10_000 } });
  let admin: Account;
  let auditor: Account;
  beforeAll(async () => {
    await f.start();
    admin = await f.account('audit-admin', 'platform-admin');
    auditor = await f.account('audit-reader', 'auditor');
    for (let i = 0; i < 5; i++) {
      await appendEvent(f.db, { type: 'test.tricky', ok: i % 2 === 0, actor: 'user:audit-admin', origin: '10.0.0.1', resource: `thing:${i}`, detail: { note: `comma, "quote"\nline ${i}` } });
    }
  });
  afterAll(() => f.stop());

  it('filters by who, what and type, newest first, with paging', async () => {
    const byType = await f.http('GET', '/api/audit/events?type=test.tricky&limit=2', { token: auditor.token });
    expect(byType.status, byType.text).toBe(200);
    expect(byType.body.events.map((e: { resource: string }) => e.resource)).toEqual(['thing:4', 'thing:3']);
    expect(byType.body.nextBefore).toBe(byType.body.events[1].id);
    const page2 = await f.http('GET', `/api/audit/events?type=test.tricky&limit=2&before=${byType.body.nextBefore}`, { token: auditor.token });
    expect(page2.body.events.map((e: { resource: string }) => e.resource)).toEqual(['thing:2', 'thing:1']);
    const last = await f.http('GET', `/api/audit/events?type=test.tricky&limit=2&before=${page2.body.nextBefore}`, { token: auditor.token });
    expect(last.body.events).toHaveLength(1);
    expect(last.body.nextBefore).toBeNull();

    const byResource = await f.http('GET', '/api/audit/events?resource=thing:3', { token: auditor.token });
    expect(byResource.body.events).toHaveLength(1);
    const failures = await f.http('GET', '/api/audit/events?type=test.tricky&ok=false', { token: auditor.token });
    expect(failures.body.events).toHaveLength(2);
    const byActor = await f.http('GET', '/api/audit/events?actor=user:audit-reader&type=console.sign-in', { token: auditor.token });
    expect(byActor.body.events.length).toBeGreaterThan(0);
    for (const e of byActor.body.events) {
      expect(e.actor).toBe('user:audit-reader');
      expect(e.origin).toBe('127.0.0.1');
      expect(e.resource).toBe('user:audit-reader');
    }
  });

  it('filters by time (events are stamped by the database clock)', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const none = await f.http('GET', `/api/audit/events?type=test.tricky&since=${encodeURIComponent(future)}`, { token: auditor.token });
    expect(none.body.events).toHaveLength(0);
    const all = await f.http('GET', `/api/audit/events?type=test.tricky&since=${encodeURIComponent(past)}&until=${encodeURIComponent(future)}`, { token: auditor.token });
    expect(all.body.events).toHaveLength(5);
    const bad = await f.http('GET', `/api/audit/events?since=${encodeURIComponent(future)}&until=${encodeURIComponent(past)}`, { token: auditor.token });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('bad_time_range');
    const notADate = await f.http('GET', '/api/audit/events?since=yesterday', { token: auditor.token });
    expect(notADate.status).toBe(400);
    expect(notADate.body.code).toBe('validation_failed');
  });

  it('exports CSV, oldest first, correctly quoted, without secrets; the export is audited', async () => {
    const r = await f.http('GET', '/api/audit/events.csv?type=test.tricky', { token: auditor.token });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toContain('attachment');
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual(['id', 'at', 'type', 'ok', 'actor', 'origin', 'resource', 'merchantNo', 'terminalNo', 'operatorNo', 'detail']);
    expect(rows).toHaveLength(6);
    expect(rows.slice(1).map((x) => x[6])).toEqual(['thing:0', 'thing:1', 'thing:2', 'thing:3', 'thing:4']);
    expect(JSON.parse(rows[1]?.[10] ?? '')).toEqual({ note: 'comma, "quote"\nline 0' });
    expect(rows[2]?.[3]).toBe('false');

    const everything = await f.http('GET', '/api/audit/events.csv', { token: admin.token });
    expect(everything.text).not.toContain(admin.password);
    expect(everything.text).not.toContain(admin.token);
    expect(everything.text).not.toMatch(/scrypt\$/);
    expect(everything.text).toContain('console.sign-in');

    const exported = await f.http('GET', '/api/audit/events?type=console.audit.exported', { token: auditor.token });
    expect(exported.body.events.length).toBe(2);
    expect(exported.body.events[1].actor).toBe('user:audit-reader');
  });
});
