import { parseArgs } from 'node:util';
import { wipe, type BlockAlgorithm } from '../../../crypto/cipher.js';
import {
  EXPORTABILITY,
  KEY_ALGORITHMS,
  KEY_USAGES,
  MODES_OF_USE,
  isKeyUsage,
  unwrap,
  wrap,
  type Exportability,
  type KeyAlgorithm,
  type KeyBlockHeader,
  type KeyBlockVersion,
  type ModeOfUse,
  type OptionalBlock,
} from '../../../crypto/tr31/index.js';
import { CliError } from '../../errors.js';
import { printJson, readStdin } from '../../io.js';
import { clearKeyNotice, command, hexOption, kcvIfValid, printRows, secretsFromStdin, stdinUsage, toHex, type Row } from './util.js';

const VERSIONS: Record<KeyBlockVersion, string> = {
  A: 'TDES key variant binding (deprecated)',
  B: 'TDES key derivation binding',
  C: 'TDES key variant binding (deprecated)',
  D: 'AES key derivation binding',
};

/** One upper-case letter/code from a table, with the table's choices in the error. */
function code<T extends string>(value: string | undefined, name: string, table: Record<T, string>): T {
  if (value === undefined) throw new CliError(`${name} is required (${Object.keys(table).join(', ')})`);
  const v = value.trim().toUpperCase();
  if (!Object.prototype.hasOwnProperty.call(table, v)) throw new CliError(`unknown ${name} '${value}': expected one of ${Object.keys(table).join(', ')}`);
  return v as T;
}

/** KCV of an unwrapped key when its algorithm is a block cipher we can check. */
function kcvAlgOf(a: KeyAlgorithm): BlockAlgorithm | undefined {
  return a === 'T' || a === 'D' ? 'tdes' : a === 'A' ? 'aes' : undefined;
}

function describe<T extends string>(table: Record<T, string>, v: T): string {
  return Object.prototype.hasOwnProperty.call(table, v) ? `${v} (${table[v]})` : v;
}

function parseOptionalBlock(spec: string): OptionalBlock {
  const eq = spec.indexOf('=');
  if (eq !== 2) throw new CliError(`--optional-block '${spec}': expected ID=DATA with a two-character ID, e.g. KS=FFFF9876543210E00000`);
  return { id: spec.slice(0, 2).toUpperCase(), data: spec.slice(3) };
}

export const tr31WrapCommand = command({
  path: ['crypto', 'tr31', 'wrap'],
  summary: 'Wrap a clear key into a TR-31 / X9.143 key block (versions B and D)',
  usage: [
    'qiandao crypto tr31 wrap --kbpk HEX|- --key HEX|- --usage P0 --algorithm T --mode E --exportability E [--version B|D] [--key-version 00] [--optional-block ID=DATA…] [--json]',
    '  --kbpk HEX|-     key block protection key: version B TDES 16/24 bytes; D AES 16/24/32',
    '  --key HEX|-      the clear key to wrap',
    '  --version        D (default, AES KBPK) or B (TDES KBPK); A and C only for legacy tests',
    `  --usage          key usage, e.g. P0 PIN, M3 X9.19 MAC, D0 data, K0 KEK, B0 BDK, B1 IPEK`,
    `  --algorithm      ${Object.keys(KEY_ALGORITHMS).join(' ')} (T = TDES, A = AES, D = DES)`,
    `  --mode           mode of use: ${Object.keys(MODES_OF_USE).join(' ')}`,
    `  --exportability  ${Object.keys(EXPORTABILITY).join(' ')}`,
    '  --optional-block ID=DATA, repeatable (e.g. KS=FFFF9876543210E00000); padding PB is added as needed',
    stdinUsage('the value of --kbpk or --key', '--kbpk, then --key'),
  ].join('\n'),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        kbpk: { type: 'string' },
        key: { type: 'string', short: 'k' },
        usage: { type: 'string', short: 'u' },
        algorithm: { type: 'string' },
        mode: { type: 'string', short: 'm' },
        exportability: { type: 'string', short: 'e' },
        version: { type: 'string' },
        'key-version': { type: 'string' },
        'optional-block': { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    });
    await secretsFromStdin(values, ['kbpk', 'key']);
    const kbpk = await hexOption(values.kbpk, '--kbpk');
    const key = await hexOption(values.key, '--key');
    const version = code(values.version ?? 'D', '--version', VERSIONS);
    if (values.usage === undefined) throw new CliError('--usage is required (e.g. P0, M3, D0, K0, B0, B1)');
    const usage = values.usage.trim().toUpperCase();
    if (!isKeyUsage(usage)) throw new CliError(`unknown --usage '${values.usage}': expected an X9.143 code such as P0, M3, D0, K0, B0, B1 (or two digits)`);
    const algorithm = code<KeyAlgorithm>(values.algorithm, '--algorithm', KEY_ALGORITHMS);
    const modeOfUse = code<ModeOfUse>(values.mode, '--mode', MODES_OF_USE);
    const exportability = code<Exportability>(values.exportability, '--exportability', EXPORTABILITY);
    const keyVersion = (values['key-version'] ?? '00').trim();
    if (!/^[0-9A-Za-z]{2}$/.test(keyVersion)) throw new CliError(`--key-version must be two alphanumeric characters, got '${keyVersion}'`);
    const optionalBlocks = (values['optional-block'] ?? []).map(parseOptionalBlock);
    const legacy = version === 'A' || version === 'C';
    if (legacy && !values.json) process.stderr.write(`qiandao: key block version ${version} (variant binding) is deprecated; use B or D for anything but tests\n`);
    const block = wrap(kbpk, { version, usage, algorithm, modeOfUse, exportability, keyVersion, optionalBlocks }, key, { allowLegacy: legacy });
    const kcvAlg = kcvAlgOf(algorithm);
    const kcv = kcvAlg ? kcvIfValid(key, kcvAlg) : undefined;
    wipe(key);
    if (values.json) {
      printJson({ block, ...(kcv ? { kcv } : {}) });
      return;
    }
    printRows([
      ['key block', block],
      ['key KCV', kcv],
      ['version', describe(VERSIONS, version)],
    ]);
  },
});

