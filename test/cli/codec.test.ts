import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCli } from './run-cli.js';

// A real UnionPay 0800 sign-on frame from a public terminal log (collected in
// ../shared/reference/cup-pos-facts.md): fields 11, 41, 42, 60 = 00|000000|003, 63 = "000".
const LOGGED_SIGN_ON =
  '003C600601000060310031181208000020000000C00012000000323230303336303031303435313235343131313030303100110000000000300003303030';

// The same kind of frame written out by hand from the UnionPay field table, part by part, so the
// decoder is checked against bytes it did not produce: sign-on with double-length keys plus a
// track key (60.3 = 004), batch 000001, operator "01 ".
const HAND_BUILT_SIGN_ON = [
  '6005000000', // TPDU: id 60, destination 0500, source 0000
  '613100311108', // header: IC application, software 31, status 0 / requirement 0, sub-version 311108
  '0800', // MTI, BCD
  '0020000000C00012', // bitmap: 11, 41, 42, 60, 63
  '000123', // 11 STAN n6 BCD
  '3132333435363738', // 41 terminal "12345678" ASCII
  '383938313130303730313130303031', // 42 merchant "898110070110001" ASCII
  '0011' + '000000010040', // 60 LLL BCD (11 digits) 00|000001|004, left-aligned, trailing 0 nibble
  '0003' + '303120', // 63 LLL BCD (3 bytes) "01 "
].join('');
const HAND_BUILT_FRAME = (HAND_BUILT_SIGN_ON.length / 2).toString(16).padStart(4, '0').toUpperCase() + HAND_BUILT_SIGN_ON;

describe('qiandao decode / encode', () => {
  it('decodes the logged UnionPay sign-on frame, every part checked', async () => {
    const r = await runCli(['decode', '--spec', 'cup-pos', '--frame', '--json', LOGGED_SIGN_ON]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      mti: '0800',
      fields: { '11': '000000', '41': '22003600', '42': '104512541110001', '60': { '1': '00', '2': '000000', '3': '003' }, '63': '000' },
      tpdu: { id: '60', destination: '0601', source: '0000' },
      header: { applicationType: '60', softwareVersion: '31', terminalStatus: 0, processingRequirement: 0, subVersion: '311812' },
    });
  });

  it('decodes a sign-on frame built by hand from the field table, and encodes it back byte for byte', async () => {
    const d = await runCli(['decode', '--spec', 'cup-pos', '--frame', '--json', HAND_BUILT_FRAME]);
    expect(d.code).toBe(0);
    const doc = JSON.parse(d.stdout);
    expect(doc.mti).toBe('0800');
    expect(doc.fields).toEqual({ '11': '000123', '41': '12345678', '42': '898110070110001', '60': { '1': '00', '2': '000001', '3': '004' }, '63': '01 ' });
    expect(doc.tpdu).toEqual({ id: '60', destination: '0500', source: '0000' });
    expect(doc.header).toEqual({ applicationType: '61', softwareVersion: '31', terminalStatus: 0, processingRequirement: 0, subVersion: '311108' });
    const e = await runCli(['encode', '--spec', 'cup-pos', '--frame'], d.stdout);
    expect(e.code).toBe(0);
    expect(e.stdout.trim()).toBe(HAND_BUILT_FRAME);
  });

  it('prints a human dump with the frame parts', async () => {
    const r = await runCli(['decode', '--spec', 'cup-pos', '--frame', LOGGED_SIGN_ON]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TPDU     60 destination 0601 source 0000');
    expect(r.stdout).toContain('processing requirement 0 (none)');
    expect(r.stdout).toMatch(/60\.3\s+Network management information code\s+n3\s+003/);
  });

  it('masks the PAN unless --reveal', async () => {
    const msg = JSON.stringify({ mti: '0200', fields: { '2': '6222021234567890123', '3': '000000', '4': '000000012345', '11': '000001' } });
    const enc = await runCli(['encode', '--spec', 'cup-pos'], msg);
    expect(enc.code).toBe(0);
    const masked = await runCli(['decode', '--spec', 'cup-pos', '--json', enc.stdout.trim()]);
    expect(masked.stdout).not.toContain('6222021234567890123');
    expect(JSON.parse(masked.stdout).fields['2']).toMatch(/^622202\*+0123$/);
    const clear = await runCli(['decode', '--spec', 'cup-pos', '--json', '--reveal', enc.stdout.trim()]);
    expect(JSON.parse(clear.stdout).fields['2']).toBe('6222021234567890123');
  });

  it('reads hex from stdin and accepts iso87-ascii', async () => {
    const msg = JSON.stringify({ mti: '0800', fields: { '11': '000042', '70': '301' } });
    const enc = await runCli(['encode', '--spec', 'iso87-ascii'], msg);
    expect(enc.code).toBe(0);
    const dec = await runCli(['decode', '--spec', 'iso87-ascii', '--json'], enc.stdout);
    expect(JSON.parse(dec.stdout).fields).toEqual({ '11': '000042', '70': '301' });
  });

  it.each([
    [['decode', '--spec', 'cup-pos', 'ABC'], /odd number of hex digits/],
    [['decode', '--spec', 'cup-pos', 'ZZ'], /not hex digits/],
    [['decode', '--spec', 'nope', '0800'], /UNKNOWN_SPEC.*cup-pos/],
    [['decode', '--spec', 'cup-pos', '--frame', LOGGED_SIGN_ON.slice(0, -2)], /FramingError \[TRUNCATED\]/],
    [['decode', '--spec', 'cup-pos', LOGGED_SIGN_ON.slice(26, -2)], /Iso8583Error \[TRUNCATED\].*63/],
    [['decode'], /--spec is required/],
    [['decode', '--spec', 'cup-pos', '--bogus', '00'], /Unknown option/],
    [['frobnicate'], /unknown command/],
  ])('bad input %j exits 2 with a clear message', async (argv, message) => {
    const r = await runCli(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('bad JSON to encode exits 2', async () => {
    expect((await runCli(['encode', '--spec', 'cup-pos'], '{not json')).stderr).toMatch(/not valid JSON/);
    const bad = await runCli(['encode', '--spec', 'cup-pos'], JSON.stringify({ mti: '0800', fields: { '11': '12345X' } }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Iso8583Error.*11/);
  });

  it('the built executable decodes a frame end to end', (ctx) => {
    if (!existsSync('dist/cli/main.js')) {
      console.warn('dist/cli/main.js not built: skipping the spawned CLI test (npm test builds first)');
      ctx.skip();
    }
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'decode', '--spec', 'cup-pos', '--frame', '--json', LOGGED_SIGN_ON], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).fields['42']).toBe('104512541110001');
    const bad = spawnSync(process.execPath, ['dist/cli/main.js', 'decode', '--spec', 'cup-pos', '12'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^qiandao: Iso8583Error/);
  });
});
