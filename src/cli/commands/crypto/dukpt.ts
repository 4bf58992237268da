import { parseArgs } from 'node:util';
import { wipe } from '../../../crypto/cipher.js';
import {
  aesDeriveDerivationKey,
  aesDeriveInitialKey,
  aesDeriveWorkingKey,
  aesKsnCounter,
  tdesDeriveIpek,
  tdesDeriveTransactionKey,
  tdesKsnCounter,
  tdesWorkingKeyFromTransactionKey,
  type AesDukptKeyType,
  type AesDukptUsage,
  type TdesDukptUsage,
} from '../../../crypto/dukpt/index.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { choice, clearKeyNotice, command, hexOption, kcvHex, printRows, secretsFromStdin, stdinUsage, toHex, type Row } from './util.js';

const TDES_USAGES: readonly TdesDukptUsage[] = ['pin', 'macRequest', 'macResponse', 'dataRequest', 'dataResponse'];
const TDES_ALIASES: Record<string, TdesDukptUsage> = {
  mac: 'macRequest',
  'mac-request': 'macRequest',
  'mac-response': 'macResponse',
  data: 'dataRequest',
  'data-request': 'dataRequest',
  'data-response': 'dataResponse',
};

const AES_USAGES: readonly AesDukptUsage[] = [
  'pinEncryption',
  'macGeneration',
  'macVerification',
  'macBoth',
  'dataEncrypt',
  'dataDecrypt',
  'dataBoth',
  'keyEncryption',
];
const AES_ALIASES: Record<string, AesDukptUsage> = {
  pin: 'pinEncryption',
  mac: 'macGeneration',
  'mac-generate': 'macGeneration',
  'mac-verify': 'macVerification',
  'mac-both': 'macBoth',
  data: 'dataEncrypt',
  'data-encrypt': 'dataEncrypt',
  'data-decrypt': 'dataDecrypt',
  'data-both': 'dataBoth',
  kek: 'keyEncryption',
  'key-encryption': 'keyEncryption',
};
const AES_KEY_TYPES: readonly AesDukptKeyType[] = ['AES128', 'AES192', 'AES256', 'TDES2', 'TDES3'];
const AES_TYPE_ALIASES: Record<string, AesDukptKeyType> = {
  'aes-128': 'AES128',
  'aes-192': 'AES192',
  'aes-256': 'AES256',
  '2tdea': 'TDES2',
  '3tdea': 'TDES3',
};

