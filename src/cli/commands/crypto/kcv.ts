import { parseArgs } from 'node:util';
import { blockSize } from '../../../crypto/cipher.js';
import { kcv, type KcvMethod } from '../../../crypto/kcv.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { blockAlg, checkKeyLength, choice, command, hexOption, intOption, parityText, printRows, secretsFromStdin, stdinUsage, toHex } from './util.js';

export const kcvCommand = command({
  path: ['crypto', 'kcv'],
  summary: 'Key check value of a TDES/AES key (zero-block or CMAC method)',
  usage: [
    'qiandao crypto kcv --key HEX|- [--alg tdes|aes] [--method zero|cmac] [--length N] [--json]',
    '  --key HEX|-      the key (or give it as the only positional argument, HEX or -)',
    '  --alg            tdes (default; 8/16/24-byte key) or aes (16/24/32)',
    '  --method         zero: encrypt a zero block (TDES default); cmac: CMAC of a zero block (AES default, X9.24-1:2017)',
    '  --length N       bytes to keep (default 3 for zero, 5 for cmac)',
    stdinUsage('the value of --key or as the positional key'),
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        key: { type: 'string', short: 'k' },
        alg: { type: 'string', short: 'a' },
        method: { type: 'string' },
        length: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.key !== undefined && positionals.length > 0) throw new CliError('give the key once: --key HEX or a positional HEX');
    const alg = blockAlg(values.alg);
    const given = { key: values.key ?? (positionals.length ? positionals.join('') : undefined) };
    await secretsFromStdin(given, ['key']);
    const key = await hexOption(given.key, '--key');
    checkKeyLength(alg, key, '--key');
    const method: KcvMethod = choice(values.method, '--method', ['zero', 'cmac'] as const, alg === 'aes' ? 'cmac' : 'zero', {
      ecb: 'zero',
      legacy: 'zero',
    });
    const length = intOption(values.length, '--length', 1, blockSize(alg)) ?? (method === 'cmac' ? 5 : 3);
    const value = toHex(kcv(key, { alg, method, length }));
    if (values.json) {
      printJson({ alg, method, length, kcv: value, ...(alg === 'tdes' ? { oddParity: parityText(key) === 'odd' } : {}) });
      return;
    }
    printRows([
      ['KCV', value],
      ['algorithm', `${alg.toUpperCase()}, ${key.length * 8}-bit key`],
      ['method', `${method === 'zero' ? 'zero block (ECB)' : 'CMAC of a zero block'}, ${length} bytes`],
      ['parity', alg === 'tdes' ? parityText(key) : undefined],
    ]);
  },
});
