/**
 * `qiandao terminal tmk` — a new terminal master key from freshly generated clear components.
 *
 * The N components (double-length TDES, odd parity) are combined inside the HSM into a TMK; only
 * the LMK-wrapped block and its KCV are stored on the terminal (which also requests a rekey: the
 * working keys under the old TMK are useless). The clear components and their KCVs are printed
 * once, for injection into the terminal by N custodians under dual control.
 *
 * `--export-file F` (TEST ONLY: simulator / test terminals): instead of printing components, write
 * the clear TMK as hex to F (mode 0600) and print only its KCV.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { combineComponents, generateComponents } from '../../../crypto/components.js';
import { appendEvent, setTerminalTmk } from '../../../store/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { HSM_OPTIONS, HSM_USAGE, STORE_USAGE, withStoreAndHsm } from '../../store-options.js';
import { cliActor, merchantNo, orTerminalNotFound, printFields, terminalNo } from './common.js';
import { findTerminal } from './terminal.js';

const USAGE =
  `qiandao terminal tmk --merchant 898110070110001 --terminal 12345678 [--components 2|3] [--export-file FILE] ` +
  `${STORE_USAGE} ${HSM_USAGE}`;

export const terminalTmkCommand: Command = {
  path: ['terminal', 'tmk'],
  summary: 'Generate a new TMK in the HSM from fresh clear components and store it on the terminal',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...HSM_OPTIONS,
        merchant: { type: 'string' },
        terminal: { type: 'string' },
        components: { type: 'string', default: '2' },
        'export-file': { type: 'string' },
      },
    });
    const ref = { merchantNo: merchantNo(values.merchant, USAGE), terminalNo: terminalNo(values.terminal, USAGE) };
    const n = Number(values.components);
    if (n !== 2 && n !== 3) throw new CliError(`--components must be 2 or 3, got '${values.components}'`);
    const exportFile = values['export-file'];
    if (exportFile === '') throw new CliError('--export-file needs a file name');

    const result = await withStoreAndHsm(values, async (db, hsm) => {
      await findTerminal(db, ref);
      const gen = generateComponents(n, 'tdes', 16);
      const parts = gen.components.map((c) => c.component);
      try {
        const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, parts);
        const expected = gen.kcv.toString('hex').toUpperCase();
        if (tmk.kcv !== expected) throw new CliError(`HSM TMK check value ${tmk.kcv} differs from the components' ${expected}`, 1);
        if (exportFile !== undefined) {
          const clear = combineComponents(parts, { alg: 'tdes' });
          try {
            writeFileSync(exportFile, clear.toString('hex').toUpperCase() + '\n', { mode: 0o600 });
            chmodSync(exportFile, 0o600); // an existing file keeps its old mode on write
          } catch (e) {
            throw new CliError(`cannot write --export-file ${exportFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          } finally {
            clear.fill(0);
          }
        }
        await orTerminalNotFound(ref, setTerminalTmk(db, ref, { block: tmk.block, kcv: tmk.kcv }));
        await appendEvent(db, {
          type: 'admin.terminal.tmk',
          ok: true,
          ...ref,
          resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
          ...cliActor(),
          detail: { kcv: tmk.kcv, components: n, exported: exportFile !== undefined },
        });
        const printed =
          exportFile === undefined
            ? gen.components.map((c) => ({ hex: c.component.toString('hex').toUpperCase(), kcv: c.kcv.toString('hex').toUpperCase() }))
            : [];
        return { kcv: tmk.kcv, printed };
      } finally {
        for (const p of parts) p.fill(0);
      }
    });

    if (exportFile !== undefined) {
      process.stderr.write(`qiandao: notice: the clear TMK was written to ${exportFile} (mode 0600) — for simulators and test terminals only\n`);
      printFields([
        ['terminal', `${ref.terminalNo} of merchant ${ref.merchantNo}`],
        ['TMK KCV', result.kcv],
        ['clear TMK', `written to ${exportFile}`],
      ]);
    } else {
      process.stderr.write(
        `qiandao: notice: ${n} CLEAR key components are printed below — hand each to a different custodian under dual control ` +
          'and do not keep copies (terminal, scrollback, logs)\n',
      );
      printFields([
        ['terminal', `${ref.terminalNo} of merchant ${ref.merchantNo}`],
        ...result.printed.map((c, i) => [`component ${i + 1}`, `${c.hex}  KCV ${c.kcv}`] as const),
        ['TMK KCV', result.kcv],
      ]);
    }
    process.stdout.write('rekey requested: the terminal gets new working keys at its next sign-on under this TMK\n');
  },
};
