import { parseArgs } from 'node:util';
import { wipe } from '../../../crypto/cipher.js';
import { combineComponents, generateComponents } from '../../../crypto/components.js';
import { CliError } from '../../errors.js';
import { hexInput, printJson } from '../../io.js';
import { blockAlg, checkKeyLength, clearKeyNotice, command, intOption, kcvHex, optionalHex, printRows, secretsFromStdin, stdinUsage, toHex, type Row } from './util.js';

export const componentsGenerateCommand = command({
  path: ['crypto', 'components', 'generate'],
  summary: 'Generate random clear key components (split knowledge), each with its KCV, and the combined KCV',
  usage: [
    'qiandao crypto components generate [--count N] [--alg tdes|aes] [--length BYTES] [--json]',
    '  --count N        components, 2..9 (default 2)',
    '  --alg            tdes (default; odd-parity components) or aes',
    '  --length BYTES   key length: TDES 8/16/24, AES 16/24/32 (default 16)',
    'The combined key itself is not printed: combine the components to get it.',
  ].join('\n'),
  run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string', short: 'n' },
        alg: { type: 'string', short: 'a' },
        length: { type: 'string', short: 'l' },
        json: { type: 'boolean', default: false },
      },
    });
    const count = intOption(values.count, '--count', 2, 9) ?? 2;
    const alg = blockAlg(values.alg);
    const length = intOption(values.length, '--length', 1, 64) ?? 16;
    checkKeyLength(alg, Buffer.alloc(length), '--length');
    const gen = generateComponents(count, alg, length);
    const comps = gen.components.map((c) => ({ component: toHex(c.component), kcv: toHex(c.kcv) }));
    gen.components.forEach((c) => wipe(c.component));
    if (values.json) {
      printJson({ alg, length, components: comps, kcv: toHex(gen.kcv) });
      return;
    }
    const rows: Row[] = [['algorithm', `${alg.toUpperCase()}, ${length * 8}-bit key, ${count} components`]];
    comps.forEach((c, i) => rows.push([`component ${i + 1}`, `${c.component}  KCV ${c.kcv}`]));
    rows.push(['combined KCV', toHex(gen.kcv)]);
    printRows(rows);
    clearKeyNotice('clear key components printed');
  },
});

export const componentsCombineCommand = command({
  path: ['crypto', 'components', 'combine'],
  summary: 'XOR clear key components into a key; prints the key and its KCV',
  usage: [
    'qiandao crypto components combine HEX|- HEX|- [HEX|-…] [--alg tdes|aes] [--kcv HEX] [--json]',
    '  HEX|- …          2..9 components of equal length',
    '  --alg            tdes (default; the result gets odd parity) or aes',
    '  --kcv HEX        expected KCV of the combined key (exit 2 when it does not match)',
    stdinUsage('a component (e.g. combine - -)', 'the order of the components'),
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        alg: { type: 'string', short: 'a' },
        kcv: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length < 2) throw new CliError(`give at least two components, got ${positionals.length}`);
    if (positionals.length > 9) throw new CliError(`at most 9 components, got ${positionals.length}`);
    const alg = blockAlg(values.alg);
    const names = positionals.map((_, i) => `component ${i + 1}`);
    const given: Record<string, string | undefined> = Object.fromEntries(positionals.map((p, i) => [names[i]!, p]));
    await secretsFromStdin(given, names, { label: (name) => `${name} (-)` });
    const parts: Buffer[] = [];
    for (const name of names) parts.push(await hexInput(given[name] ?? '', name));
    parts.forEach((p, i) => {
      if (p.length !== parts[0]!.length) throw new CliError(`component ${i + 1} is ${p.length} bytes, component 1 is ${parts[0]!.length}`);
    });
    checkKeyLength(alg, parts[0]!, 'each component');
    const expected = await optionalHex(values.kcv, '--kcv');
    const key = combineComponents(parts, { alg, ...(expected ? { expectedKcv: expected } : {}) });
    parts.forEach((p) => wipe(p));
    const out = { alg, key: toHex(key), kcv: kcvHex(key, alg) };
    wipe(key);
    if (values.json) {
      printJson(out);
      return;
    }
    printRows([
      ['key', out.key],
      ['KCV', out.kcv + (expected ? ' (matches --kcv)' : '')],
      ['algorithm', `${alg.toUpperCase()}, ${parts[0]!.length * 8}-bit key from ${parts.length} components${alg === 'tdes' ? ', odd parity applied' : ''}`],
    ]);
    clearKeyNotice();
  },
});
