import { timingSafeEqual } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { BlockAlgorithm } from '../../../crypto/cipher.js';
import { cmac, macX99, macX919, unionPayMac, type Iso9797Padding } from '../../../crypto/mac.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { choice, command, dataInput, hexOption, intOption, kcvHex, optionalHex, orList, printRows, secretsFromStdin, stdinUsage, toHex } from './util.js';

type MacAlg = 'x9.9' | 'x9.19' | 'cup-ecb' | 'aes-cmac' | 'tdes-cmac';

const MAC_ALGS: readonly MacAlg[] = ['x9.9', 'x9.19', 'cup-ecb', 'aes-cmac', 'tdes-cmac'];
const ALIASES: Record<string, MacAlg> = {
  x99: 'x9.9',
  'ansi-x9.9': 'x9.9',
  'iso9797-1': 'x9.9',
  x919: 'x9.19',
  'ansi-x9.19': 'x9.19',
  retail: 'x9.19',
  'iso9797-3': 'x9.19',
  cup: 'cup-ecb',
  unionpay: 'cup-ecb',
  ecb: 'cup-ecb',
  cmac: 'aes-cmac',
  'des-cmac': 'tdes-cmac',
};

interface AlgInfo {
  name: string;
  keyLengths: readonly number[];
  kcvAlg: BlockAlgorithm;
  full: number;
}

const INFO: Record<MacAlg, AlgInfo> = {
  'x9.9': { name: 'ANSI X9.9 (ISO 9797-1 algorithm 1, single DES)', keyLengths: [8], kcvAlg: 'tdes', full: 8 },
  'x9.19': { name: 'ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3)', keyLengths: [16], kcvAlg: 'tdes', full: 8 },
  'cup-ecb': { name: 'UnionPay POS ECB MAC (field 64)', keyLengths: [8, 16], kcvAlg: 'tdes', full: 8 },
  'aes-cmac': { name: 'AES-CMAC (SP 800-38B / RFC 4493)', keyLengths: [16, 24, 32], kcvAlg: 'aes', full: 16 },
  'tdes-cmac': { name: 'TDES-CMAC (SP 800-38B)', keyLengths: [8, 16, 24], kcvAlg: 'tdes', full: 8 },
};

function compute(alg: MacAlg, key: Buffer, data: Buffer, padding: Iso9797Padding | undefined): Buffer {
  switch (alg) {
    case 'x9.9':
      return macX99(key, data, padding ? { padding } : {});
    case 'x9.19':
      return macX919(key, data, padding ? { padding } : {});
    case 'cup-ecb':
      return unionPayMac(key, data);
    case 'aes-cmac':
      return cmac('aes', key, data);
    case 'tdes-cmac':
      return cmac('tdes', key, data);
  }
}

export const macCommand = command({
  path: ['crypto', 'mac'],
  summary: 'Compute or verify a MAC: X9.9, X9.19, UnionPay ECB (field 64), AES/TDES CMAC',
  usage: [
    'qiandao crypto mac --alg x9.9|x9.19|cup-ecb|aes-cmac|tdes-cmac --key HEX|- --data HEX [--padding 1|2] [--length N] [--verify HEX] [--json]',
    '  --key HEX|-      x9.9: 8 bytes; x9.19: 16; cup-ecb: 8 or 16; aes-cmac: 16/24/32; tdes-cmac: 8/16/24',
    '  --data HEX       the MAC input (cup-ecb: MTI through the field before 64); also --text STRING, a positional HEX or stdin (not with --key -)',
    '  --padding 1|2    ISO 9797-1 padding for x9.9/x9.19 (default 1, zeros)',
    '  --length N       print only the leftmost N bytes',
    '  --verify HEX     check this MAC (leftmost bytes, 4 or more) instead; exit 1 on mismatch',
    'cup-ecb prints the 8-byte field-64 value as hex (the ASCII of 8 hex characters) and the ASCII.',
    stdinUsage('the value of --key'),
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        alg: { type: 'string', short: 'a' },
        key: { type: 'string', short: 'k' },
        data: { type: 'string', short: 'd' },
        text: { type: 'string' },
        padding: { type: 'string' },
        length: { type: 'string' },
        verify: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const alg = choice(values.alg, '--alg', MAC_ALGS, undefined, ALIASES);
    const info = INFO[alg];
    const dataOnStdin = values.data === undefined && values.text === undefined && positionals.length === 0;
    await secretsFromStdin(values, ['key'], {
      stdinData: dataOnStdin ? { what: 'the data', instead: '--data HEX, --text STRING or a positional HEX' } : undefined,
    });
    const key = await hexOption(values.key, '--key');
    if (!info.keyLengths.includes(key.length)) {
      throw new CliError(`--key is ${key.length} bytes: ${alg} takes a ${orList(info.keyLengths)}-byte key`);
    }
    let padding: Iso9797Padding | undefined;
    if (values.padding !== undefined) {
      if (alg !== 'x9.9' && alg !== 'x9.19') throw new CliError(`--padding applies to x9.9 and x9.19, not ${alg}`);
      padding = choice(values.padding, '--padding', ['1', '2'] as const) === '1' ? 1 : 2;
    }
    const length = intOption(values.length, '--length', 4, info.full);
    const verify = await optionalHex(values.verify, '--verify');
    if (verify && length !== undefined) throw new CliError('--length and --verify do not go together (the --verify MAC sets the length)');
    if (verify && (verify.length < 4 || verify.length > info.full)) {
      throw new CliError(`--verify MAC is ${verify.length} bytes: ${alg} MACs are 4..${info.full} bytes`);
    }
    const data = await dataInput(values, positionals);
    const full = compute(alg, key, data, padding);
    const keyKcv = kcvHex(key, info.kcvAlg);
    const ascii = alg === 'cup-ecb' ? full.toString('latin1') : undefined;

    if (verify) {
      const ok = timingSafeEqual(full.subarray(0, verify.length), verify);
      if (values.json) {
        printJson({ alg, valid: ok, keyKcv });
      } else {
        printRows([
          ['MAC', ok ? 'valid' : 'MISMATCH'],
          ['algorithm', info.name],
          ['key KCV', keyKcv],
        ]);
      }
      if (!ok) throw new CliError(`MAC does not verify (${alg}, ${verify.length} bytes compared)`, 1);
      return;
    }
    const mac = toHex(full.subarray(0, length ?? full.length));
    if (values.json) {
      printJson({ alg, mac, ...(ascii !== undefined ? { ascii: ascii.slice(0, length ?? 8) } : {}), keyKcv });
      return;
    }
    printRows([
      ['MAC', mac],
      ['ascii', ascii !== undefined ? ascii.slice(0, length ?? 8) : undefined],
      ['algorithm', info.name + (padding === 2 ? ', padding method 2' : '')],
      ['key KCV', keyKcv],
      ['data', `${data.length} bytes`],
    ]);
  },
});
