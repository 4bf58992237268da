import { parseArgs } from 'node:util';
import {
  buildPinBlock,
  buildPinBlockFormat4,
  decryptPinBlock,
  encryptPinBlock,
  parsePinBlock,
  parsePinBlockFormat4,
  type ClearPinBlockFormat,
  type PinBlockFormat,
} from '../../../crypto/pinblock.js';
import { CliError } from '../../errors.js';
import { hexInput, printJson } from '../../io.js';
import { checkKeyLength, clearKeyNotice, command, kcvHex, optionalHex, printRows, secretsFromStdin, stdinUsage, toHex } from './util.js';

const FORMAT_NAMES: Record<PinBlockFormat, string> = {
  0: 'ISO 9564-1 format 0 (ANSI X9.8)',
  1: 'ISO 9564-1 format 1',
  3: 'ISO 9564-1 format 3',
  4: 'ISO 9564-1 format 4 (AES)',
};

function parseFormat(value: string | undefined, required: boolean): PinBlockFormat | undefined {
  if (value === undefined) {
    if (required) throw new CliError('--format is required (0, 1, 3 or 4)');
    return undefined;
  }
  const v = value.trim().replace(/^(iso-?|format-?)/i, '');
  if (v === '0' || v === '1' || v === '3' || v === '4') return Number(v) as PinBlockFormat;
  throw new CliError(`unknown --format '${value}': expected 0, 1, 3 or 4`);
}

/** PINs and PANs: tolerate spaces and dashes as typed from a card. */
const digits = (v: string | undefined): string | undefined => v?.replace(/[\s-]/g, '');

export const pinblockBuildCommand = command({
  path: ['crypto', 'pinblock', 'build'],
  summary: 'Build an ISO 9564-1 PIN block (formats 0, 1, 3; 4 under AES), optionally encrypted',
  usage: [
    'qiandao crypto pinblock build --format 0|1|3|4 --pin DIGITS|- [--pan DIGITS] [--key HEX|-] [--fill HEX] [--json]',
    '  --pin DIGITS|-   the PIN, 4 to 12 digits',
    '  --pan            required for formats 0, 3 and 4 (full PAN, check digit included)',
    '  --key HEX|-      encrypt the block: TDES (8/16/24 bytes) for 0/1/3; AES (16/24/32) required for 4',
    '  --fill HEX       fill digits for format 1 (0-F) or 3 (A-F), 14 minus the PIN length (default random)',
    stdinUsage('the value of --pin or --key', '--pin, then --key'),
  ].join('\n'),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        format: { type: 'string', short: 'f' },
        pin: { type: 'string' },
        pan: { type: 'string' },
        key: { type: 'string', short: 'k' },
        fill: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const format = parseFormat(values.format, true)!;
    await secretsFromStdin(values, ['pin', 'key']);
    const pin = digits(values.pin);
    const pan = digits(values.pan);
    if (pin === undefined) throw new CliError('--pin is required');
    if (pan === undefined && format !== 1) throw new CliError(`--pan is required for format ${format}`);
    const key = await optionalHex(values.key, '--key');
    let clear: Buffer | undefined;
    let encrypted: Buffer | undefined;
    if (format === 4) {
      if (!key) throw new CliError('format 4 is only defined encrypted: give an AES --key');
      if (values.fill !== undefined) throw new CliError('--fill is for formats 1 and 3');
      checkKeyLength('aes', key, '--key');
      encrypted = buildPinBlockFormat4(key, { pin, pan: pan! });
    } else {
      if (key) checkKeyLength('tdes', key, '--key');
      clear = buildPinBlock({
        format,
        pin,
        ...(pan !== undefined ? { pan } : {}),
        ...(values.fill !== undefined ? { fill: values.fill } : {}),
      });
      if (key) encrypted = encryptPinBlock(key, clear);
    }
    const keyKcv = key ? kcvHex(key, format === 4 ? 'aes' : 'tdes') : undefined;
    if (values.json) {
      printJson({
        format,
        ...(clear ? { pinBlock: toHex(clear) } : {}),
        ...(encrypted ? { encryptedPinBlock: toHex(encrypted), keyKcv } : {}),
      });
      return;
    }
    printRows([
      ['clear PIN block', clear ? toHex(clear) : undefined],
      ['encrypted PIN block', encrypted ? toHex(encrypted) : undefined],
      ['key KCV', keyKcv],
      ['format', FORMAT_NAMES[format]],
    ]);
  },
});

export const pinblockParseCommand = command({
  path: ['crypto', 'pinblock', 'parse'],
  summary: 'Recover the PIN from an ISO 9564-1 PIN block (decrypting it first with --key)',
  usage: [
    'qiandao crypto pinblock parse --block HEX [--format 0|1|3|4] [--pan DIGITS] [--key HEX|-] [--json]',
    '  --block HEX      8-byte block (formats 0/1/3) or 16-byte format 4 block; also a positional HEX or stdin (not with --key -)',
    '  --format         expected format (default: from the control nibble; 16-byte blocks are format 4)',
    '  --pan            required for formats 0, 3 and 4',
    '  --key HEX|-      decrypt first: TDES for 0/1/3, AES for format 4 (required)',
    stdinUsage('the value of --key'),
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        block: { type: 'string', short: 'b' },
        format: { type: 'string', short: 'f' },
        pan: { type: 'string' },
        key: { type: 'string', short: 'k' },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.block !== undefined && positionals.length > 0) throw new CliError('give the block once: --block HEX or a positional HEX');
    await secretsFromStdin(values, ['key'], {
      stdinData: values.block === undefined && positionals.length === 0 ? { what: 'the PIN block', instead: '--block HEX or a positional HEX' } : undefined,
    });
    const block = await hexInput(values.block ?? (positionals.length ? positionals.join('') : undefined), '--block');
    const wanted = parseFormat(values.format, false);
    const pan = digits(values.pan);
    const key = await optionalHex(values.key, '--key');
    let format: PinBlockFormat;
    let pin: string;
    let clear: Buffer | undefined;
    if (wanted === 4 || (wanted === undefined && block.length === 16)) {
      if (block.length !== 16) throw new CliError(`a format 4 PIN block is 16 bytes, got ${block.length}`);
      if (!key) throw new CliError('format 4 PIN blocks are encrypted: give the AES --key');
      checkKeyLength('aes', key, '--key');
      if (pan === undefined) throw new CliError('--pan is required for format 4');
      format = 4;
      pin = parsePinBlockFormat4(key, block, pan);
    } else {
      if (block.length !== 8) throw new CliError(`a format 0/1/3 PIN block is 8 bytes, got ${block.length}`);
      if (key) checkKeyLength('tdes', key, '--key');
      clear = key ? decryptPinBlock(key, block) : block;
      const parsed = parsePinBlock(clear, {
        ...(pan !== undefined ? { pan } : {}),
        ...(wanted !== undefined ? { format: wanted as ClearPinBlockFormat } : {}),
      });
      format = parsed.format;
      pin = parsed.pin;
    }
    const keyKcv = key ? kcvHex(key, format === 4 ? 'aes' : 'tdes') : undefined;
    if (values.json) {
      printJson({ format, pin, ...(key && clear ? { pinBlock: toHex(clear) } : {}), ...(keyKcv ? { keyKcv } : {}) });
      return;
    }
    printRows([
      ['PIN', pin],
      ['clear PIN block', key && clear ? toHex(clear) : undefined],
      ['key KCV', keyKcv],
      ['format', FORMAT_NAMES[format]],
    ]);
    clearKeyNotice('clear PIN printed');
  },
});
