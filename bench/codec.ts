/**
 * Codec benchmark (`npm run bench:codec`): pack / unpack / unpack + read / round trip of a
 * typical 0200 purchase request in iso87-ascii and cup-pos, against the `iso_8583` npm package
 * in the same run. Single thread; warm-up, then timed batches, median reported.
 *
 * `--alloc` (internal): run by the main process in a child with --expose-gc and a large young
 * generation; prints bytes allocated per operation as JSON.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import {
  createMessage, pack, unpack, type FieldMap, type FieldValues, type IsoMessage, type Spec,
} from '../src/iso8583/index.js';
import { cupPos, iso87Ascii } from '../src/specs/index.js';
import {
  bench, benchGroup, checksum, fmtInt, machine, pairedRatio, table, type BenchOptions, type BenchResult, type Body,
} from './harness.js';
import { IsoLib, isoLibVersion, type IsoLibData } from './iso-8583-lib.js';

const ROUND_TRIP = 'round trip (create+pack+unpack+read)';

const OPTS: BenchOptions = { warmupMs: 500, batchMs: 800, batches: 5 };

// ---------------------------------------------------------------------------------------------
// The message: a typical 0200 purchase request.

const PAN = '6225881234567890123'; // 19 digits
const TRACK2 = `${PAN}=28122011234567890`; // 37 characters, '=' separator
const PIN_BLOCK = Buffer.from('3A8F1C2D9E4B7A60', 'hex'); // 8 bytes

const TEXT_FIELDS = {
  2: PAN,
  3: '000000',
  4: '000000012345',
  7: '1124103015',
  11: '123456',
  12: '103015',
  13: '1124',
  14: '2812',
  22: '051',
  25: '00',
  35: TRACK2,
  37: '123456789012',
  41: 'TERM0001',
  42: 'MERCHANT0000001',
  49: '156',
} as const;

const ALL_FIELDS = [2, 3, 4, 7, 11, 12, 13, 14, 22, 25, 35, 37, 41, 42, 49, 52] as const;

/** Field values for `spec`; drops field 7 when the spec does not define it. */
function valuesFor(spec: Spec<FieldMap>): { values: FieldValues<FieldMap>; fields: number[]; note: string } {
  const defined = (n: number): boolean => Object.prototype.hasOwnProperty.call(spec.fields, n);
  const fields = ALL_FIELDS.filter(defined);
  const values: Record<number, unknown> = {};
  for (const n of fields) values[n] = n === 52 ? PIN_BLOCK : TEXT_FIELDS[n as keyof typeof TEXT_FIELDS];
  const missing = ALL_FIELDS.filter((n) => !defined(n));
  const note = missing.length === 0 ? '' : `fields ${missing.join(', ')} not defined in ${spec.name}, left out`;
  return { values: values as FieldValues<FieldMap>, fields, note };
}

const LIB_DATA: IsoLibData = { 0: '0200', ...TEXT_FIELDS, 52: PIN_BLOCK.toString('hex').toUpperCase() };

// ---------------------------------------------------------------------------------------------
// Benchmark bodies. Each returns a checksum over what it produced.

/** Checksum of one decoded value: touches length and last character/byte (forces flat strings). */
function sumValue(v: unknown): number {
  if (typeof v === 'string') return v.length + v.charCodeAt(v.length - 1);
  if (v instanceof Uint8Array) return v.length + v[0]!;
  return v === undefined ? -1 : 1;
}

function readAll(msg: IsoMessage<FieldMap>, fields: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < fields.length; i++) s += sumValue(msg.get(fields[i]!));
  return s;
}

interface SpecCase {
  label: string;
  note: string;
  bytes: number;
  bodies: Array<[string, Body]>;
}