function headerRows(h: KeyBlockHeader): Row[] {
  const rows: Row[] = [
    ['version', describe(VERSIONS, h.version)],
    ['length', h.length],
    ['usage', describe(KEY_USAGES as Record<string, string>, h.usage)],
    ['algorithm', describe(KEY_ALGORITHMS, h.algorithm)],
    ['mode of use', describe(MODES_OF_USE, h.modeOfUse)],
    ['key version', h.keyVersion],
    ['exportability', describe(EXPORTABILITY, h.exportability)],
  ];
  for (const b of h.optionalBlocks) rows.push([`optional block ${b.id}`, b.data]);
  return rows;
}

export const tr31UnwrapCommand = command({
  path: ['crypto', 'tr31', 'unwrap'],
  summary: 'Verify and unwrap a TR-31 / X9.143 key block: header fields, clear key and KCV',
  usage: [
    'qiandao crypto tr31 unwrap --kbpk HEX|- --block STRING [--json]',
    '  --kbpk HEX|-     key block protection key',
    '  --block STRING   the key block (versions A, B, C, D); also a positional argument or stdin (not with --kbpk -)',
    stdinUsage('the value of --kbpk'),
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        kbpk: { type: 'string' },
        block: { type: 'string', short: 'b' },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.block !== undefined && positionals.length > 0) throw new CliError('give the key block once: --block STRING or a positional argument');
    await secretsFromStdin(values, ['kbpk'], {
      stdinData: values.block === undefined && positionals.length === 0 ? { what: 'the key block', instead: '--block STRING or a positional argument' } : undefined,
    });
    const kbpk = await hexOption(values.kbpk, '--kbpk');
    const block = (values.block ?? (positionals.length ? positionals.join('') : await readStdin())).trim();
    if (block === '') throw new CliError('--block is required (as an option, an argument or on standard input)');
    const { header, key } = unwrap(kbpk, block);
    const kcvAlg = kcvAlgOf(header.algorithm);
    const kcv = kcvAlg ? kcvIfValid(key, kcvAlg) : undefined;
    const keyHex = toHex(key);
    wipe(key);
    if (values.json) {
      printJson({
        header: {
          version: header.version,
          length: header.length,
          usage: header.usage,
          algorithm: header.algorithm,
          modeOfUse: header.modeOfUse,
          keyVersion: header.keyVersion,
          exportability: header.exportability,
          optionalBlocks: header.optionalBlocks,
        },
        key: keyHex,
        ...(kcv ? { kcv } : {}),
      });
      return;
    }
    printRows([['key', keyHex], ['KCV', kcv], ...headerRows(header)]);
    clearKeyNotice();
  },
});
