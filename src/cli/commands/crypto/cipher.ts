import { parseArgs } from 'node:util';
import { blockSize, decrypt, encrypt, type BlockMode } from '../../../crypto/cipher.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import {
  blockAlg,
  checkKeyLength,
  choice,
  clearKeyNotice,
  command,
  dataInput,
  hexOption,
  kcvHex,
  kcvIfValid,
  optionalHex,
  printRows,
  printableAscii,
  secretsFromStdin,
  stdinUsage,
  toHex,
  type Row,
} from './util.js';

function cipherCommand(op: 'encrypt' | 'decrypt'): Command {
  const verb = op === 'encrypt' ? 'Encrypt' : 'Decrypt';
  return command({
    path: ['crypto', op],
    summary: `${verb} hex data (or a key under a KEK) with TDES/AES, ECB or CBC, no padding`,
    usage: [
      `qiandao crypto ${op} (--key HEX|- | --kek HEX|-) --data HEX|- [--alg tdes|aes] [--mode ecb|cbc] [--iv HEX] [--key-alg tdes|aes] [--json]`,
      '  --key HEX|-      the cipher key (TDES 8/16/24 bytes, AES 16/24/32)',
      `  --kek HEX|-      the same, but --data is a key: also prints the KCV of the clear key (${op === 'encrypt' ? 'the --data' : 'the result'})`,
      `  --data HEX|-     a whole number of blocks (8 bytes TDES, 16 AES); also a positional HEX or, unless a - is given, all of stdin${op === 'encrypt' ? '; --text STRING for UTF-8 text' : ''}`,
      '  --mode           ecb (default) or cbc; --iv HEX for cbc (default all zeros)',
      '  --key-alg        algorithm of the wrapped key for its KCV (default: --alg)',
      stdinUsage('the value of --key, --kek or --data', '--key or --kek, then --data'),
    ].join('\n'),
    async run(argv) {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          key: { type: 'string', short: 'k' },
          kek: { type: 'string' },
          data: { type: 'string', short: 'd' },
          ...(op === 'encrypt' ? { text: { type: 'string' as const } } : {}),
          alg: { type: 'string', short: 'a' },
          mode: { type: 'string', short: 'm' },
          iv: { type: 'string' },
          'key-alg': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      });
      if (values.key !== undefined && values.kek !== undefined) throw new CliError('give either --key or --kek, not both');
      const underKek = values.kek !== undefined;
      const alg = blockAlg(values.alg);
      const mode: BlockMode = choice(values.mode, '--mode', ['ecb', 'cbc'] as const, 'ecb');
      const iv = await optionalHex(values.iv, '--iv');
      const bs = blockSize(alg);
      if (iv && mode !== 'cbc') throw new CliError('--iv is only used with --mode cbc');
      if (iv && iv.length !== bs) throw new CliError(`--iv must be ${bs} bytes for ${alg.toUpperCase()}, got ${iv.length}`);
      if (!underKek && values['key-alg'] !== undefined) throw new CliError('--key-alg goes with --kek');
      const given = values as { key?: string; kek?: string; data?: string; text?: string };
      const dataOnStdin = given.data === undefined && given.text === undefined && positionals.length === 0;
      await secretsFromStdin(given, ['key', 'kek', 'data'], {
        stdinData: dataOnStdin ? { what: 'the data', instead: `--data HEX${op === 'encrypt' ? ', --text STRING' : ''}, a positional HEX or --data - (one more line)` } : undefined,
      });
      const key = await hexOption(given.key ?? given.kek, underKek ? '--kek' : '--key');
      checkKeyLength(alg, key, underKek ? '--kek' : '--key');
      const data = await dataInput(given, positionals);
      if (data.length % bs !== 0) {
        throw new CliError(`data is ${data.length} bytes, not a whole number of ${bs}-byte ${alg.toUpperCase()} blocks (no padding is applied)`);
      }
      const result = op === 'encrypt' ? encrypt(alg, mode, key, data, iv) : decrypt(alg, mode, key, data, iv);

      let clearKeyKcv: string | undefined;
      let keyAlg = alg;
      if (underKek) {
        keyAlg = blockAlg(values['key-alg'], '--key-alg');
        const clearKey = op === 'encrypt' ? data : result;
        clearKeyKcv = kcvIfValid(clearKey, keyAlg);
        if (clearKeyKcv === undefined) {
          throw new CliError(`the ${op === 'encrypt' ? 'data' : 'result'} is ${clearKey.length} bytes, not a ${keyAlg.toUpperCase()} key: pass --key-alg, or use --key for plain data`);
        }
      }
      const ivHex = mode === 'cbc' ? toHex(iv ?? Buffer.alloc(bs)) : undefined;
      if (values.json) {
        printJson({
          operation: op,
          alg,
          mode,
          ...(ivHex ? { iv: ivHex } : {}),
          [underKek ? 'kekKcv' : 'keyKcv']: kcvHex(key, alg),
          result: toHex(result),
          ...(underKek ? { keyAlg, kcv: clearKeyKcv } : {}),
        });
        return;
      }
      const rows: Row[] = [
        [underKek ? (op === 'encrypt' ? 'encrypted key' : 'clear key') : 'result', toHex(result)],
        [underKek ? 'key KCV' : 'ascii', underKek ? clearKeyKcv : op === 'decrypt' ? printableAscii(result) : undefined],
        [underKek ? 'KEK KCV' : 'key KCV', kcvHex(key, alg)],
        ['cipher', `${alg.toUpperCase()}-${mode.toUpperCase()}${ivHex ? `, IV ${ivHex}` : ''}`],
      ];
      printRows(rows);
      if (underKek && op === 'decrypt') clearKeyNotice();
    },
  });
}

export const encryptCommand = cipherCommand('encrypt');
export const decryptCommand = cipherCommand('decrypt');