export const dukptDeriveCommand = command({
  path: ['crypto', 'dukpt', 'derive'],
  summary: 'Derive DUKPT keys (TDES X9.24-1 or AES X9.24-3) from a BDK or IPEK and a KSN',
  usage: [
    'qiandao crypto dukpt derive (--bdk HEX|- | --ipek HEX|-) --ksn HEX [--scheme tdes|aes] [--usage U] [--key-type T] [--json]',
    '  --bdk HEX|-      base derivation key: TDES 16 bytes; AES 16/24/32',
    '  --ipek HEX|-     or start from the initial key (IPEK / AES IK) instead of the BDK',
    '  --ksn HEX        TDES 10 bytes (20 hex), AES 12 bytes (24 hex); counter 0 prints the initial key only',
    '  --scheme         tdes or aes (default: from the KSN length)',
    '  --usage          tdes: pin (default), mac (= mac-request), mac-response, data (= data-request), data-response',
    '                   aes: pin (default), mac (= mac-generate), mac-verify, mac-both, data (= data-encrypt), data-decrypt, data-both, kek',
    '  --key-type       aes only: AES128 (default), AES192, AES256, TDES2, TDES3',
    stdinUsage('the value of --bdk or --ipek'),
  ].join('\n'),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        bdk: { type: 'string' },
        ipek: { type: 'string' },
        ksn: { type: 'string' },
        scheme: { type: 'string' },
        usage: { type: 'string', short: 'u' },
        'key-type': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if ((values.bdk === undefined) === (values.ipek === undefined)) throw new CliError('give exactly one of --bdk or --ipek');
    const fromBdk = values.bdk !== undefined;
    await secretsFromStdin(values, ['bdk', 'ipek']);
    const base = await hexOption(values.bdk ?? values.ipek, fromBdk ? '--bdk' : '--ipek');
    const ksn = await hexOption(values.ksn, '--ksn');
    const scheme = choice(values.scheme, '--scheme', ['tdes', 'aes'] as const, ksn.length === 12 ? 'aes' : 'tdes');
    const want = scheme === 'tdes' ? 10 : 12;
    if (values.scheme === undefined && ksn.length !== 10 && ksn.length !== 12) {
      throw new CliError(`--ksn is ${ksn.length} bytes: a DUKPT KSN is 10 bytes (TDES, 20 hex digits) or 12 bytes (AES, 24 hex digits)`);
    }
    if (ksn.length !== want) throw new CliError(`--ksn is ${ksn.length} bytes: a ${scheme.toUpperCase()} DUKPT KSN is ${want} bytes (${want * 2} hex digits)`);
    const baseName = fromBdk ? '--bdk' : '--ipek';
    if (scheme === 'tdes' && base.length !== 16) throw new CliError(`${baseName} is ${base.length} bytes: TDES DUKPT uses a 16-byte (double-length) key`);
    if (scheme === 'aes' && ![16, 24, 32].includes(base.length)) throw new CliError(`${baseName} is ${base.length} bytes: AES DUKPT uses a 16, 24 or 32-byte key`);
    const ksnHex = toHex(ksn);

    if (scheme === 'tdes') {
      if (values['key-type'] !== undefined) throw new CliError('--key-type is for AES DUKPT (TDES DUKPT keys are always double-length TDES)');
      const usage = choice(values.usage, '--usage', TDES_USAGES, 'pin', TDES_ALIASES);
      const counter = tdesKsnCounter(ksn);
      const ipek = fromBdk ? tdesDeriveIpek(base, ksn) : Buffer.from(base);
      const out: Record<string, unknown> = { scheme, ksn: ksnHex, counter, ipek: toHex(ipek), ipekKcv: kcvHex(ipek, 'tdes') };
      if (counter !== 0) {
        const tk = tdesDeriveTransactionKey(ipek, ksn);
        const wk = tdesWorkingKeyFromTransactionKey(tk, usage);
        Object.assign(out, { transactionKey: toHex(tk), usage, workingKey: toHex(wk), workingKeyKcv: kcvHex(wk, 'tdes') });
        wipe(tk, wk);
      }
      wipe(ipek);
      if (values.json) {
        printJson(out);
        return;
      }
      const rows: Row[] = [
        ['scheme', 'TDES DUKPT (ANSI X9.24-1:2009)'],
        ['KSN', `${ksnHex}  (counter ${counter})`],
        ['IPEK', `${out.ipek as string}  KCV ${out.ipekKcv as string}`],
      ];
      if (counter === 0) {
        rows.push(['working key', 'none: counter 0 names no transaction key (the first transaction uses counter 1)']);
      } else {
        rows.push(
          ['transaction key', out.transactionKey as string],
          [`${usage} key`, `${out.workingKey as string}  KCV ${out.workingKeyKcv as string}`],
        );
      }
      printRows(rows);
      clearKeyNotice();
      return;
    }

    const usage = choice(values.usage, '--usage', AES_USAGES, 'pinEncryption', AES_ALIASES);
    const keyType = choice(values['key-type'], '--key-type', AES_KEY_TYPES, 'AES128', AES_TYPE_ALIASES);
    const counter = aesKsnCounter(ksn);
    const ik = fromBdk ? aesDeriveInitialKey(base, ksn.subarray(0, 8)) : Buffer.from(base);
    const out: Record<string, unknown> = {
      scheme,
      ksn: ksnHex,
      initialKeyId: toHex(ksn.subarray(0, 8)),
      counter,
      initialKey: toHex(ik),
      initialKeyKcv: kcvHex(ik, 'aes'),
    };
    if (counter !== 0) {
      const wk = aesDeriveWorkingKey(ik, ksn, usage, keyType);
      const dk = aesDeriveDerivationKey(ik, ksn);
      Object.assign(out, {
        derivationKey: toHex(dk),
        usage,
        keyType,
        workingKey: toHex(wk),
        workingKeyKcv: kcvHex(wk, keyType.startsWith('AES') ? 'aes' : 'tdes'),
      });
      wipe(wk, dk);
    }
    wipe(ik);
    if (values.json) {
      printJson(out);
      return;
    }
    const rows: Row[] = [
      ['scheme', 'AES DUKPT (ANSI X9.24-3-2017)'],
      ['KSN', `${ksnHex}  (initial key ID ${out.initialKeyId as string}, counter ${counter})`],
      ['initial key', `${out.initialKey as string}  KCV ${out.initialKeyKcv as string}`],
    ];
    if (counter === 0) {
      rows.push(['working key', 'none: counter 0 names no transaction key (the first transaction uses counter 1)']);
    } else {
      rows.push(
        ['derivation key', out.derivationKey as string],
        [`${usage} key`, `${out.workingKey as string}  KCV ${out.workingKeyKcv as string}  (${keyType})`],
      );
    }
    printRows(rows);
    clearKeyNotice();
  },
});