function specCase(spec: Spec<FieldMap>): SpecCase {
  const { values, fields, note } = valuesFor(spec);
  const prepared = createMessage(spec, '0200', values);
  const wire = pack(spec, prepared);
  // Sanity: the round trip gives back what went in.
  const back = unpack(spec, wire);
  for (const n of fields) {
    const a = back.get(n);
    const b = (values as Record<number, unknown>)[n];
    const same = a instanceof Uint8Array && b instanceof Uint8Array ? Buffer.compare(a, b) === 0 : a === b;
    if (!same) throw new Error(`${spec.name}: field ${n} did not round-trip (${String(a)} vs ${String(b)})`);
  }
  return {
    label: spec.name,
    note,
    bytes: wire.length,
    bodies: [
      ['pack', (iters) => {
        let s = 0;
        for (let i = 0; i < iters; i++) {
          const b = pack(spec, prepared);
          s += b.length + b[b.length - 1]!;
        }
        return s;
      }],
      ['unpack (no field access)', (iters) => {
        let s = 0;
        for (let i = 0; i < iters; i++) s += unpack(spec, wire).mti.charCodeAt(3);
        return s;
      }],
      ['unpack + read all fields', (iters) => {
        let s = 0;
        for (let i = 0; i < iters; i++) s += readAll(unpack(spec, wire), fields);
        return s;
      }],
      [ROUND_TRIP, (iters) => {
        let s = 0;
        for (let i = 0; i < iters; i++) {
          const m = createMessage(spec, '0200', values);
          s += readAll(unpack(spec, pack(spec, m)), fields);
        }
        return s;
      }],
    ],
  };
}

function libCase(): SpecCase {
  const wire = new IsoLib(LIB_DATA).getRawMessage();
  const back = new IsoLib().getIsoJSON(wire, { lenHeader: false });
  if (back.error !== undefined || back[2] !== PAN || back[35] !== TRACK2) {
    throw new Error(`iso_8583 did not round-trip: ${JSON.stringify(back)}`);
  }
  const keys = Object.keys(LIB_DATA);
  return {
    label: `iso_8583 ${isoLibVersion}`,
    note: '',
    bytes: wire.length,
    bodies: [
      [ROUND_TRIP, (iters) => {
        let s = 0;
        for (let i = 0; i < iters; i++) {
          const buf = new IsoLib(LIB_DATA).getRawMessage();
          const out = new IsoLib().getIsoJSON(buf, { lenHeader: false });
          for (let k = 0; k < keys.length; k++) s += sumValue(out[keys[k]!]);
        }
        return s;
      }],
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Allocation (child process, --expose-gc --min/max-semi-space-size=64)

type AllocMap = Record<string, number | null>;

function measureAlloc(cases: SpecCase[]): AllocMap {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('--alloc needs --expose-gc');
  const out: AllocMap = {};
  for (const c of cases) {
    for (const [name, body] of c.bodies) {
      body(c.label.startsWith('iso_8583') ? 2000 : 20_000); // warm up (JIT)
      let n = 1000;
      const samples: number[] = [];
      for (let attempt = 0; attempt < 12 && samples.length < 3; attempt++) {
        gc();
        const prof = new v8.GCProfiler();
        prof.start();
        const h0 = process.memoryUsage().heapUsed;
        body(n);
        const h1 = process.memoryUsage().heapUsed;
        const gcs = prof.stop().statistics.length;
        if (gcs > 0) {
          n = Math.max(50, n >> 1); // a collection ran: the delta is meaningless, retry smaller
          continue;
        }
        const per = (h1 - h0) / n;
        samples.push(per);
        // size the next run to ~16 MB so fixed costs vanish but the young generation holds it
        n = Math.max(100, Math.min(50_000, Math.floor(16e6 / Math.max(per, 1))));
      }
      samples.sort((a, b) => a - b);
      out[`${c.label}|${name}`] = samples.length === 3 ? samples[1]! : null;
    }
  }
  return out;
}

function allocFromChild(): AllocMap | null {
  try {
    const self = fileURLToPath(import.meta.url);
    const stdout = execFileSync(
      process.execPath,
      ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', self, '--alloc'],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return JSON.parse(stdout) as AllocMap;
  } catch (e) {
    console.error(`allocation measurement skipped: ${(e as Error).message}`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const cases = [specCase(iso87Ascii as unknown as Spec<FieldMap>), specCase(cupPos as unknown as Spec<FieldMap>), libCase()];

  if (process.argv.includes('--alloc')) {
    process.stdout.write(JSON.stringify(measureAlloc(cases)));
    return;
  }

  const started = Date.now();
  console.log('qiandao ISO 8583 codec benchmark');
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(`load:    ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min; other processes skew results)`);
  console.log(`method:  single thread; ${OPTS.warmupMs} ms warm-up, then ${OPTS.batches} batches of ~${OPTS.batchMs} ms; median`);
  console.log(`message: 0200 purchase request, fields ${ALL_FIELDS.join(', ')} (PAN 19 digits, track 2 37 chars, PIN block 8 bytes)`);
  for (const c of cases) {
    console.log(`         ${c.label}: ${c.bytes} bytes on the wire${c.note ? ` (${c.note})` : ''}`);
  }
  console.log('');

  // --filter=<text>: only benchmarks whose "codec / benchmark" label contains <text> (profiling).
  const filter = process.argv.find((a) => a.startsWith('--filter='))?.slice('--filter='.length);
  const wanted = (c: SpecCase, name: string): boolean => filter === undefined || `${c.label} / ${name}`.includes(filter);
  const report = (c: SpecCase, r: BenchResult): void => {
    process.stderr.write(`  ${c.label} / ${r.name}: ${fmtInt(r.opsPerSec)} ops/s\n`);
  };
  const results: Array<{ c: SpecCase; r: BenchResult; ratio?: number }> = [];
  // pack / unpack / unpack + read: one after the other.
  for (const c of cases) {
    for (const [name, body] of c.bodies) {
      if (name === ROUND_TRIP || !wanted(c, name)) continue;
      const r = bench(name, body, OPTS);
      results.push({ c, r });
      report(c, r);
    }
  }
  // Round trips, iso_8583 included: interleaved batches, ratios paired per batch.
  const trips = cases.filter((c) => wanted(c, ROUND_TRIP));
  if (trips.length > 0) {
    const group = benchGroup(trips.map((c) => [ROUND_TRIP, c.bodies.find(([n]) => n === ROUND_TRIP)![1]] as const), OPTS);
    const libAt = trips.findIndex((c) => c.label.startsWith('iso_8583'));
    trips.forEach((c, i) => {
      const r = group.results[i]!;
      const ratio = libAt >= 0 ? pairedRatio(group.rates[i]!, group.rates[libAt]!) : undefined;
      results.push(ratio === undefined ? { c, r } : { c, r, ratio });
      report(c, r);
    });
  }

  const alloc = filter === undefined ? allocFromChild() : null;
  const rows: string[][] = [['codec', 'benchmark', 'ops/s', 'ns/op', 'spread ops/s (min-max)', 'B/op', 'vs iso_8583']];
  for (const { c, r, ratio } of results) {
    const a = alloc?.[`${c.label}|${r.name}`];
    rows.push([
      c.label,
      r.name,
      fmtInt(r.opsPerSec),
      fmtInt(r.nsPerOp),
      `${fmtInt(r.minOps)}-${fmtInt(r.maxOps)}`,
      a === undefined || a === null ? 'n/a' : fmtInt(a),
      ratio === undefined ? '' : `${ratio.toFixed(1)}x`,
    ]);
  }
  console.log(table(rows, 2));
  console.log('');
  console.log('B/op: bytes allocated per operation, from heap growth between forced GCs in a child process');
  console.log('      (--expose-gc, 64 MB semi-space, runs with a collection discarded); n/a if unreliable.');
  console.log('vs iso_8583: round trips run as one group with interleaved batches; median of per-batch ratios.');
  console.log('');
  for (const { c, r, ratio } of results) {
    if (r.name !== ROUND_TRIP || c.label.startsWith('iso_8583') || ratio === undefined) continue;
    const ok = ratio >= 5 && r.opsPerSec >= 300_000;
    console.log(
      `target ${c.label}: round trip ${fmtInt(r.opsPerSec)}/s (>= 300,000) and ${ratio.toFixed(1)}x iso_8583 (>= 5x): ${ok ? 'PASS' : 'FAIL'}`,
    );
  }
  console.log(`checksum ${checksum()}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
